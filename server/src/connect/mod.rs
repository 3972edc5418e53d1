//! `drchrono-sync connect`: the OAuth authorization-code flow that gives the
//! service its DrChrono tokens, first time and after an `invalid_grant`.
//!
//! 1. [`begin`]: a one-time random state (only its hash is stored, in
//!    `oauth_pending`, for ten minutes) and the authorize URL to open.
//! 2. The person approves; DrChrono redirects to `GET /oauth/callback`,
//!    served by the running service (a server: `--redirect-uri`) or by
//!    connect's own listener (a laptop: `--listen`). The callback checks the
//!    state and stores the code sealed ([`callback`]).
//! 3. [`Authorization::complete`]: the code for a pair, stored encrypted
//!    through `store_authorized_tokens` (single-flight with refreshes; lifts
//!    a lockout and resumes the jobs waiting for it, with no restart), then
//!    one look at DrChrono to confirm ([`confirm`]).
//!
//! Nothing here prints or logs a token, a code or the state's hash.

pub mod callback;
mod confirm;
mod pending;

use std::{net::SocketAddr, time::Duration};

use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::{AppState, Settings};
pub use confirm::Connected;

/// How long an authorization waits for its callback.
pub const DEFAULT_WAIT_MINUTES: u64 = 10;

#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Receive DrChrono's callback on this address, for a laptop: the
    /// redirect URL is then http://ADDR/oauth/callback (port 0 picks a free one).
    #[arg(long)]
    pub listen: Option<SocketAddr>,

    /// The redirect URL registered in DrChrono's API console, when the running
    /// service receives the callback at its GET /oauth/callback (a server),
    /// e.g. https://sync.example.com/oauth/callback. Ignored with --listen.
    #[arg(long, env = "DRCHRONO_REDIRECT_URI")]
    pub redirect_uri: Option<String>,

    /// Minutes to wait for the callback before giving up.
    #[arg(long, default_value_t = DEFAULT_WAIT_MINUTES)]
    pub wait_minutes: u64,
}

/// Why connect stopped; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0} is not set; connect needs it ({1})")]
    Missing(&'static str, &'static str),
    #[error(
        "no redirect URL: pass --listen 127.0.0.1:PORT on a laptop, or --redirect-uri (DRCHRONO_REDIRECT_URI) \
         https://<service>/oauth/callback when the running service receives the callback"
    )]
    NoRedirect,
    #[error("cannot listen on {addr} ({reason}); choose a free --listen address")]
    Listen { addr: SocketAddr, reason: String },
    #[error("no callback arrived within {0} minute(s); run connect again and open the new URL")]
    Expired(u64),
    #[error("DrChrono answered the authorization with `{0}`; run connect again and approve the app")]
    Denied(String),
    #[error("the stored authorization code does not open ({0}); run connect again")]
    Unsealed(jobs::drchrono::OpenError),
    #[error(transparent)]
    DrChrono(#[from] jobs::drchrono::DrChronoError),
    #[error("database: {0}; check DATABASE_URL and run `drchrono-sync migrate`")]
    Database(String),
}

impl From<sqlx::Error> for ConnectError {
    fn from(e: sqlx::Error) -> Self {
        ConnectError::Database(job_runner::describe_db_error(&e))
    }
}

/// An authorization waiting for its callback. Dropping it stops the local
/// listener, if any.
pub struct Authorization {
    /// The URL to open in a browser (or, in tests, to follow with a client).
    pub authorize_url: url::Url,
    pub redirect_uri: String,
    state_hash: Vec<u8>,
    wait: Duration,
    _listener: Option<watch::Sender<bool>>,
}

