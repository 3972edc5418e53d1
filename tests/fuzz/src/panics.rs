//! Counts panics anywhere in this process (the service runs in it): a
//! handler's panic drops its connection, a job's is caught by the runner,
//! and neither must happen on any input.

use std::sync::{
    Once,
    atomic::{AtomicU64, Ordering},
};

static PANICS: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

/// Wraps the current panic hook with a counter (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// Panics since [`install`].
pub fn count() -> u64 {
    PANICS.load(Ordering::SeqCst)
}
