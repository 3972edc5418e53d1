//! The count of requests one client made: what DrChrono bills. Token
//! grants count too, so the token code adds to it without knowing the client.

use std::sync::atomic::{AtomicU64, Ordering};

/// Requests made, token refreshes included.
#[derive(Debug, Default)]
pub(crate) struct CallCount(AtomicU64);

impl CallCount {
    pub(crate) fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
