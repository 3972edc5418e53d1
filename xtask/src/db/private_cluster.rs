//! A private Postgres cluster under `target/pgdata`, made with the system's
//! own `initdb` and `pg_ctl`, for machines that have the binaries but no
//! running server. It listens on 127.0.0.1 only, trusts local TCP users, has
//! no Unix socket (so it needs no writable `/var/run/postgresql`), and keeps
//! running after xtask exits; `cargo clean` removes it.
//!
//! PostgreSQL refuses to run as root. When xtask runs as root, every
//! `initdb`/`pg_ctl` call goes through `runuser -u postgres` (or `su`), and
//! the data directory is handed to that user.

use anyhow::{Context, Result, bail};
use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use super::{Postgres, connect};

/// Preferred port, so `DATABASE_URL` stays the same from run to run; any free
/// port is used when it is taken.
const PREFERRED_PORT: u16 = 55432;
/// The OS user that runs the cluster when xtask runs as root.
pub(super) const SERVICE_USER: &str = "postgres";

/// Starts (initialising first if needed) the private cluster; `None` when
/// the machine has no PostgreSQL binaries.
pub async fn ensure() -> Result<Option<Postgres>> {
    let Some(bin) = find_bin_dir() else { return Ok(None) };
    let data = target_dir().join("pgdata");
    let run_as = running_as_root().then_some(SERVICE_USER);
    let shown = data.display();

    if !data.join("PG_VERSION").exists() {
        eprintln!("db: initialising a private cluster in {shown} with {} (once, a few seconds)", bin.display());
        init(&bin, &data, run_as)?;
    }
    let port = match running_port(&bin, &data, run_as) {
        Some(port) => port,
        None => {
            let port = free_port()?;
            eprintln!("db: starting the private cluster in {shown} on 127.0.0.1:{port}");
            start(&bin, &data, port, &[], run_as)
                .map_err(|e| anyhow::anyhow!("{e:#}; `rm -rf {shown}` starts afresh."))?;
            port
        }
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    connect(&url).await.context("the private cluster started but does not accept connections")?;
    let how = format!(
        "private cluster in {shown} on 127.0.0.1:{port} ({url}; stop it with `pg_ctl -D {shown} stop`{})",
        if run_as.is_some() { " as the postgres user" } else { "" }
    );
    Ok(Some(Postgres { url, how }))
}

/// `pg_ctl start` on 127.0.0.1:`port` with no Unix socket, waiting until it
/// accepts connections; `settings` are extra `-c name=value` options. The
/// server's log is `server.log` in the data directory.
pub(super) fn start(bin: &Path, data: &Path, port: u16, settings: &[&str], run_as: Option<&str>) -> Result<()> {
    let mut opts = format!("-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''");
    for setting in settings {
        opts.push_str(&format!(" -c {setting}"));
    }
    let log = data.join("server.log");
    let args = ["-D", path_str(data)?, "-l", path_str(&log)?, "-w", "-t", "60", "-o", &opts, "start"];
    let out = pg(bin, "pg_ctl", &args, run_as)?;
    if !out.status.success() {
        bail!("pg_ctl start failed: {}\nSee {} for the server's log", output_text(&out), log.display());
    }
    Ok(())
}

/// `initdb` with trust auth and a `postgres` superuser.
pub(super) fn init(bin: &Path, data: &Path, run_as: Option<&str>) -> Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    if let Some(user) = run_as {
        let st = Command::new("chown").args(["-R", &format!("{user}:"), path_str(data)?]).status()?;
        if !st.success() {
            bail!("cannot hand {} to the {user} user (chown failed)", data.display());
        }
        let reachable = as_user(user, "test", &["-w", path_str(data)?]).status().is_ok_and(|s| s.success());
        if !reachable {
            bail!(
                "running as root, and the {user} user cannot write {} (a parent directory is private).\n\
                 Run xtask as a normal user, or set DATABASE_URL to an existing server.",
                data.display()
            );
        }
    }
    let out = pg(bin, "initdb", &["-D", path_str(data)?, "-U", "postgres", "-A", "trust", "-E", "UTF8"], run_as)?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(data); // a half-made cluster would block the next try
        bail!("initdb failed: {}", output_text(&out));
    }
    Ok(())
}

/// The port of the cluster if `pg_ctl status` says it runs (line 4 of
/// `postmaster.pid` is the port).
fn running_port(bin: &Path, data: &Path, run_as: Option<&str>) -> Option<u16> {
    let status = pg(bin, "pg_ctl", &["-D", path_str(data).ok()?, "status"], run_as).ok()?;
    if !status.status.success() {
        return None;
    }
    let pid_file = std::fs::read_to_string(data.join("postmaster.pid")).ok()?;
    pid_file.lines().nth(3)?.trim().parse().ok()
}

/// Runs `bin/tool args`, as `user` when given.
pub(super) fn pg(bin: &Path, tool: &str, args: &[&str], run_as: Option<&str>) -> Result<Output> {
    let exe = bin.join(tool);
    let exe = path_str(&exe)?;
    let mut cmd = match run_as {
        Some(user) => as_user(user, exe, args),
        None => {
            let mut c = Command::new(exe);
            c.args(args);
            c
        }
    };
    // The cluster must outlive xtask; a Ctrl-C in this terminal must not reach it.
    cmd.stdin(std::process::Stdio::null());
    cmd.output().with_context(|| format!("cannot run {exe}"))
}

/// `runuser -u user -- exe args` where util-linux has it, else `su`.
fn as_user(user: &str, exe: &str, args: &[&str]) -> Command {
    if Path::new("/usr/sbin/runuser").exists() || Path::new("/sbin/runuser").exists() {
        let mut c = Command::new("runuser");
        c.args(["-u", user, "--", exe]).args(args);
        c
    } else {
        let line = std::iter::once(exe).chain(args.iter().copied()).map(shell_quote).collect::<Vec<_>>().join(" ");
        let mut c = Command::new("su");
        c.args([user, "-s", "/bin/sh", "-c", &line]);
        c
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The newest `/usr/lib/postgresql/<ver>/bin` with `initdb` and `pg_ctl`,
/// else the directory on PATH that has both (Fedora, Homebrew).
pub(super) fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let ver = e.file_name().to_string_lossy().split('.').next()?.parse().ok()?;
            Some((ver, e.path().join("bin")))
        })
        .filter(|(_, d)| has_tools(d))
        .collect();
    versioned.sort();
    if let Some((_, dir)) = versioned.pop() {
        return Some(dir);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| has_tools(d))
}

/// Where cargo builds: `CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir), // join keeps an absolute path as is
        None => root.join("target"),
    }
}

pub(super) fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn free_port() -> Result<u16> {
    if std::net::TcpListener::bind(("127.0.0.1", PREFERRED_PORT)).is_ok() {
        return Ok(PREFERRED_PORT);
    }
    any_free_port()
}

/// A port on 127.0.0.1 that was free a moment ago (the OS's choice).
pub fn any_free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).context("no free TCP port on 127.0.0.1")?;
    Ok(l.local_addr()?.port())
}

pub(super) fn path_str(p: &Path) -> Result<&str> {
    p.to_str().with_context(|| format!("path is not UTF-8: {}", p.display()))
}

pub(super) fn output_text(out: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    text.trim().to_string()
}
