//! DrChrono deliveries admitted together in the caller's transaction: the
//! webhook route's group commit hands over every delivery that arrived
//! while the previous commit was under way, and a replay hands over one.
//! Whatever the count, the statements are the same five: lock the copies'
//! identities, find the jobs earlier copies made, insert the jobs, find
//! the active jobs that hold the keys of those left out, insert the inbox
//! rows. Each delivery's outcome is the one it would get alone, in the
//! order given: a later copy in the same batch is a duplicate of the first.

use job_runner::{JobRow, active_jobs_with_keys, enqueue_rows};
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use tracing::Span;

use super::{
    Admission, Delivery, Outcome,
    drchrono_events::{Route, facts, route},
    json_guard,
    store::{self, Row},
};
use crate::catalog::UpsertRecord;

const SEEN_BEFORE: &str = "delivery id seen before";

/// What a delivery's body says, read before any I/O.
struct Read {
    body: Result<Value, String>,
    event: String,
}

fn read(d: &Delivery<'_>) -> Read {
    let body = match serde_json::from_slice(d.body) {
        Ok(v @ Value::Object(_)) => match json_guard::nul_field(&v) {
            Some(field) => Err(json_guard::nul_message(&field)),
            None => Ok(v),
        },
        Ok(_) | Err(_) => Err("body is not a JSON object".to_string()),
    };
    let event = match &body {
        Ok(v) => event_of(d.event, v),
        Err(_) => String::new(),
    };
    Read { body, event }
}

/// The delivery's event: the body's, when the body names one. The header
/// is not covered by the signature, so a signed body replayed under another
/// `X-drchrono-event` must not turn one event into another.
fn event_of(header: Option<&str>, body: &Value) -> String {
    let named = body.get("event").and_then(Value::as_str).filter(|e| !e.is_empty());
    if let (Some(header), Some(named)) = (header, named)
        && header != named
    {
        tracing::warn!(header, body = named, "X-drchrono-event differs from the body's event; the body's is used");
    }
    named.or(header).unwrap_or_default().to_string()
}

