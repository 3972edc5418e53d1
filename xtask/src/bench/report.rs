//! The one JSON line each benchmark prints on stdout, in the format of
//! `shared/bench/README.md`, and the statistics that go into it.
//!
//! The line is a struct rather than `json!`: serde_json without its
//! `preserve_order` feature sorts map keys, and the README (and the peers)
//! put `system` first. Turning that feature on for xtask would switch it on
//! for the whole workspace, so a derived struct keeps the order instead.

use serde::Serialize;

/// The system name this project's lines carry.
pub const SYSTEM: &str = "drchrono-sync";

/// The peer harness (`shared/bench/peers/run.sh`) files each result under
/// its folder name, `project`; it sets `BENCH_SYSTEM` so the names agree.
pub fn system() -> String {
    std::env::var("BENCH_SYSTEM").unwrap_or_else(|_| SYSTEM.to_string())
}

#[derive(Debug, Serialize)]
pub struct Line {
    pub system: String,
    pub workload: &'static str,
    pub jobs: usize,
    pub concurrency: usize,
    pub seconds: f64,
    /// `None` (null) for the latency workload.
    pub jobs_per_sec: Option<f64>,
    /// `None` (null) for throughput workloads.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub version: String,
    pub config: RunConfig,
}

/// The runner settings a figure was measured with, so tuning can be compared.
#[derive(Debug, Clone, Serialize)]
pub struct RunConfig {
    pub batch_size: usize,
    pub poll_ms: u64,
    pub pool_size: u32,
    /// `release` unless someone forced a debug build with `XTASK_RELEASE=1`.
    pub build: &'static str,
}

impl Line {
    /// A throughput figure: N jobs in `seconds`.
    pub fn throughput(
        workload: &'static str,
        jobs: usize,
        concurrency: usize,
        seconds: f64,
        config: RunConfig,
    ) -> Self {
        Self::new(workload, jobs, concurrency, seconds, Some(r3(jobs as f64 / seconds)), None, None, config)
    }

    /// A latency figure from the enqueue → handler-start samples in ms.
    pub fn latency(jobs: usize, concurrency: usize, seconds: f64, samples: &[f64], config: RunConfig) -> Self {
        let (p50, p99) = (percentile(samples, 50.0), percentile(samples, 99.0));
        Self::new("latency", jobs, concurrency, seconds, None, p50.map(r3), p99.map(r3), config)
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        workload: &'static str,
        jobs: usize,
        concurrency: usize,
        seconds: f64,
        jobs_per_sec: Option<f64>,
        p50_ms: Option<f64>,
        p99_ms: Option<f64>,
        config: RunConfig,
    ) -> Self {
        Self {
            system: system(),
            workload,
            jobs,
            concurrency,
            seconds: r3(seconds),
            jobs_per_sec,
            p50_ms,
            p99_ms,
            version: format!("drchrono-sync {} (apalis-postgres 1.0.0)", env!("CARGO_PKG_VERSION")),
            config,
        }
    }

    /// Prints the line on stdout (logs go to stderr, so stdout stays parseable).
    pub fn emit(&self) {
        println!("{}", serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")));
    }
}

/// The p-th percentile with linear interpolation between closest ranks
/// (numpy's default, and what the peers use), so figures compare like for like.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = (p / 100.0).clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (rank - lo as f64))
}

/// The `q` quantile (0 to 1) of sorted `times` by nearest rank, in
/// milliseconds to two places: what the page and search benchmarks print.
pub fn nearest_rank_ms(times: &[std::time::Duration], q: f64) -> f64 {
    let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len().max(1)) - 1;
    times.get(i).map_or(0.0, |d| (d.as_secs_f64() * 100_000.0).round() / 100.0)
}

/// The build a figure came from: `release`, unless someone forced a debug
/// build with `XTASK_RELEASE=1`.
pub fn build() -> &'static str {
    if cfg!(debug_assertions) { "debug" } else { "release" }
}

/// Three decimals, as the peers print.
pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn percentile_interpolates_linearly() {
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect(); // unsorted on purpose
        assert!(close(percentile(&v, 50.0), 50.5));
        assert!(close(percentile(&v, 99.0), 99.01));
        assert!(close(percentile(&v, 0.0), 1.0));
        assert!(close(percentile(&v, 100.0), 100.0));
        assert!(close(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.5));
    }

    #[test]
    fn percentile_edge_cases() {
        assert_eq!(percentile(&[], 50.0), None);
        assert!(close(percentile(&[7.0], 99.0), 7.0));
    }

    #[test]
    fn line_matches_readme_shape() {
        let cfg = RunConfig { batch_size: 50, poll_ms: 500, pool_size: 14, build: "release" };
        let line = serde_json::to_string(&Line::throughput("drain", 10_000, 10, 1.62, cfg.clone())).unwrap();
        assert!(line.starts_with(r#"{"system":"drchrono-sync","workload":"drain","jobs":10000,"concurrency":10,"seconds":1.62,"jobs_per_sec":6172.84,"p50_ms":null,"p99_ms":null,"#), "{line}");
        let lat = serde_json::to_value(Line::latency(4, 10, 1.0, &[1.0, 2.0, 3.0, 4.0], cfg)).unwrap();
        assert!(lat["jobs_per_sec"].is_null());
        assert_eq!(lat["p50_ms"], 2.5);
        assert_eq!(lat["config"]["batch_size"], 50);
    }
}
