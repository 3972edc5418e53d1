//! The search for a Postgres, in the order DESIGN.md gives: `DATABASE_URL`;
//! a server on localhost; a stopped system cluster, started; a private
//! cluster under `target/`; otherwise a message saying how to get one.
//!
//! `.env` is deliberately not read here: it configures the service, and a
//! test run must not land on the database the service points at.

use anyhow::{Result, bail};
use sqlx::Connection;
use std::{process::Command, time::Duration};

use super::{Postgres, connect, private_cluster, redact};

/// The port a system-wide PostgreSQL listens on by default.
const DEFAULT_PORT: u16 = 5432;
/// Users to try on a local server. The machines this project is built on
/// trust both over TCP; `root` covers clusters created by `initdb` as root's
/// own user.
const LOCAL_USERS: [&str; 2] = ["postgres", "root"];

/// Finds or starts a Postgres and prints one line saying which was chosen.
///
/// Set `XTASK_DB_FORCE_PRIVATE=1` to skip straight to the private cluster
/// (useful to check that path on a machine that has a system server).
pub async fn locate() -> Result<Postgres> {
    let pg = search().await?;
    eprintln!("db: using {}", pg.how);
    Ok(pg)
}

async fn search() -> Result<Postgres> {
    let mut notes = Vec::new();
    let force_private = std::env::var("XTASK_DB_FORCE_PRIVATE").is_ok_and(|v| v == "1");

    if !force_private {
        if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.trim().is_empty()) {
            return match connect(&url).await {
                Ok(c) => {
                    c.close().await.ok();
                    Ok(Postgres { how: format!("DATABASE_URL ({})", redact(&url)), url })
                }
                Err(e) => bail!(
                    "DATABASE_URL is set but unusable: {e:#}\n\
                     Fix it, or unset it to let xtask find or start a local Postgres."
                ),
            };
        }
        if let Some(pg) = try_local(DEFAULT_PORT, &mut notes).await {
            return Ok(pg);
        }
        for port in start_stopped_system_clusters(&mut notes) {
            if let Some(pg) = try_local(port, &mut notes).await {
                return Ok(pg);
            }
        }
    }
    match private_cluster::ensure().await {
        Ok(Some(pg)) => return Ok(pg),
        Ok(None) => {
            notes.push("no PostgreSQL binaries (initdb, pg_ctl) found in /usr/lib/postgresql/*/bin or PATH".into())
        }
        Err(e) => notes.push(format!("private cluster: {e:#}")),
    }
    bail!(
        "no usable Postgres found:\n  - {}\n\
         To fix, either:\n  \
         - run `docker compose up -d db` and `export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres`, or\n  \
         - install PostgreSQL (e.g. `apt-get install postgresql`) and run this again.",
        notes.join("\n  - ")
    )
}

/// Tries each trusted user on `127.0.0.1:port`; notes why each failed.
async fn try_local(port: u16, notes: &mut Vec<String>) -> Option<Postgres> {
    let addr = format!("127.0.0.1:{port}");
    let open = tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(&addr)).await;
    if !matches!(open, Ok(Ok(_))) {
        notes.push(format!("nothing answers on {addr}"));
        return None;
    }
    for user in LOCAL_USERS {
        let url = format!("postgres://{user}@{addr}/postgres");
        match connect(&url).await {
            Ok(c) => {
                c.close().await.ok();
                return Some(Postgres { how: format!("local server on {addr} as {user} ({url})"), url });
            }
            Err(e) => notes.push(format!("{addr} as {user}: {}", root_cause(&e))),
        }
    }
    None
}

fn root_cause(e: &anyhow::Error) -> String {
    e.root_cause().to_string()
}

/// Starts the Debian/Ubuntu clusters `pg_lsclusters` lists as down and
/// returns their ports. Needs root or the postgres user; a failure is noted
/// and the search goes on.
fn start_stopped_system_clusters(notes: &mut Vec<String>) -> Vec<u16> {
    let Ok(out) = Command::new("pg_lsclusters").arg("--no-header").output() else {
        return Vec::new(); // not a Debian-style install
    };
    let mut ports = Vec::new();
    for cluster in parse_lsclusters(&String::from_utf8_lossy(&out.stdout)) {
        if cluster.online {
            continue;
        }
        eprintln!("db: system cluster {} {} is down; starting it", cluster.version, cluster.name);
        let status = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &cluster.version, &cluster.name, "start"])
            .status();
        match status {
            Ok(s) if s.success() => ports.push(cluster.port),
            Ok(s) => notes.push(format!(
                "`pg_ctlcluster {} {} start` failed ({s}); see /var/log/postgresql/",
                cluster.version, cluster.name
            )),
            Err(e) => notes.push(format!("cannot run pg_ctlcluster: {e}")),
        }
    }
    ports
}

#[derive(Debug, PartialEq)]
struct Cluster {
    version: String,
    name: String,
    port: u16,
    online: bool,
}

/// Parses `pg_lsclusters --no-header`: `Ver Cluster Port Status Owner Dir Log`.
fn parse_lsclusters(text: &str) -> Vec<Cluster> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Some(Cluster {
                version: f.first()?.to_string(),
                name: f.get(1)?.to_string(),
                port: f.get(2)?.parse().ok()?,
                online: f.get(3)?.starts_with("online"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pg_lsclusters() {
        let text = "15  main    5432 down   postgres /var/lib/postgresql/15/main /var/log/postgresql/x.log\n\
                    16  other   5433 online,recovery postgres /d /l\n";
        let c = parse_lsclusters(text);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0], Cluster { version: "15".into(), name: "main".into(), port: 5432, online: false });
        assert!(c[1].online);
    }
}
