//! Cross-site request forgery protection for every console form.
//!
//! Each session has a random token; every POST form carries it as the hidden
//! field `csrf`, and a POST without it (or with another) is refused with 403
//! before anything is read or changed. The cookie is `SameSite=Strict` as
//! well, so this is the second of two locks. Actions also need the admin
//! role: the read-only role gets 403 on every action.

use axum::{
    Form,
    body::{Body, Bytes},
    extract::{FromRequest, FromRequestParts, Request},
};
use maud::{Markup, html};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::{ConsoleError, Role, auth::Session};
use crate::AppState;

/// Largest action form read: a few ids and a short reason.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Whether `given` is the session's token, in constant time.
pub fn verify(session: &Session, given: Option<&str>) -> Result<(), ConsoleError> {
    let ok = given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(session.csrf.as_bytes())));
    if ok { Ok(()) } else { Err(ConsoleError::Forbidden(BAD_TOKEN)) }
}

const BAD_TOKEN: &str = "this form's security token is missing or stale; reload the page and submit it again";
const READ_ONLY: &str = "the read-only login acts on nothing; log in with ADMIN_TOKEN to do this";

/// The hidden field every POST form carries.
pub fn field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// An admin's action form: its session and its fields `T`, checked for the
/// CSRF token and the admin role before the handler runs.
pub struct Action<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Action<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        if session.role != Role::Admin {
            return Err(ConsoleError::Forbidden(READ_ONLY));
        }
        let bytes: Bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| ConsoleError::BadRequest("the form is too large; send fewer fields".into()))?;
        let given = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
        verify(&session, given.as_deref())?;
        let req = Request::from_parts(parts, Body::from(bytes));
        let Form(form) = Form::<T>::from_request(req, state).await.map_err(|e| {
            ConsoleError::BadRequest(format!("the form could not be read ({e}); reload the page and try again"))
        })?;
        Ok(Action { session, form })
    }
}
