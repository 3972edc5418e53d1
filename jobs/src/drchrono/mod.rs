//! The DrChrono REST client. Every call is budgeted work and happens only
//! inside jobs, never on a request path.
//!
//! - [`tokens`]: OAuth tokens in Postgres, encrypted at rest ([`Keyring`]),
//!   refreshed single-flight across every process; `invalid_grant` stops all
//!   calls until a person re-authorizes ([`reauthorization_required`]).
//! - `authorize`: the authorization-code flow's authorize URL, needed
//!   scopes and code exchange ([`exchange_code`]).
//! - [`budget`]: the shared hourly call budget, webhook work first ([`Priority`]).
//! - [`client`]: objects and list walks, with DrChrono's statuses mapped onto
//!   job error classes ([`DrChronoError`] → `JobError`).
//! - [`pages`]: page-size maxima and appointment date chunks.
//! - `walk`: list walks, page by page ([`Pages`]).
//! - `writes`: POST and PATCH, through the same budget and error mapping.
//! - `http`: the client (no redirects followed) and the `https` check of the origin.

mod authorize;
pub mod batches;
pub mod budget;
mod calls;
pub mod client;
mod crypto;
mod error;
mod http;
mod keyring;
pub mod pages;
mod reauthorization;
mod responses;
pub mod settings;
mod token_grant;
pub mod tokens;
mod walk;
mod writes;

pub use authorize::{AuthorizedPair, NEEDED_SCOPES, authorize_url, exchange_code, missing_scopes, needed_scope_param};
pub use budget::{BudgetStatus, Priority, budget_status};
pub use client::DrChronoClient;
pub(crate) use crypto::{ACCESS, REFRESH, token_aad};
pub use crypto::{KeyId, OAUTH_CODE_AAD, TokenKey};
pub use error::{DrChronoError, REAUTH_MESSAGE_PREFIX, REAUTH_WAIT};
pub use http::{check_api_base, http_client};
pub use keyring::{Keyring, OpenError};
pub use pages::{MAX_PAGE_SIZES, MAX_RANGE_DAYS, VERBOSE_MAX_PAGE_SIZE, date_chunks, date_range_param, max_page_size};
pub use reauthorization::{
    ReauthRequired, StoredTokenState, read_stored_tokens, reauthorization_required, store_authorized_tokens,
    stored_token_state,
};
pub(crate) use responses::transport_kind;
pub use settings::ClientSettings;
pub use walk::{Pages, WalkStats};
