//! `upsert_record`: applies a record that DrChrono deliveries carried, with
//! no call to DrChrono.
//!
//! Coalescing: the job applies the newest version of its record found in the
//! inbox, not necessarily the delivery that enqueued it. Ten modifications
//! waiting in the queue thus write the row once; the later jobs find it
//! current and do nothing. The payload names the record, never its content.

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{JobContext, domain::RecordKind};
use job_runner::{BackgroundJob, JobError, JobOutcome};

#[doc(alias("upsert_record", "FetchPatient", "FetchAppointment", "FetchClinicalNote"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpsertRecord {
    pub kind: RecordKind,
    pub object_id: i64,
    /// The delivered version, part of the dedup key: a redelivery of the same
    /// version while its job waits adds nothing; a newer version adds a job.
    pub updated_at: Option<String>,
}

/// Newest delivered version of a record, by the object's own `updated_at`.
const NEWEST: &str = "SELECT id, event, body FROM webhook_deliveries \
     WHERE record_kind = $1 AND object_id = $2 AND verified AND outcome IN ('accepted', 'duplicate') \
     ORDER BY object_updated_at DESC NULLS LAST, id DESC LIMIT 1";

impl BackgroundJob for UpsertRecord {
    const NAME: &'static str = "upsert_record";
    const MAX_ATTEMPTS: i32 = 10;
    const CONCURRENCY: usize = 8;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        let version = self.updated_at.as_deref().unwrap_or("-");
        Some(format!("{}:{}:{version}", self.kind.name(), self.object_id))
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let newest: Option<(i64, Option<String>, Vec<u8>)> =
            sqlx::query_as(NEWEST).bind(self.kind.name()).bind(self.object_id).fetch_optional(&ctx.pool).await?;
        let Some((delivery, event, body)) = newest else {
            return Ok(JobOutcome::skipped("no stored delivery for the record"));
        };
        let object = delivered_object(&body, event.as_deref())
            .with_context(|| format!("delivery {delivery} holds no usable object"))
            .map_err(JobError::permanent)?;
        if unstamped_over_stamped(&ctx, self.kind, self.object_id, &object, event.as_deref()).await? {
            return Ok(JobOutcome::skipped(
                "the delivery has no updated_at and the stored row has one: it cannot be shown newer",
            ));
        }
        let actor = format!("job:{}:delivery:{delivery}", Self::NAME);
        let counts = super::apply_records(&ctx.pool, self.kind, &[object], &actor, &ctx.settings.locale()).await?;
        Ok(if counts.changed() > 0 {
            JobOutcome::applied(counts.changed())
        } else {
            JobOutcome::skipped("stored record is newer or identical")
        })
    }
}

/// A delivery without `updated_at` never overwrites a row that has one: it
/// may be an old event replayed, and nothing in it says otherwise. A
/// deletion still applies.
async fn unstamped_over_stamped(
    ctx: &JobContext,
    kind: RecordKind,
    id: i64,
    object: &Value,
    event: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let stamped = object.get("updated_at").is_some_and(|v| v.as_str().is_some_and(|s| !s.trim().is_empty()));
    if stamped || is_delete(event) {
        return Ok(false);
    }
    // Only the kind's own fixed table name is formatted in.
    let sql = format!("SELECT source_updated_at IS NOT NULL FROM {} WHERE id = $1", kind.table());
    let stored: Option<bool> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&ctx.pool).await?;
    Ok(stored.unwrap_or(false))
}

/// A `*_DELETE` event (appointments, tasks, lab orders, line items) carries
/// the record as it was; the event itself is the deletion.
fn is_delete(event: Option<&str>) -> bool {
    event.is_some_and(|e| e.ends_with("_DELETE"))
}

/// The object a delivery carried; a delete event marks it `deleted_flag`, as
/// DrChrono's own deleted appointments are marked, which each kind's upsert
/// reads into its `deleted` column.
fn delivered_object(body: &[u8], event: Option<&str>) -> anyhow::Result<Value> {
    let delivery: Value = serde_json::from_slice(body).context("body is not JSON")?;
    let mut object = delivery.get("object").filter(|o| o.is_object()).cloned().context("no object")?;
    if is_delete(event) {
        object["deleted_flag"] = Value::Bool(true);
    }
    Ok(object)
}
