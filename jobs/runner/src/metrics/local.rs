//! Series kept in this process since it started: counters, gauges and
//! histograms, updated from the runner, the webhook handlers and the S3
//! archive. Prometheus sums them across replicas.

use std::{
    collections::BTreeMap,
    sync::{LazyLock, Mutex, MutexGuard, PoisonError},
};

/// Label pairs of one series, in a fixed order.
pub type Labels = Vec<(&'static str, String)>;
pub type Key = (&'static str, Labels);

/// Upper bounds of the job duration buckets, in seconds: from a fast upsert
/// (a few ms) to a long list walk (minutes).
pub const DURATION_BUCKETS: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Per bucket of [`DURATION_BUCKETS`], not cumulative.
    pub buckets: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

#[derive(Clone, Default)]
pub struct Local {
    pub counters: BTreeMap<Key, u64>,
    pub gauges: BTreeMap<Key, i64>,
    pub histograms: BTreeMap<Key, Histogram>,
}

impl Local {
    /// The series of `name`, in label order.
    pub fn counters_of(&self, name: &str) -> impl Iterator<Item = (&Labels, u64)> {
        self.counters.iter().filter(move |((n, _), _)| *n == name).map(|((_, l), v)| (l, *v))
    }

    pub fn gauges_of(&self, name: &str) -> impl Iterator<Item = (&Labels, i64)> {
        self.gauges.iter().filter(move |((n, _), _)| *n == name).map(|((_, l), v)| (l, *v))
    }

    pub fn histograms_of(&self, name: &str) -> impl Iterator<Item = (&Labels, &Histogram)> {
        self.histograms.iter().filter(move |((n, _), _)| *n == name).map(|((_, l), v)| (l, v))
    }
}

static LOCAL: LazyLock<Mutex<Local>> = LazyLock::new(Mutex::default);

/// A panic elsewhere must not stop the metrics: a poisoned lock is taken over.
fn lock() -> MutexGuard<'static, Local> {
    LOCAL.lock().unwrap_or_else(PoisonError::into_inner)
}

pub fn add(name: &'static str, labels: Labels, n: u64) {
    *lock().counters.entry((name, labels)).or_default() += n;
}

pub fn gauge_add(name: &'static str, labels: Labels, delta: i64) {
    *lock().gauges.entry((name, labels)).or_default() += delta;
}

pub fn observe(name: &'static str, labels: Labels, value: f64) {
    let mut local = lock();
    let h = local.histograms.entry((name, labels)).or_default();
    if h.buckets.is_empty() {
        h.buckets = vec![0; DURATION_BUCKETS.len()];
    }
    if let Some(i) = DURATION_BUCKETS.iter().position(|le| value <= *le) {
        h.buckets[i] += 1;
    }
    h.sum += value;
    h.count += 1;
}

/// A consistent copy for one scrape.
pub fn snapshot() -> Local {
    lock().clone()
}