/// Starts an authorization: stores the state's hash, starts the local
/// listener for `--listen`, and builds the authorize URL.
pub async fn begin(pool: &PgPool, settings: &Settings, args: &ConnectArgs) -> Result<Authorization, ConnectError> {
    let client_id = crate::config::secrets::present(&settings.drchrono_client_id)
        .ok_or(ConnectError::Missing("DRCHRONO_CLIENT_ID", "the client id of the app in DrChrono's API console"))?;
    crate::config::secrets::present(&settings.drchrono_client_secret)
        .ok_or(ConnectError::Missing("DRCHRONO_CLIENT_SECRET", "the app's client secret"))?;
    settings
        .token_encryption_key
        .as_ref()
        .ok_or(ConnectError::Missing("TOKEN_ENCRYPTION_KEY", "it encrypts the tokens; `openssl rand -base64 32`"))?;
    let (redirect_uri, listener) = match args.listen {
        Some(addr) => {
            let (uri, stop) = listen(addr, pool, settings).await?;
            (uri, Some(stop))
        }
        None => {
            (crate::config::secrets::present(&args.redirect_uri).ok_or(ConnectError::NoRedirect)?.to_string(), None)
        }
    };
    let state = hex::encode(rand::random::<[u8; 32]>());
    let wait = Duration::from_secs(args.wait_minutes.max(1) * 60);
    let state_hash = pending::state_hash(&state);
    let expires_at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::minutes(10));
    pending::open(pool, &state_hash, &redirect_uri, expires_at).await?;
    let authorize_url = jobs::drchrono::authorize_url(&settings.drchrono_api_base, client_id, &redirect_uri, &state)?;
    Ok(Authorization { authorize_url, redirect_uri, state_hash, wait, _listener: listener })
}

/// Serves only `GET /oauth/callback` on `addr` until the returned sender
/// is dropped; the redirect URL names the bound port.
async fn listen(
    addr: SocketAddr,
    pool: &PgPool,
    settings: &Settings,
) -> Result<(String, watch::Sender<bool>), ConnectError> {
    let failed = |e: std::io::Error| ConnectError::Listen { addr, reason: e.to_string() };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(failed)?;
    let bound = listener.local_addr().map_err(failed)?;
    let state = AppState { pool: pool.clone(), settings: std::sync::Arc::new(settings.clone()) };
    let app = axum::Router::new().route("/oauth/callback", axum::routing::get(callback::callback)).with_state(state);
    let (stop, mut stopped) = watch::channel(false);
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::warn!(error = %e, "the OAuth callback listener stopped");
        }
    });
    Ok((format!("http://{bound}/oauth/callback"), stop))
}

impl Authorization {
    /// Waits for the callback, exchanges the code, stores the pair and
    /// confirms it with DrChrono.
    pub async fn complete(self, pool: &PgPool, settings: &Settings) -> Result<Connected, ConnectError> {
        let keys =
            settings.token_keys().ok_or(ConnectError::Missing("TOKEN_ENCRYPTION_KEY", "it encrypts the tokens"))?;
        let sealed = self.wait_for_code(pool).await?;
        let code = keys.open(pending::CODE_AAD, &sealed).map_err(ConnectError::Unsealed)?;
        let client = settings.job_settings().drchrono;
        // Every request sets its own timeout (`ClientSettings::timeout`); no redirect is followed.
        let http = jobs::drchrono::http_client();
        let pair = jobs::drchrono::exchange_code(&http, &client, &code, &self.redirect_uri).await?;
        let resumed = jobs::drchrono::store_authorized_tokens(pool, &keys, &pair).await?;
        confirm::confirm(pool, &http, &client, pair.scope.as_deref(), resumed).await
    }

    async fn wait_for_code(&self, pool: &PgPool) -> Result<Vec<u8>, ConnectError> {
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            match pending::take(pool, &self.state_hash).await? {
                Some(pending::Callback::Code(sealed)) => return Ok(sealed),
                Some(pending::Callback::Error(code)) => return Err(ConnectError::Denied(code)),
                None if tokio::time::Instant::now() >= deadline => {
                    pending::forget(pool, &self.state_hash).await?;
                    return Err(ConnectError::Expired(self.wait.as_secs() / 60));
                }
                None => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// The whole command: prints the URL to open, waits, prints the report.
pub async fn run(pool: &PgPool, settings: &Settings, args: &ConnectArgs) -> Result<Connected, ConnectError> {
    let authorization = begin(pool, settings, args).await?;
    println!("Open this URL in a browser, log in to DrChrono as the practice and approve the app:\n");
    println!("  {}\n", authorization.authorize_url);
    println!("Waiting for DrChrono's callback at {} ...", authorization.redirect_uri);
    let connected = authorization.complete(pool, settings).await?;
    print!("{connected}");
    Ok(connected)
}
