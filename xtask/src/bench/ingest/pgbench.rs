//! The reference of the ingest benchmark, and the audit of index and
//! trigger costs: pgbench writing one inbox row and one job row per
//! transaction, as a delivery's own transaction would, on the same schema.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::{path::PathBuf, process::Command};

use super::{emit, senders};
use crate::bench::report::{self, r3};

/// One pgbench run.
pub struct Rate {
    pub transactions: usize,
    pub seconds: f64,
    pub tps: f64,
}

pub fn check_installed() -> Result<()> {
    match Command::new("pgbench").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => {
            bail!("pgbench is not on PATH; install PostgreSQL's client tools (Debian: postgresql-client) and run again")
        }
    }
}

/// Where the transaction wakes the workers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// From the job insert's trigger, as any single enqueue does: the reference.
    InTransaction,
    /// After the commit, as the webhook group commit does (the audit of indexes).
    AfterCommit,
}

/// pgbench at `clients` for `secs` on `url`.
pub async fn reference(url: &str, clients: usize, secs: u64, template: &Value) -> Result<Rate> {
    run(url, clients, secs, template, Notify::InTransaction).await
}

async fn run(url: &str, clients: usize, secs: u64, template: &Value, notify: Notify) -> Result<Rate> {
    let script = script(template, notify)?;
    let c = clients.to_string();
    let jobs = clients.min(std::thread::available_parallelism().map_or(2, |n| n.get())).to_string();
    let t = secs.to_string();
    let path = script.display().to_string();
    let out = tokio::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", &c, "-j", &jobs, "-T", &t, "-f", &path, url])
        .output()
        .await
        .context("cannot run pgbench")?;
    if !out.status.success() {
        bail!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    parse(&String::from_utf8_lossy(&out.stdout), secs)
}

fn parse(output: &str, secs: u64) -> Result<Rate> {
    let after = |prefix: &str| {
        output.lines().find_map(|l| l.trim().strip_prefix(prefix)).and_then(|v| v.split_whitespace().next())
    };
    let tps: f64 = after("tps = ").context("pgbench printed no tps")?.parse()?;
    let transactions: usize = after("number of transactions actually processed: ").unwrap_or("0").parse()?;
    Ok(Rate { transactions, seconds: secs as f64, tps })
}

/// The pgbench script: the delivery and the job a `PATIENT_MODIFY` makes,
/// each a new patient, with the body and headers the service stores.
fn script(template: &Value, notify: Notify) -> Result<PathBuf> {
    let patient = senders::patient(template, 0);
    let body = serde_json::to_string(&json!({ "receiver": { "id": 4242 }, "object": patient }))?;
    let headers = json!({
        "content-type": "application/json", "x-drchrono-event": "PATIENT_MODIFY",
        "x-drchrono-signature": "<redacted>", "x-drchrono-delivery": "00000000-0000-0000-0000-000000000000",
        "accept": "*/*", "host": "127.0.0.1", "content-length": body.len().to_string(),
    });
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(body.as_bytes()))
    };
    let job = job_runner::enqueue_statement(
        "md5(random()::text)",
        "'upsert_record'",
        "convert_to('{\"kind\":\"patient\",\"object_id\":' || :n || '}', 'UTF8')",
        "'patient:' || :n",
    );
    let text = format!(
        "\\set n random(1, 2000000000)\n\
         BEGIN;\n\
         {defer}\
         INSERT INTO webhook_deliveries (source, delivery_id, event, object_id, headers, body, verified, outcome, \
         record_kind, patient_id, object_updated_at, body_size, body_sha256, job_id, received_at) VALUES \
         ('drchrono', md5(random()::text), 'PATIENT_MODIFY', :n, {headers}::jsonb, convert_to({body}, 'UTF8'), true, \
         'accepted', 'patient', :n, now(), {size}, '{sha}', md5(random()::text), now());\n\
         {job};\n\
         END;\n",
        defer = match notify {
            Notify::InTransaction => "",
            Notify::AfterCommit => "SELECT set_config('drchrono_sync.notify_after_commit', 'on', true);\n",
        },
        headers = quote(&headers.to_string()),
        body = quote(&body),
        size = body.len(),
    );
    let path = std::env::temp_dir().join(match notify {
        Notify::InTransaction => "bench-ingest-pgbench.sql",
        Notify::AfterCommit => "bench-ingest-pgbench-after-commit.sql",
    });
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// What each droppable index and each trigger of the two tables costs:
/// pgbench with it gone, beside pgbench with everything, on `url`. Indexes
/// are measured as the group commit writes (notifying after the commit, so
/// the disk's flushes do not hide them), triggers as the reference does.
pub async fn audit(url: &str, clients: usize, secs: u64, template: &Value) -> Result<()> {
    let pool = PgPool::connect(url).await?;
    let tables = ["webhook_deliveries", job_runner::JOB_TABLE];
    let baseline = run(url, clients, secs, template, Notify::AfterCommit).await?;
    let indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.relname::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indrelid \
         WHERE i.indrelid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) t) \
           AND NOT i.indisprimary AND NOT i.indisunique ORDER BY 1, 2",
    )
    .bind(&tables[..])
    .fetch_all(&pool)
    .await?;
    for (table, index, definition) in indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {index}"))).execute(&pool).await?;
        let without = run(url, clients, secs, template, Notify::AfterCommit).await?;
        sqlx::query(sqlx::AssertSqlSafe(definition)).execute(&pool).await?;
        line("index", &table, &index, clients, &baseline, &without);
    }
    let triggers: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.tgrelid::regclass::text, t.tgname::text, c.relname::text FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid \
         WHERE NOT t.tgisinternal AND t.tgrelid = ANY (SELECT to_regclass(x) FROM unnest($1::text[]) x) ORDER BY 1, 2",
    )
    .bind(&tables[..])
    .fetch_all(&pool)
    .await?;
    let baseline = reference(url, clients, secs, template).await?;
    for (qualified, trigger, table) in triggers {
        let toggle = |on: &str| format!("ALTER TABLE {qualified} {on} TRIGGER \"{trigger}\"");
        sqlx::query(sqlx::AssertSqlSafe(toggle("DISABLE"))).execute(&pool).await?;
        let without = reference(url, clients, secs, template).await?;
        sqlx::query(sqlx::AssertSqlSafe(toggle("ENABLE"))).execute(&pool).await?;
        line("trigger", &table, &trigger, clients, &baseline, &without);
    }
    pool.close().await;
    Ok(())
}

fn line(kind: &str, table: &str, name: &str, clients: usize, with: &Rate, without: &Rate) {
    emit(&json!({
        "system": report::system(),
        "workload": "ingest_schema_cost",
        "concurrency": clients,
        "object": kind,
        "table": table,
        "name": name,
        "tps_with_all": r3(with.tps),
        "tps_without": r3(without.tps),
        "cost_pct": r3((without.tps / with.tps - 1.0) * 100.0),
    }));
}