/// What becomes of one delivery.
enum Fate {
    Malformed(String),
    /// An earlier copy, stored before this batch, made this job.
    SeenBefore(String),
    /// The same delivery earlier in this batch; its position.
    CopyOf(usize),
    /// Stored with no job (ping, not modelled, unhandled).
    Kept(Outcome, Option<&'static str>),
    /// Its job is the row at this position of the batch's job rows.
    Enqueued(usize),
}

/// Admits verified DrChrono `deliveries` in `tx`, each in the trace of its
/// span in `spans`; the admissions come back in the same order.
pub async fn admit_all(
    tx: &mut PgConnection,
    deliveries: Vec<Delivery<'_>>,
    spans: &[Span],
) -> Result<Vec<Admission>, sqlx::Error> {
    let reads: Vec<Read> = deliveries.iter().map(read).collect();
    let routes: Vec<Option<Route>> =
        reads.iter().map(|r| r.body.as_ref().ok().map(|body| route(&r.event, body))).collect();
    let ds: Vec<Delivery<'_>> = deliveries
        .into_iter()
        .zip(&reads)
        .zip(&routes)
        .map(|((d, r), route)| with_facts(d, r, route.as_ref()))
        .collect();
    let previous = previous_jobs(tx, &ds, &routes).await?;
    let (fates, jobs) = decide(&ds, &reads, routes, &previous, spans)?;
    let enqueued = enqueue(tx, &jobs).await?;
    drop(jobs);
    let admissions = store_rows(tx, &ds, &fates, &enqueued).await?;
    for (a, span) in admissions.iter().zip(spans) {
        span.in_scope(|| log(a));
    }
    Ok(admissions)
}

/// The delivery with what its body says: the event, and the object the
/// inbox row names.
fn with_facts<'a>(d: Delivery<'a>, r: &'a Read, route: Option<&Route>) -> Delivery<'a> {
    let (Ok(body), Some(route)) = (&r.body, route) else { return d };
    let object = facts(route, body);
    Delivery {
        event: Some(&r.event),
        object_id: object.object_id,
        record_kind: object.kind.map(|k| k.name()),
        patient_id: object.patient_id,
        object_updated_at: object.updated_at,
        ..d
    }
}

/// The jobs earlier copies made, by identity, with every identity locked.
async fn previous_jobs(
    tx: &mut PgConnection,
    ds: &[Delivery<'_>],
    routes: &[Option<Route>],
) -> Result<HashMap<String, String>, sqlx::Error> {
    let admitted = || ds.iter().zip(routes).filter(|(_, r)| r.is_some()).map(|(d, _)| d);
    let mut identities: Vec<String> = admitted().filter_map(store::identity).collect();
    identities.sort_unstable();
    identities.dedup();
    store::lock_identities(tx, &identities).await?;
    let ids: Vec<(&str, &str)> = admitted().filter_map(|d| Some((d.source, d.delivery_id?))).collect();
    let mut previous: HashMap<String, String> = store::jobs_of_deliveries(tx, &ids)
        .await?
        .into_iter()
        .map(|(source, delivery_id, job)| (format!("{source}:{delivery_id}"), job))
        .collect();
    // Replays of deliveries that carry no id: rare, operator-driven.
    for d in admitted().filter(|d| d.delivery_id.is_none()) {
        if let (Some(original), Some(identity)) = (d.replay_of, store::identity(d))
            && let Some(job) = store::job_of_original(&mut *tx, original).await?
        {
            previous.insert(identity, job);
        }
    }
    Ok(previous)
}

/// Each delivery's fate, and the job rows to insert.
fn decide(
    ds: &[Delivery<'_>],
    reads: &[Read],
    routes: Vec<Option<Route>>,
    previous: &HashMap<String, String>,
    spans: &[Span],
) -> Result<(Vec<Fate>, Vec<JobRow>), sqlx::Error> {
    let (mut fates, mut jobs) = (Vec::with_capacity(ds.len()), Vec::new());
    let mut first_with_job: HashMap<String, usize> = HashMap::new();
    for (i, (route, read)) in routes.into_iter().zip(reads).enumerate() {
        let identity = store::identity(&ds[i]);
        let seen = identity.as_ref().and_then(|id| previous.get(id));
        let copy_of = identity.as_ref().and_then(|id| first_with_job.get(id));
        let fate = match (route, seen, copy_of) {
            (None, _, _) => Fate::Malformed(read.body.as_ref().err().cloned().unwrap_or_default()),
            (Some(_), Some(job), _) => Fate::SeenBefore(job.clone()),
            (Some(_), None, Some(first)) => Fate::CopyOf(*first),
            (Some(route), None, None) => match job_of(route) {
                Err((outcome, reason)) => Fate::Kept(outcome, reason),
                Ok(job) => {
                    jobs.push(job.row(&spans[i])?);
                    if let Some(identity) = identity {
                        first_with_job.insert(identity, jobs.len() - 1);
                    }
                    Fate::Enqueued(jobs.len() - 1)
                }
            },
        };
        fates.push(fate);
    }
    Ok((fates, jobs))
}

/// The job a delivery's route makes.
enum Job {
    Fetch(crate::catalog::FetchRecord),
    Upsert(UpsertRecord),
}

impl Job {
    fn row(&self, span: &Span) -> Result<JobRow, sqlx::Error> {
        match self {
            Self::Fetch(job) => JobRow::new(job, span),
            Self::Upsert(job) => JobRow::new(job, span),
        }
    }
}

/// The job a route makes, or the outcome and reason of one that makes none.
fn job_of(route: Route) -> Result<Job, (Outcome, Option<&'static str>)> {
    match route {
        Route::Ping => Err((Outcome::Ping, None)),
        Route::NotModelled => Err((Outcome::NotModelled, Some("DrChrono event for data this service does not mirror"))),
        Route::Unhandled(why) => Err((Outcome::Unhandled, Some(why))),
        Route::Fetch(job) => Ok(Job::Fetch(job)),
        Route::Upsert { kind, object_id, updated_at } => Ok(Job::Upsert(UpsertRecord { kind, object_id, updated_at })),
    }
}

/// A job row's fate: the job's id (new, or the active one holding its
/// key), the delivery's outcome, and the job's queue.
struct Enqueued {
    job_id: String,
    outcome: Outcome,
    queue: &'static str,
}

/// Inserts the job rows; for each, its id and whether it is new, or the
/// active job that already holds its key.
async fn enqueue(tx: &mut PgConnection, jobs: &[JobRow]) -> Result<Vec<Enqueued>, sqlx::Error> {
    let inserted: HashSet<String> = enqueue_rows(&mut *tx, jobs).await?.into_iter().collect();
    let left_out: Vec<(&str, &str)> = jobs
        .iter()
        .filter(|j| !inserted.contains(&j.id))
        .map(|j| (j.job_type, j.key.as_deref().unwrap_or_default()))
        .collect();
    let holders: HashMap<(String, String), String> = active_jobs_with_keys(&mut *tx, &left_out)
        .await?
        .into_iter()
        .map(|(job_type, key, id)| ((job_type, key), id))
        .collect();
    let enqueued = |j: &JobRow| {
        if inserted.contains(&j.id) {
            return Enqueued { job_id: j.id.clone(), outcome: Outcome::Accepted, queue: j.job_type };
        }
        let key = (j.job_type.to_string(), j.key.clone().unwrap_or_default());
        let job_id = holders.get(&key).cloned().unwrap_or_default();
        Enqueued { job_id, outcome: Outcome::Duplicate, queue: j.job_type }
    };
    Ok(jobs.iter().map(enqueued).collect())
}

/// The admission of a delivery of fate `fate`, before its inbox id is known.
fn admission(d: &Delivery<'_>, fate: &Fate, enqueued: &[Enqueued]) -> Admission {
    let (outcome, reason, job_id, queue) = match fate {
        Fate::Malformed(reason) => (Outcome::Malformed, Some(reason.clone()), None, None),
        Fate::SeenBefore(job) => (Outcome::Duplicate, Some(SEEN_BEFORE.into()), Some(job.clone()), None),
        Fate::CopyOf(j) => (Outcome::Duplicate, Some(SEEN_BEFORE.into()), Some(enqueued[*j].job_id.clone()), None),
        Fate::Kept(outcome, reason) => (*outcome, reason.map(str::to_string), None, None),
        Fate::Enqueued(j) => {
            let e = &enqueued[*j];
            (e.outcome, None, Some(e.job_id.clone()), Some(e.queue))
        }
    };
    Admission { inbox_id: 0, outcome, reason, job_id, queue, record_kind: d.record_kind, object_id: d.object_id }
}

/// Writes the inbox rows and returns the admissions with their inbox ids.
async fn store_rows(
    tx: &mut PgConnection,
    ds: &[Delivery<'_>],
    fates: &[Fate],
    enqueued: &[Enqueued],
) -> Result<Vec<Admission>, sqlx::Error> {
    let mut admissions: Vec<Admission> = ds.iter().zip(fates).map(|(d, fate)| admission(d, fate, enqueued)).collect();
    let rows: Vec<Row> = ds
        .iter()
        .zip(&admissions)
        .map(|(d, a)| Row {
            delivery: d,
            outcome: a.outcome.name(),
            reason: a.reason.as_deref(),
            job_id: a.job_id.as_deref(),
        })
        .collect();
    let ids = store::record_many(&mut *tx, &rows).await?;
    for (a, id) in admissions.iter_mut().zip(ids) {
        a.inbox_id = id;
    }
    Ok(admissions)
}

/// The log line of an admitted delivery: ids, names and fixed reasons only.
fn log(a: &Admission) {
    let (id, outcome) = (a.inbox_id, a.outcome.name());
    match (a.outcome, a.reason.as_deref()) {
        (Outcome::Malformed, reason) => {
            tracing::warn!(inbox_id = id, source = "drchrono", reason, "delivery malformed")
        }
        (_, Some(SEEN_BEFORE)) => tracing::info!(inbox_id = id, job_id = a.job_id, "delivery is a duplicate"),
        _ => tracing::info!(
            inbox_id = id,
            object_id = a.object_id,
            job_id = a.job_id,
            outcome,
            "DrChrono delivery stored"
        ),
    }
}
