//! The progress display of `cargo xtask sync`: one line per kind, and the
//! calls left in this hour's reconciliation share.

use std::{io::IsTerminal as _, time::Duration};

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use jobs::domain::RecordKind;
use sqlx::PgPool;

/// One line per kind: a bar on a terminal, plain lines every few seconds otherwise.
pub struct Bars {
    names: Vec<&'static str>,
    bars: Option<Vec<ProgressBar>>,
    last_line: std::sync::Mutex<std::time::Instant>,
}

impl Bars {
    pub fn new(kinds: &[RecordKind]) -> Self {
        let names: Vec<&'static str> = kinds.iter().map(|k| k.table()).collect();
        let bars = std::io::stderr().is_terminal().then(|| {
            let multi = MultiProgress::new();
            let style = ProgressStyle::with_template("{spinner} {prefix:>15} {msg}").expect("valid template");
            names
                .iter()
                .map(|name| {
                    let bar = multi.add(ProgressBar::new_spinner().with_style(style.clone()).with_prefix(*name));
                    bar.set_message("waiting");
                    bar
                })
                .collect()
        });
        Self { names, bars, last_line: std::sync::Mutex::new(std::time::Instant::now()) }
    }

    pub fn set(&self, i: usize, message: String) {
        match &self.bars {
            Some(bars) => {
                bars[i].set_message(message);
                bars[i].tick();
            }
            None => {
                let mut last = self.last_line.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if last.elapsed() > Duration::from_secs(2) {
                    eprintln!("sync: {}: {message}", self.names[i]);
                    *last = std::time::Instant::now();
                }
            }
        }
    }

    pub fn finish(&self, i: usize, message: String) {
        match &self.bars {
            Some(bars) => bars[i].finish_with_message(message),
            None => eprintln!("sync: {}: {message}", self.names[i]),
        }
    }
}

/// The reconciliation share of the hourly budget, for "calls left".
pub struct Budget {
    pub allowed: i64,
}

impl Budget {
    pub fn of(settings: &server::Settings) -> Self {
        let allowed = jobs::drchrono::budget::allowance(
            settings.drchrono_calls_per_hour,
            settings.drchrono_reconcile_percent,
            jobs::drchrono::Priority::Reconcile,
        );
        Self { allowed: i64::from(allowed) }
    }

    pub async fn left(&self, pool: &PgPool) -> Result<i64> {
        let status = jobs::drchrono::budget_status(pool).await?;
        Ok((self.allowed - status.used).max(0))
    }
}
