//! The parts that read the database and the configuration.

use sqlx::PgPool;

use super::Part;
use crate::{
    Settings,
    config::secrets::{Inbound, MIN_SECRET_BYTES},
};

pub(super) async fn migrations(pool: &PgPool) -> Part {
    const NAME: &str = "migrations";
    const FIX: &str = "run `drchrono-sync migrate` (the service also migrates at start unless --no-migrate)";
    if let Err(e) = job_runner::queries::schema_ready(pool).await {
        return Part::fail(NAME, format!("job tables missing ({})", job_runner::describe_db_error(&e)), FIX);
    }
    match jobs::migrate::unapplied(pool).await {
        Ok(unapplied) if unapplied.is_empty() => Part::ok(NAME, "every embedded migration is applied"),
        Ok(unapplied) => Part::fail(NAME, format!("{} not applied: {}", unapplied.len(), unapplied.join(", ")), FIX),
        Err(e) => {
            Part::fail(NAME, format!("cannot read _sqlx_migrations ({})", job_runner::describe_db_error(&e)), FIX)
        }
    }
}

/// Present, decryptable, not flagged, refreshable; never refreshed here.
pub(super) async fn tokens(pool: &PgPool, settings: &Settings) -> Part {
    const NAME: &str = "drchrono tokens";
    const CONNECT: &str = "run `drchrono-sync connect` to authorize the app";
    let Some(keys) = settings.token_keys() else {
        if settings.job_settings().drchrono.access_token.is_some() && settings.drchrono_client_id.is_none() {
            return Part::ok(NAME, "static DRCHRONO_ACCESS_TOKEN, used as is and never refreshed");
        }
        return Part::fail(
            NAME,
            "TOKEN_ENCRYPTION_KEY is not set",
            "set TOKEN_ENCRYPTION_KEY (`openssl rand -base64 32`)",
        );
    };
    let client = settings.job_settings().drchrono;
    if client.client_id.is_none() || client.client_secret.is_none() {
        return Part::fail(
            NAME,
            "no OAuth client configured",
            "set DRCHRONO_CLIENT_ID and DRCHRONO_CLIENT_SECRET from DrChrono's API console",
        );
    }
    let state = match jobs::drchrono::stored_token_state(pool, &keys).await {
        Ok(state) => state,
        Err(e) => {
            return Part::fail(
                NAME,
                format!("cannot read oauth_tokens ({})", job_runner::describe_db_error(&e)),
                "run `drchrono-sync migrate`",
            );
        }
    };
    let Some(state) = state else {
        if client.access_token.is_some() {
            return Part::ok(NAME, "none stored yet; DRCHRONO_ACCESS_TOKEN is stored encrypted on first start");
        }
        return Part::fail(NAME, "no tokens stored", CONNECT);
    };
    if !state.decryptable {
        return Part::fail(
            NAME,
            "stored tokens open with neither TOKEN_ENCRYPTION_KEY nor TOKEN_ENCRYPTION_KEY_PREVIOUS",
            "set TOKEN_ENCRYPTION_KEY_PREVIOUS to the key they were stored with (then `cargo xtask rotate-key`), or run `drchrono-sync connect`",
        );
    }
    if state.needs_reauth {
        return Part::fail(NAME, "DrChrono refused the refresh token; every DrChrono call is stopped", CONNECT);
    }
    if !state.has_refresh_token {
        return Part::fail(NAME, "no refresh token stored: the access token cannot be renewed", CONNECT);
    }
    if state.expired {
        return Part::ok(
            NAME,
            "stored encrypted; access token expired, the refresh token (present, not flagged) renews it on the first call",
        );
    }
    Part::ok(NAME, "stored encrypted, not expired; refresh token present and not flagged")
}

/// The scopes granted at the last `connect`, against those the service uses.
pub(super) async fn scopes(pool: &PgPool, settings: &Settings) -> Part {
    const NAME: &str = "drchrono scopes";
    let granted = match settings.token_keys() {
        Some(keys) => {
            jobs::drchrono::stored_token_state(pool, &keys).await.ok().flatten().and_then(|s| s.granted_scope)
        }
        None => None,
    };
    let Some(granted) = granted else {
        return Part::ok(NAME, "not recorded (tokens not from `connect`); `connect` reports them").optional();
    };
    let missing = jobs::drchrono::missing_scopes(&granted);
    if missing.is_empty() {
        return Part::ok(NAME, "every needed scope granted");
    }
    let named: Vec<String> = missing.iter().map(|(scope, why)| format!("{scope} ({why})")).collect();
    Part::fail(
        NAME,
        format!("missing: {}", named.join("; ")),
        "enable the scopes for the app in DrChrono's API console, then run `drchrono-sync connect`",
    )
    .optional()
}

/// Each inbound endpoint: configured, or deliberately off (its secret unset).
pub(super) fn inbound(settings: &Settings) -> Vec<Part> {
    Inbound::ALL
        .into_iter()
        .map(|kind| {
            let name = part_name(kind);
            let secrets = settings.secrets(kind);
            let short = [secrets.current, secrets.previous].into_iter().flatten().any(|v| v.len() < MIN_SECRET_BYTES);
            match secrets.current {
                _ if short => Part::fail(
                    name,
                    format!("{} is shorter than {MIN_SECRET_BYTES} bytes", kind.var()),
                    format!("set {} to `openssl rand -hex 32` (and on the sender)", kind.var()),
                ),
                Some(_) if secrets.previous.is_some() => {
                    Part::ok(name, format!("configured; {}_PREVIOUS still accepted (rotation)", kind.var()))
                }
                Some(_) => Part::ok(name, "configured"),
                None => Part::off(
                    name,
                    format!("{} unset: {}", kind.var(), kind.when_unset()),
                    format!("set {} to turn it on", kind.var()),
                ),
            }
        })
        .collect()
}

fn part_name(kind: Inbound) -> &'static str {
    match kind {
        Inbound::DrChronoWebhook => "drchrono webhooks",
        Inbound::DeepCura => "deep cura",
        Inbound::Partner => "partner feed",
        Inbound::Admin => "admin endpoints",
        Inbound::ConsoleReadonly => "console read-only login",
    }
}
