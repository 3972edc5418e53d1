//! The preflight, `drchrono-sync check`: every part the service depends on,
//! in one table, each OK, FAIL (with its fix) or OFF (deliberately not
//! configured). The service runs the same checks at start and logs one line
//! per part.
//!
//! A check never changes what it checks, with one exception that is the
//! point: S3 gets one marker object, since the uploader may only PutObject
//! and a put is the only proof it can. Tokens are never refreshed (a refresh
//! rotates the pair). No part prints a secret, a token or PHI.

mod parts;
mod reachability;

use sqlx::{PgPool, postgres::PgPoolOptions};
use std::time::Duration;

use crate::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Fail,
    Off,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Fail => "FAIL",
            Status::Off => "OFF",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do, for a failure (and for an OFF part, how to turn it on).
    pub fix: Option<String>,
    /// A failure of this part makes the check exit non-zero.
    pub required: bool,
}

impl Part {
    pub(crate) fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self { name, status: Status::Ok, detail: detail.into(), fix: None, required: true }
    }

    pub(crate) fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { name, status: Status::Fail, detail: detail.into(), fix: Some(fix.into()), required: true }
    }

    pub(crate) fn off(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { name, status: Status::Off, detail: detail.into(), fix: Some(fix.into()), required: false }
    }

    /// A failure here is reported but does not fail the check.
    pub(crate) fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub parts: Vec<Part>,
}

impl Report {
    /// No required part failed.
    pub fn passed(&self) -> bool {
        !self.parts.iter().any(|p| p.required && p.status == Status::Fail)
    }

    /// What `drchrono-sync check` exits with: 1 when a required part failed.
    pub fn exit_code(&self) -> i32 {
        if self.passed() { 0 } else { 1 }
    }

    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// The table `check` prints, failures followed by their fix.
    pub fn render(&self) -> String {
        let width = self.parts.iter().map(|p| p.name.len()).max().unwrap_or(4).max(4);
        let mut out = format!("{:<width$}  {:<6}  DETAIL\n", "PART", "STATUS");
        for p in &self.parts {
            out.push_str(&format!("{:<width$}  {:<6}  {}\n", p.name, p.status.as_str(), p.detail));
            if let (Some(fix), Status::Fail) = (&p.fix, p.status) {
                out.push_str(&format!("{:<width$}  {:<6}  fix: {fix}\n", "", ""));
            }
        }
        let verdict =
            if self.passed() { "all required parts OK" } else { "a required part FAILED; see the fixes above" };
        out.push_str(&format!("\n{verdict}\n"));
        out
    }

    /// One log line per part, as the service does at start.
    pub fn log(&self) {
        for p in &self.parts {
            let (status, fix) = (p.status.as_str(), p.fix.as_deref().unwrap_or(""));
            match p.status {
                Status::Fail => tracing::warn!(part = p.name, status, fix, "preflight: {}", p.detail),
                _ => tracing::info!(part = p.name, status, "preflight: {}", p.detail),
            }
        }
    }
}

/// `drchrono-sync check`: connects by itself, so an unreachable database is
/// a row of the table rather than an error.
pub async fn run(settings: &Settings) -> Report {
    let pool = match settings.database_url() {
        Ok(url) => PgPoolOptions::new().max_connections(2).acquire_timeout(Duration::from_secs(5)).connect(url).await,
        Err(_) => {
            let part = Part::fail(
                "database",
                "DATABASE_URL is not set",
                "set DATABASE_URL (`cargo xtask db url` finds or starts one)",
            );
            return run_with(settings, Err(part)).await;
        }
    };
    match pool {
        Ok(pool) => run_with(settings, Ok(&pool)).await,
        Err(e) => {
            let detail = format!("cannot connect ({})", job_runner::describe_db_error(&e));
            run_with(settings, Err(Part::fail("database", detail, "start Postgres or correct DATABASE_URL"))).await
        }
    }
}

/// Every part, on `pool` (or, when the database is unreachable, with the
/// row that says so and the parts that need it failed as such).
pub async fn run_with(settings: &Settings, pool: Result<&PgPool, Part>) -> Report {
    let mut parts = Vec::new();
    match pool {
        Ok(pool) => {
            parts.push(Part::ok("database", "reachable"));
            parts.push(parts::migrations(pool).await);
            parts.push(parts::tokens(pool, settings).await);
            parts.push(parts::scopes(pool, settings).await);
        }
        Err(database) => {
            parts.push(database);
            for name in ["migrations", "drchrono tokens"] {
                parts.push(Part::fail(name, "not checked: the database is unreachable", "fix the database first"));
            }
        }
    }
    parts.extend(parts::inbound(settings));
    parts.push(reachability::s3(settings).await);
    parts.push(reachability::otlp(settings).await);
    parts.push(Part::ok("practice time zone", settings.practice_timezone.name()));
    Report { parts }
}
