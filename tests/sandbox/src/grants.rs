//! What a test does to the practice's authorization of the app: narrow the
//! scopes it may be granted, revoke it in the console, count exchanges.

use crate::Sandbox;

impl Sandbox {
    /// From now on an authorization grants only these scopes (of those
    /// requested), e.g. a set without `calendar:read`.
    pub fn permit_scopes(&self, scopes: &str) {
        self.shared.lock().permitted_scopes = scopes.to_owned();
    }

    /// The scopes the live pair was granted.
    pub fn granted_scopes(&self) -> String {
        self.shared.lock().tokens.scope.clone()
    }

    /// Revokes the app as the practice would in DrChrono's console: the
    /// live access token answers 401 and its refresh token `invalid_grant`.
    /// Only a new authorization (`/o/authorize/`, then the code) recovers.
    pub fn revoke_grant(&self) {
        self.shared.lock().tokens.revoke();
    }

    /// Authorization codes exchanged for a pair so far.
    pub fn code_exchanges(&self) -> u64 {
        self.shared.lock().codes.exchanges
    }
}
