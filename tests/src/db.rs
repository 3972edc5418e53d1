//! A fresh, migrated database per test on the real Postgres server.
//!
//! The server comes from `DATABASE_URL` (set by `cargo xtask test`), else the
//! local one these machines provide. Databases are named `dcs_test_*`;
//! `cargo xtask test` drops leftovers before each run.

use sqlx::{Connection, PgConnection, PgPool, postgres::PgPoolOptions};

pub struct TestDb {
    pub pool: PgPool,
    pub url: String,
    pub name: String,
}

pub fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("DATABASE_URL is a valid URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

pub async fn fresh_db() -> TestDb {
    let name = format!("dcs_test_{}_{:08x}", std::process::id(), rand::random::<u32>());
    let admin_url = server_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("cannot reach Postgres: run tests through `cargo xtask test`, or set DATABASE_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    let url = with_database(&admin_url, &name);
    // Told the change_log hash key, as the service's own pool is.
    let audit = jobs::domain::audit::AuditSession::new(Some(&crate::app::test_keys()), false);
    let pool =
        audit.on_connect(PgPoolOptions::new()).max_connections(12).connect(&url).await.expect("connect to test db");
    jobs::migrate::run(&pool).await.expect("migrations apply to a fresh database");
    TestDb { pool, url, name }
}

/// Rows in `table` (one of the project's tables, named by the test).
pub async fn count_rows(pool: &PgPool, table: &'static str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("count of {table}: {e}"))
}
