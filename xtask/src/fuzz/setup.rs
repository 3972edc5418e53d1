//! The service under fuzz: the sandbox DrChrono without its burst limit (the
//! fuzzer's fetches are many, and a 429 only defers them), the service on a
//! fresh `drchrono_sync_fuzz` database with every inbound credential set.

use anyhow::Result;
use sandbox::{GridhookScheme, Sandbox, SandboxConfig};

use crate::{db, service};

const DATABASE: &str = "drchrono_sync_fuzz";
const PARTNER_TOKEN: &str = "local-fuzz-partner-token";
const ADMIN_TOKEN: &str = "local-fuzz-admin-token";

pub struct Local {
    pub service: service::LocalService,
    pub target: fuzz::Target,
    pub samples: fuzz::Samples,
    /// Kept running for the jobs' calls.
    _sandbox: Sandbox,
}

pub async fn start() -> Result<Local> {
    let pg = db::locate().await?;
    let url = db::create_database(&pg.url, DATABASE).await?;
    let sandbox = Sandbox::spawn(SandboxConfig { patients: 20, calls_per_second: None, ..Default::default() }).await?;
    let mut max_body = 0;
    let service = service::start_with(&url, &sandbox, |s| {
        s.partner_token = Some(PARTNER_TOKEN.into());
        s.admin_token = Some(ADMIN_TOKEN.into());
        s.deepcura_scheme = jobs::deepcura::Scheme::Sha256Iv;
        max_body = s.webhook_max_body_bytes;
    })
    .await?;
    println!("fuzz: service {} on database {DATABASE}, sandbox {}", service.url, sandbox.base_url());
    let target = fuzz::Target {
        base_url: service.url.clone(),
        webhook_secret: service::WEBHOOK_SECRET.into(),
        deepcura_secret: service::DEEPCURA_SECRET.into(),
        deepcura_scheme: GridhookScheme::Sha256Iv,
        partner_token: PARTNER_TOKEN.into(),
        admin_token: ADMIN_TOKEN.into(),
        max_body,
    };
    let samples = fuzz::Samples::from_sandbox(&sandbox);
    Ok(Local { service, target, samples, _sandbox: sandbox })
}
