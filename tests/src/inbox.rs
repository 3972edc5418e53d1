//! Inbox rows as an older version of the service stored them, before the
//! event they carry was supported, and replays of them through the
//! operator's library call.

use jobs::inbox::{
    DeliveryFilter,
    replay::{ReplayReport, ReplayRequest, ReplaySettings, replay},
};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::app::TestApp;

/// A verified DrChrono delivery of `object` under `event`, stored with
/// `outcome` (`not_modelled`, `unhandled`, ...) and no job, as a version of
/// the service that did not handle the event would have left it. Returns
/// the inbox id.
pub async fn store_unapplied(
    pool: &PgPool,
    event: &str,
    object: &Value,
    outcome: &str,
    delivery_id: Option<&str>,
) -> i64 {
    let body = serde_json::to_vec(&json!({ "receiver": { "id": 4242 }, "object": object })).unwrap();
    sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (source, delivery_id, event, headers, body, verified, outcome, reason, \
                                         body_size, body_sha256) \
         VALUES ('drchrono', $1, $2, $3, $4, true, $5, 'stored by an older version', octet_length($4), \
                 encode(sha256($4), 'hex')) RETURNING id",
    )
    .bind(delivery_id)
    .bind(event)
    .bind(json!({ "x-drchrono-event": event, "x-drchrono-signature": "<redacted>" }))
    .bind(body)
    .bind(outcome)
    .fetch_one(pool)
    .await
    .expect("an inbox row can be stored")
}

/// Replays what `filter` names as the test operator, with the app's settings.
pub async fn replay_as_operator(app: &TestApp, filter: DeliveryFilter, dry_run: bool, all: bool) -> ReplayReport {
    let request = ReplayRequest { filter, dry_run, all, actor: "test-operator".into() };
    let settings = ReplaySettings {
        time_zone: app.settings.practice_timezone.name(),
        deepcura_scheme: app.settings.deepcura_scheme,
    };
    replay(app.pool(), &request, settings).await.expect("the replay runs")
}

/// `DeliveryFilter` naming these inbox ids.
pub fn ids(ids: &[i64]) -> DeliveryFilter {
    DeliveryFilter { ids: ids.to_vec(), ..Default::default() }
}

/// (action, dry_run, job_ids, delivery_ids, outcome) of every operator action, oldest first.
pub async fn operator_actions(pool: &PgPool) -> Vec<(String, bool, Vec<String>, Vec<i64>, String)> {
    sqlx::query_as("SELECT action, dry_run, job_ids, delivery_ids, outcome FROM operator_actions ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}
