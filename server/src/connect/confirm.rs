//! After storing the pair: one look at DrChrono with it, through the
//! ordinary client (budget, stored tokens), and the report connect prints.

use sqlx::PgPool;

use jobs::drchrono::{ClientSettings, DrChronoClient, missing_scopes};

use super::ConnectError;

/// What connect found; its `Display` is the report. It holds counts and
/// scope names only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub doctors: u64,
    pub offices: u64,
    /// As DrChrono reported them; `None` when its answer named none.
    pub granted_scope: Option<String>,
    /// Needed scopes not granted, with what each is for.
    pub missing: Vec<(&'static str, &'static str)>,
    /// Jobs that were waiting for a re-authorization, now due.
    pub resumed_jobs: u64,
}

pub(super) async fn confirm(
    pool: &PgPool,
    http: &reqwest::Client,
    settings: &ClientSettings,
    granted_scope: Option<&str>,
    resumed_jobs: u64,
) -> Result<Connected, ConnectError> {
    let client = DrChronoClient::new(pool, http, settings);
    let doctors = count(&client, "/api/doctors").await?;
    let offices = count(&client, "/api/offices").await?;
    let missing = granted_scope.map(missing_scopes).unwrap_or_default();
    Ok(Connected { doctors, offices, granted_scope: granted_scope.map(str::to_string), missing, resumed_jobs })
}

/// Records in a list, walked at the endpoint's largest page size (one call
/// for any practice of ordinary size).
async fn count(client: &DrChronoClient<'_>, path: &str) -> Result<u64, ConnectError> {
    let mut pages = client.pages(path, &[], None)?;
    let mut records = 0;
    while let Some(page) = pages.next_page().await? {
        records += page.len() as u64;
    }
    Ok(records)
}

impl std::fmt::Display for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Connected: tokens stored encrypted in oauth_tokens.")?;
        writeln!(f, "  doctors: {}", self.doctors)?;
        writeln!(f, "  offices: {}", self.offices)?;
        match &self.granted_scope {
            Some(scope) => writeln!(f, "  scopes granted: {scope}")?,
            None => writeln!(f, "  scopes granted: DrChrono did not say")?,
        }
        for (scope, why) in &self.missing {
            writeln!(
                f,
                "  MISSING scope {scope}: needed for {why}; enable it for the app in DrChrono's API console and run connect again"
            )?;
        }
        if self.resumed_jobs > 0 {
            writeln!(f, "  {} job(s) waiting for re-authorization resume now", self.resumed_jobs)?;
        }
        writeln!(f, "Next: `drchrono-sync check`, then start the service.")
    }
}
