//! `cargo xtask db`: finds or starts a Postgres, and the database chores the
//! other subcommands share (creating and dropping scratch databases).
//!
//! Other subcommands call [`locate`] rather than reading `DATABASE_URL`
//! themselves, so every command finds Postgres the same way (DESIGN.md,
//! "Set-up and tests"). This module never prints a password: anything shown
//! to a person goes through [`redact`].

mod locate;
mod private_cluster;
mod scratch_cluster;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use sqlx::{Connection, PgConnection};
use std::time::Duration;

pub use locate::locate;
pub use private_cluster::{any_free_port, target_dir};
pub use scratch_cluster::{Restarter, ScratchCluster};

/// Prefix of the per-test databases the integration harness creates.
/// A crashed test run leaves them behind; `db reset-tests` and `test` drop them.
pub const TEST_DB_PREFIX: &str = "dcs_test_";

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Print the URL of a usable Postgres (finding or starting one), for
    /// `export DATABASE_URL=$(cargo xtask db url)`.
    Url,
    /// Drop leftover test databases (`dcs_test_*`) that no one is connected to.
    ResetTests,
}

pub async fn run(cmd: DbCommand) -> Result<()> {
    let pg = locate().await?;
    match cmd {
        DbCommand::Url => println!("{}", pg.url),
        DbCommand::ResetTests => {
            let dropped = drop_test_databases(&pg.url).await?;
            eprintln!("db: dropped {dropped} leftover test database(s)");
        }
    }
    Ok(())
}

/// A Postgres the tools can use, and how it was found.
#[derive(Debug, Clone)]
pub struct Postgres {
    /// Full URL, password included: hand it to child processes, never print it.
    pub url: String,
    /// One human line, already redacted, e.g. "server on 127.0.0.1:5432 as postgres".
    pub how: String,
}

/// The URL with its password (if any) replaced by `***`, for printing.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        // Not a URL (perhaps a key=value DSN): show nothing that could be secret.
        Err(_) => "<unparseable DATABASE_URL>".to_string(),
    }
}

/// `url` pointing at database `name` instead, keeping host, user and options.
pub fn with_database(url: &str, name: &str) -> Result<String> {
    let mut u = url::Url::parse(url).with_context(|| format!("DATABASE_URL is not a URL: {}", redact(url)))?;
    u.set_path(&format!("/{name}"));
    Ok(u.to_string())
}

/// Opens one connection with a short timeout, so a dead server fails fast.
pub async fn connect(url: &str) -> Result<PgConnection> {
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e).with_context(|| format!("cannot connect to {}", redact(url))),
        Err(_) => bail!("connecting to {} timed out after 5 s", redact(url)),
    }
}

/// Database names are interpolated into DDL, so only plain identifiers pass.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() < 64
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!("refusing database name {name:?}: use lowercase letters, digits and underscores");
    }
    Ok(())
}

/// Creates an empty database `name` on the server of `admin_url` (dropping a
/// stale one of that name first) and returns its URL.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String> {
    check_name(name)?;
    let mut conn = connect(admin_url).await?;
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\"");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot drop stale database {name}; is something still connected to it?"))?;
    let sql = format!("CREATE DATABASE \"{name}\"");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot create database {name}; the user needs CREATEDB"))?;
    conn.close().await.ok();
    with_database(admin_url, name)
}

/// Drops database `name`, forcing out any connection left over (ours: a
/// benchmark's pool may still be closing).
pub async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    check_name(name)?;
    let mut conn = connect(admin_url).await?;
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot drop database {name}"))?;
    conn.close().await.ok();
    Ok(())
}

/// Drops every leftover `dcs_test_*` database and returns how many went.
///
/// On a shared machine another test run may be using its databases right
/// now, and those are not leftovers. Two guards keep them: the harness names
/// each database `dcs_test_<pid>_<random>`, so one whose test process is
/// still alive here is skipped (this also covers the moment between
/// `CREATE DATABASE` and its first connection); and the drop is not
/// `WITH (FORCE)`, so one with a connection fails to drop and is kept.
pub async fn drop_test_databases(url: &str) -> Result<usize> {
    let mut conn = connect(url).await?;
    let pattern = format!("{}%", TEST_DB_PREFIX.replace('_', "\\_"));
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> current_database()")
            .bind(pattern)
            .fetch_all(&mut conn)
            .await
            .context("cannot list databases")?;
    let mut dropped = 0;
    for name in names {
        if let Some(pid) = creator_pid(&name).filter(|pid| process_alive(*pid)) {
            eprintln!("db: kept {name} (its test process {pid} is still running)");
            continue;
        }
        let sql = format!("DROP DATABASE IF EXISTS \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await {
            Ok(_) => dropped += 1,
            Err(e) => eprintln!("db: kept {name} (in use by another run?): {}", short_error(&e)),
        }
    }
    conn.close().await.ok();
    Ok(dropped)
}

/// The pid in `dcs_test_<pid>_<random>`, the harness's naming (tests/src/db.rs).
fn creator_pid(name: &str) -> Option<u32> {
    name.strip_prefix(TEST_DB_PREFIX)?.split('_').next()?.parse().ok()
}

/// Whether a process with this pid exists on this machine (Linux `/proc`).
fn process_alive(pid: u32) -> bool {
    pid != std::process::id() && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The server's own message, without sqlx's wrapping.
fn short_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_password_only() {
        assert_eq!(
            redact("postgres://u:s3cret@h:5432/db?sslmode=disable"),
            "postgres://u:***@h:5432/db?sslmode=disable"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert!(!redact("host=x password=s3cret").contains("s3cret"));
    }

    #[test]
    fn with_database_keeps_credentials_and_options() {
        let u = with_database("postgres://u:p@h:5/postgres?sslmode=disable", "bench_dcs_drain").unwrap();
        assert_eq!(u, "postgres://u:p@h:5/bench_dcs_drain?sslmode=disable");
    }

    #[test]
    fn test_database_names_carry_the_creator_pid() {
        assert_eq!(creator_pid("dcs_test_24812_3d6daf35"), Some(24812));
        assert_eq!(creator_pid("dcs_test_custom"), None);
        assert_eq!(creator_pid("other_24812_x"), None);
    }

    #[test]
    fn names_are_plain_identifiers() {
        assert!(check_name("bench_dcs_latency").is_ok());
        assert!(check_name("x\"; DROP").is_err());
        assert!(check_name("").is_err());
    }
}
