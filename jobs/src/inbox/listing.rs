//! Which inbox rows an operator command is about (`cargo xtask deliveries
//! list` and `replay`), and the list itself: ids, names and outcomes, never
//! a body or a header value.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;

/// Filters over `webhook_deliveries`; empty means every delivery.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeliveryFilter {
    pub ids: Vec<i64>,
    /// `drchrono` or `deepcura` (partner events are in `appointment_events`, not the inbox).
    pub source: Option<String>,
    pub event: Option<String>,
    pub outcome: Option<String>,
    /// Received at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Received before this.
    pub until: Option<DateTime<Utc>>,
}

impl DeliveryFilter {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
            && self.source.is_none()
            && self.event.is_none()
            && self.outcome.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// The WHERE clause over `webhook_deliveries d`, binds $1..$6 in [`bind`](Self::bind) order.
    pub(crate) const WHERE: &'static str = "(cardinality($1::bigint[]) = 0 OR d.id = ANY($1)) \
         AND ($2::text IS NULL OR d.source = $2) AND ($3::text IS NULL OR d.event = $3) \
         AND ($4::text IS NULL OR d.outcome = $4) \
         AND ($5::timestamptz IS NULL OR d.received_at >= $5) AND ($6::timestamptz IS NULL OR d.received_at < $6)";

    pub(crate) fn bind<'q, O>(
        &'q self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        q.bind(&self.ids).bind(&self.source).bind(&self.event).bind(&self.outcome).bind(self.since).bind(self.until)
    }
}

/// One inbox row as operators see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub source: String,
    pub event: Option<String>,
    pub outcome: String,
    pub record_kind: Option<String>,
    pub object_id: Option<i64>,
    pub deepcura_note_id: Option<i64>,
    pub job_id: Option<String>,
    /// The row this one replayed, for a replay.
    pub replay_of: Option<i64>,
    /// Whether the body is kept (a rejected delivery keeps none).
    pub has_body: bool,
}

const COLUMNS: &str = "d.id, d.received_at, d.source, d.event, d.outcome, d.record_kind, d.object_id, \
     d.deepcura_note_id, d.job_id, d.replay_of, octet_length(d.body) > 0 AS has_body";

/// Newest first, at most `limit`.
pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    filter: &DeliveryFilter,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhook_deliveries d WHERE {} ORDER BY d.id DESC LIMIT $7",
        DeliveryFilter::WHERE
    );
    filter.bind(sqlx::query_as(sqlx::AssertSqlSafe(sql))).bind(limit).fetch_all(db).await
}
