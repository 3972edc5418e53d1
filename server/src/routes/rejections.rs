//! Repeated authentication failures from one address, answered cheaply.
//!
//! A delivery that fails its signature or secret is stored (headers, size,
//! hash) so an operator can see a secret typo. Stored without limit, a
//! stream of them would fill the inbox and hold pool connections. So each
//! sending address may leave `WEBHOOK_REJECTED_PER_MINUTE` such rows a
//! minute; past that its failing deliveries get 429 with `Retry-After` and
//! touch no database. Verification still runs first, so an authentic
//! delivery is never held back, even when it shares an address (a proxy,
//! a balancer) with the one that fails.

use axum::{
    Json,
    extract::{ConnectInfo, Request},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;
use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{
    AppState,
    error::ApiError,
    inbox::{self, Delivery},
};

const WINDOW: Duration = Duration::from_secs(60);

/// Addresses tracked at once. Past it, new addresses share one budget, so
/// a flood from many addresses cannot grow the map without bound.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// Per-address counts of stored rejections, shared by every route.
#[derive(Clone)]
pub struct Rejections {
    per_minute: u32,
    windows: Arc<Mutex<HashMap<Option<IpAddr>, Window>>>,
}

/// What a handler does with a delivery that failed authentication.
pub enum Rejected {
    /// Store it, as before.
    Store,
    /// Answer 429 and store nothing; the first of a window logs a warning.
    Throttle { retry_after: u32, first: bool },
}

impl Rejections {
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute: per_minute.max(1), windows: Arc::default() }
    }

    /// Counts one rejection from `peer` (`None` when the address is
    /// unknown) and says whether it may be stored.
    pub fn count(&self, peer: Option<IpAddr>, now: Instant) -> Rejected {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_ADDRESSES && !windows.contains_key(&peer) {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let key = if windows.len() >= MAX_ADDRESSES && !windows.contains_key(&peer) { None } else { peer };
        let window = windows.entry(key).or_insert(Window { started: now, count: 0 });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window { started: now, count: 0 };
        }
        window.count = window.count.saturating_add(1);
        if window.count <= self.per_minute {
            return Rejected::Store;
        }
        let left = WINDOW.saturating_sub(now.duration_since(window.started));
        Rejected::Throttle { retry_after: left.as_secs().max(1) as u32, first: window.count == self.per_minute + 1 }
    }
}

/// The limiter and the sender's address, for a handler to consult when a
/// delivery fails authentication.
#[derive(Clone)]
pub struct Gate {
    rejections: Rejections,
    peer: Option<IpAddr>,
}

impl Gate {
    pub fn rejected(&self) -> Rejected {
        self.rejections.count(self.peer, Instant::now())
    }
}

/// Gives every request its [`Gate`]. The address is the TCP peer the
/// accept loop recorded; behind a proxy it is the proxy's.
pub async fn attach(
    axum::extract::State(rejections): axum::extract::State<Rejections>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    req.extensions_mut().insert(Gate { rejections, peer });
    next.run(req).await
}

/// Answers a delivery that failed authentication: stored as
/// `rejected_auth` and 401 within the address's budget, else 429 and
/// nothing stored.
pub async fn refuse(
    state: &AppState,
    gate: &Gate,
    delivery: &Delivery<'_>,
    reason: &str,
) -> Result<Response, ApiError> {
    let source = delivery.source;
    match gate.rejected() {
        Rejected::Store => {
            inbox::record(&state.pool, delivery, "rejected_auth", Some(reason)).await?;
            jobs::metrics::webhook_delivery(source, "rejected_auth");
            tracing::warn!(
                source,
                delivery_id = delivery.delivery_id,
                reason,
                "delivery rejected: authentication failed"
            );
            Err(ApiError::Unauthorized)
        }
        Rejected::Throttle { retry_after, first } => {
            jobs::metrics::webhook_delivery(source, "rejected_throttled");
            if first {
                tracing::warn!(
                    source,
                    peer = ?gate.peer,
                    "deliveries failing authentication beyond WEBHOOK_REJECTED_PER_MINUTE; further ones this minute get 429 and are not stored"
                );
            }
            Ok(throttled(retry_after))
        }
    }
}

/// The 429 of a throttled rejection: no body detail beyond what to do.
fn throttled(retry_after: u32) -> Response {
    let body = json!({
        "error": "Too Many Requests",
        "message": "too many deliveries from this address failed authentication; check the shared secret, then retry",
        "request_id": crate::request_id::current(),
    });
    crate::error::retry_after((StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response(), retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(r: Rejected) -> bool {
        matches!(r, Rejected::Store)
    }

    #[test]
    fn each_address_has_its_own_budget_that_renews_each_minute() {
        let limiter = Rejections::new(2);
        let (a, b) = (Some(IpAddr::from([10, 0, 0, 1])), Some(IpAddr::from([10, 0, 0, 2])));
        let t = Instant::now();
        assert!(stored(limiter.count(a, t)) && stored(limiter.count(a, t)));
        match limiter.count(a, t + Duration::from_secs(20)) {
            Rejected::Throttle { retry_after, first } => {
                assert_eq!(retry_after, 40, "the wait is what is left of the minute");
                assert!(first, "the first throttled rejection is the one that warns");
            }
            Rejected::Store => panic!("the third rejection within a minute must not be stored"),
        }
        assert!(matches!(limiter.count(a, t), Rejected::Throttle { first: false, .. }));
        assert!(stored(limiter.count(b, t)), "another address is not held back");
        assert!(stored(limiter.count(a, t + WINDOW)), "a new minute renews the budget");
    }

    #[test]
    fn a_flood_of_new_addresses_shares_one_budget_past_the_cap() {
        let limiter = Rejections::new(1);
        let t = Instant::now();
        for i in 0..MAX_ADDRESSES as u32 {
            assert!(stored(limiter.count(Some(IpAddr::from(i.to_be_bytes())), t)));
        }
        let late = |n: u32| Some(IpAddr::from((u32::MAX - n).to_be_bytes()));
        assert!(stored(limiter.count(late(0), t)), "the shared budget takes the first newcomer");
        assert!(!stored(limiter.count(late(1), t)), "further newcomers share that budget");
        assert!(limiter.windows.lock().unwrap().len() <= MAX_ADDRESSES + 1);
    }
}
