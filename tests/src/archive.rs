//! The service archiving note PDFs to the test S3 server, against the
//! sandbox's note PDFs, and what it recorded.

use sandbox::{Kind, Sandbox};
use serde_json::Value;
use sqlx::PgPool;

use crate::{
    app::{TestApp, spawn_app_configured},
    s3::TestS3,
};

pub struct ArchiveApp {
    pub app: TestApp,
    pub s3: TestS3,
    /// PROVIDER_STRING: the practice's first doctor, "Dr. First Last".
    pub provider: String,
    pub doctor: i64,
}

/// The service with archiving on: PROVIDER_STRING names the sandbox's first
/// doctor, and the archive is the test S3 server. `configure` may adjust the
/// settings further.
pub async fn spawn_archiving_app(
    workers: bool,
    patients: usize,
    configure: impl FnOnce(&mut server::Settings),
) -> ArchiveApp {
    let s3 = TestS3::start().await;
    let mut chosen = None;
    let app = spawn_app_configured(workers, patients, |settings, sandbox| {
        let doctor = sandbox.ids(Kind::Doctor)[0];
        let provider = doctor_name(sandbox, doctor);
        s3.configure(&mut settings.archive, &provider);
        configure(settings);
        chosen = Some((provider, doctor));
    })
    .await;
    let (provider, doctor) = chosen.expect("configured");
    ArchiveApp { app, s3, provider, doctor }
}

/// "Dr. First Last", as the doctor signs note PDFs.
pub fn doctor_name(sandbox: &Sandbox, doctor: i64) -> String {
    let record = sandbox.record(Kind::Doctor, doctor).expect("doctor");
    let field = |k: &str| record[k].as_str().unwrap_or_default().to_string();
    format!("Dr. {} {}", field("first_name"), field("last_name"))
}

impl ArchiveApp {
    /// Notes written by `doctor` (or by anyone else, with `by_doctor` false).
    pub fn notes(&self, by_doctor: bool) -> Vec<i64> {
        let sandbox = &self.app.sandbox;
        sandbox
            .ids(Kind::ClinicalNote)
            .into_iter()
            .filter(|id| {
                let note = sandbox.record(Kind::ClinicalNote, *id).expect("note");
                (note["doctor"].as_i64() == Some(self.doctor)) == by_doctor
            })
            .collect()
    }

    /// Locks a note in DrChrono and delivers `CLINICAL_NOTE_LOCK` for it.
    pub async fn lock(&self, note: i64) -> Value {
        let object = self.app.sandbox.lock_note(note, true).expect("note");
        let resp = self.app.drchrono().send("CLINICAL_NOTE_LOCK", &object).await.expect("delivered");
        assert_eq!(resp.status(), 200);
        object
    }

    pub async fn unlock(&self, note: i64) {
        let object = self.app.sandbox.lock_note(note, false).expect("note");
        self.app.drchrono().send("CLINICAL_NOTE_UNLOCK", &object).await.expect("delivered");
    }

    /// The variables a separate service process needs to work like this app.
    pub fn service_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.s3.env(&self.provider);
        env.extend(self.app.worker_env().into_iter().filter(|(k, _)| *k != "DATABASE_URL"));
        env
    }
}

/// A note's most recent verdict: (result, reason, matched page).
pub async fn latest_check(pool: &PgPool, note: i64) -> Option<(String, Option<String>, Option<i32>)> {
    sqlx::query_as(
        "SELECT result, reason, matched_page FROM pdf_checks WHERE clinical_note_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(note)
    .fetch_optional(pool)
    .await
    .expect("pdf_checks")
}

/// A note's archived versions: (version, key, sha256, size).
pub async fn archived(pool: &PgPool, note: i64) -> Vec<(i32, String, String, i64)> {
    sqlx::query_as(
        "SELECT version, object_key, sha256, size_bytes FROM archived_pdfs WHERE clinical_note_id = $1 ORDER BY version",
    )
    .bind(note)
    .fetch_all(pool)
    .await
    .expect("archived_pdfs")
}

/// Lowercase hex SHA-256, as `archived_pdfs.sha256` holds it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
