//! A fresh database with apalis's and the project's migrations, named
//! `dcs_test_*` like the integration tests' so the same clean-up drops it
//! (dropping it here would force a checkpoint of the whole shared server).

use sqlx::{Connection, PgConnection, PgPool, postgres::PgPoolOptions};

pub(super) struct FreshDb {
    pub pool: PgPool,
}

fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl FreshDb {
    pub async fn new() -> Self {
        let server = server_url();
        let name = format!("dcs_test_runner_{}_{:08x}", std::process::id(), rand::random::<u32>());
        let mut admin = PgConnection::connect(&server).await.expect("cannot reach Postgres: set DATABASE_URL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("CREATE DATABASE");
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&with_database(&server, &name))
            .await
            .expect("connect to the test database");
        crate::queries::migrate_queue(&pool).await.expect("apalis migrations");
        let mut project = sqlx::migrate!("../../migrations");
        project.set_ignore_missing(true);
        project.run(&pool).await.expect("project migrations");
        Self { pool }
    }
}
