//! What `change_log` keeps. Its trigger records who changed what and when,
//! the names of the changed fields, and a keyed hash of each old and new
//! value, so that equality can still be proven without keeping copies of the
//! chart. The values themselves only when `AUDIT_VALUES` is on (and then
//! only for `RETENTION_AUDIT_VALUES_DAYS`).
//!
//! The hash key never sits in the database next to the hashes: each
//! connection of the service's pool is given it as a session setting, derived
//! from `TOKEN_ENCRYPTION_KEY` for this purpose alone. A change made from a
//! session without it (an operator's `psql`) logs field names only.

use sqlx::postgres::PgPoolOptions;

use crate::drchrono::Keyring;

/// What each pooled connection is told about auditing.
#[derive(Clone, Default)]
pub struct AuditSession {
    /// The change_log hash key, hex; none without `TOKEN_ENCRYPTION_KEY`.
    key: Option<String>,
    /// Keep old and new values too.
    values: bool,
}

impl std::fmt::Debug for AuditSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSession").field("keyed", &self.key.is_some()).field("values", &self.values).finish()
    }
}

impl AuditSession {
    /// The hashes are keyed with the current key: a rotation changes them
    /// from then on, and proving equality across it takes the previous key.
    pub fn new(keys: Option<&Keyring>, values: bool) -> Self {
        Self { key: keys.map(|k| hex::encode(k.derive("change_log"))), values }
    }

    /// `options` with every new connection told the key and the values switch.
    pub fn on_connect(self, options: PgPoolOptions) -> PgPoolOptions {
        options.after_connect(move |conn, _| {
            let session = self.clone();
            Box::pin(async move {
                sqlx::query(
                    "SELECT set_config('drchrono_sync.audit_key', $1, false), \
                            set_config('drchrono_sync.audit_values', $2, false)",
                )
                .bind(session.key.as_deref().unwrap_or(""))
                .bind(if session.values { "on" } else { "off" })
                .execute(conn)
                .await?;
                Ok(())
            })
        })
    }
}

/// Records that `actor` read `records` records of PHI through `what` (an
/// endpoint or a command, never a value from what was read).
pub async fn record_read<'e>(
    db: impl sqlx::PgExecutor<'e>,
    actor: &str,
    what: &str,
    records: usize,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO read_audit (actor, what, records) VALUES ($1, $2, $3)")
        .bind(actor)
        .bind(what)
        .bind(i32::try_from(records).unwrap_or(i32::MAX))
        .execute(db)
        .await?;
    Ok(())
}

/// One use of an operator command, for `operator_actions`. Ids, counts and
/// the filters asked for; never a value read from a record.
pub struct OperatorAction<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub filters: serde_json::Value,
    pub dry_run: bool,
    pub job_ids: &'a [String],
    pub delivery_ids: &'a [i64],
    pub outcome: &'a str,
}

pub async fn record_action<'e>(db: impl sqlx::PgExecutor<'e>, a: &OperatorAction<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO operator_actions (actor, action, filters, dry_run, job_ids, delivery_ids, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(a.actor)
    .bind(a.action)
    .bind(&a.filters)
    .bind(a.dry_run)
    .bind(a.job_ids)
    .bind(a.delivery_ids)
    .bind(a.outcome)
    .execute(db)
    .await?;
    Ok(())
}
