//! The `test-worker` binary as a child process, for tests that kill it.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub struct WorkerProcess {
    pub process_id: String,
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl WorkerProcess {
    /// Starts `binary` (the test's `env!("CARGO_BIN_EXE_test-worker")`) on
    /// `queues` and waits for it to print its id.
    pub async fn spawn(binary: &str, database_url: &str, queues: &str) -> Self {
        Self::start(Command::new(binary).args([database_url, queues])).await
    }

    /// Starts `binary` (such as `service-worker`) with these environment
    /// variables added, and waits for its first line on stdout.
    pub async fn spawn_with_env(binary: &str, env: &[(&str, String)]) -> Self {
        let mut command = Command::new(binary);
        command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        Self::start(&mut command).await
    }

    async fn start(command: &mut Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("test-worker starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let process_id = stdout.next_line().await.expect("read").expect("test-worker prints its id");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Self { process_id, child, stderr }
    }

    /// SIGKILL: no cleanup, no graceful shutdown.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    /// Waits for the process to end by itself; true if it died abnormally.
    pub async fn wait_crash(&mut self) -> bool {
        !self.child.wait().await.expect("wait").success()
    }

    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }
}
