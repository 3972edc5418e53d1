//! How long what the service keeps is kept: each a `RETENTION_*` variable
//! with a default, applied by the `cleanup` job. `change_log` and
//! `sync_runs` are the audit and are not pruned here.

use clap::Args;
use jobs::catalog::Cleanup;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Retention (days; `cleanup` applies them)")]
pub struct RetentionSettings {
    /// Finished (done or dead) jobs with their attempt history, and old scheduler ticks.
    #[arg(long, env = "RETENTION_JOB_DAYS", default_value_t = 30, value_parser = days())]
    pub retention_job_days: i32,

    /// Verified webhook deliveries (DrChrono, Deep Cura), bodies included.
    #[arg(long, env = "RETENTION_DELIVERY_DAYS", default_value_t = 90, value_parser = days())]
    pub retention_delivery_days: i32,

    /// Deliveries that failed authentication (they keep headers, size and hash, no body).
    #[arg(long, env = "RETENTION_REJECTED_DAYS", default_value_t = 7, value_parser = days())]
    pub retention_rejected_days: i32,

    /// Bodies of write-API requests (`write_requests.body`); the rows stay.
    #[arg(long, env = "RETENTION_WRITE_REQUEST_DAYS", default_value_t = 90, value_parser = days())]
    pub retention_write_request_days: i32,

    /// Bodies and notes of partner appointment events; the rows stay.
    #[arg(long, env = "RETENTION_APPOINTMENT_EVENT_DAYS", default_value_t = 90, value_parser = days())]
    pub retention_appointment_event_days: i32,

    /// Deep Cura note text (transcript and SOAP sections, sealed in `raw_sealed`); codes and link stay.
    #[arg(long, env = "RETENTION_DEEPCURA_TEXT_DAYS", default_value_t = 365, value_parser = days())]
    pub retention_deepcura_text_days: i32,

    /// Old and new values in `change_log`, when AUDIT_VALUES keeps them; the entry stays.
    #[arg(long, env = "RETENTION_AUDIT_VALUES_DAYS", default_value_t = 30, value_parser = days())]
    pub retention_audit_values_days: i32,

    /// Objects without a numeric id that no walk has listed for this long.
    #[arg(long, env = "RETENTION_UNKEYED_DAYS", default_value_t = 90, value_parser = days())]
    pub retention_unkeyed_days: i32,
}

/// At least a day: zero or a negative age would prune everything at once.
fn days() -> clap::builder::RangedI64ValueParser<i32> {
    clap::value_parser!(i32).range(1..)
}

impl RetentionSettings {
    /// The cleanup job these settings ask for.
    pub fn cleanup(&self) -> Cleanup {
        Cleanup {
            job_days: self.retention_job_days,
            delivery_days: self.retention_delivery_days,
            rejected_days: self.retention_rejected_days,
            write_request_days: self.retention_write_request_days,
            appointment_event_days: self.retention_appointment_event_days,
            deepcura_text_days: self.retention_deepcura_text_days,
            unkeyed_days: self.retention_unkeyed_days,
            audit_values_days: self.retention_audit_values_days,
        }
    }
}
