//! The inbound secrets, read so that configuration fails closed.
//!
//! - A variable set to an empty or whitespace-only value is unset: `cp
//!   .env.example .env` leaves `DRCHRONO_WEBHOOK_SECRET=` and must not turn
//!   an empty signature into a valid one. [`parse`] drops such variables
//!   before clap reads them, and every read of a secret goes through
//!   [`Settings::secrets`], which treats a blank value set in code the same way.
//! - A secret shorter than [`MIN_SECRET_BYTES`] stops the process
//!   ([`Settings::check_secrets`]) with one line that names the variable.
//! - Each has an optional `_PREVIOUS` value for a rotation: both are
//!   accepted, and a request that matched the previous one is logged, so the
//!   operator can change the sender and the service in either order.

use std::ffi::OsString;

use super::Settings;

/// Shorter secrets can be guessed; `openssl rand -hex 32` makes a good one.
pub const MIN_SECRET_BYTES: usize = 16;

/// The secrets that open an inbound endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    DrChronoWebhook,
    DeepCura,
    Partner,
    Admin,
    /// The console's read-only login; it has no `_PREVIOUS` value.
    ConsoleReadonly,
}

impl Inbound {
    pub const ALL: [Inbound; 5] =
        [Self::DrChronoWebhook, Self::DeepCura, Self::Partner, Self::Admin, Self::ConsoleReadonly];

    /// What answers 503 while the secret is unset.
    pub const fn opens(self) -> &'static str {
        match self {
            Self::DrChronoWebhook => "the DrChrono webhook endpoint",
            Self::DeepCura => "the Deep Cura endpoint",
            Self::Partner => "the partner appointment feed",
            Self::Admin => "the operator endpoints",
            Self::ConsoleReadonly => "the console's read-only login",
        }
    }

    /// What an unset secret means, as a log line or `check` says it.
    pub fn when_unset(self) -> String {
        match self {
            Self::ConsoleReadonly => "the console has no read-only login".into(),
            other => format!("{} answers 503", other.opens()),
        }
    }

    /// The environment variable; `{var}_PREVIOUS` holds the value being rotated out.
    pub const fn var(self) -> &'static str {
        match self {
            Self::DrChronoWebhook => "DRCHRONO_WEBHOOK_SECRET",
            Self::DeepCura => "DEEPCURA_SHARED_SECRET",
            Self::Partner => "PARTNER_TOKEN",
            Self::Admin => "ADMIN_TOKEN",
            Self::ConsoleReadonly => "CONSOLE_READONLY_TOKEN",
        }
    }
}

/// Which configured value a request matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Current,
    /// The `_PREVIOUS` value: the sender has not been moved to the new one yet.
    Previous,
}

/// An inbound secret as configured: the current value and, during a
/// rotation, the previous one. Blank values are absent; surrounding
/// whitespace is not part of a value (a sent one is trimmed too).
#[derive(Clone, Copy)]
pub struct Secrets<'a> {
    pub kind: Inbound,
    pub current: Option<&'a str>,
    pub previous: Option<&'a str>,
}

/// Says which values are set, never what they are.
impl std::fmt::Debug for Secrets<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("kind", &self.kind)
            .field("current", &self.current.map(|_| "<redacted>"))
            .field("previous", &self.previous.map(|_| "<redacted>"))
            .finish()
    }
}

impl<'a> Secrets<'a> {
    /// Off: neither value is configured, so the endpoint answers 503.
    pub fn is_off(&self) -> bool {
        self.current.is_none() && self.previous.is_none()
    }

    /// Which value `accepts` takes, current first; a match on the previous
    /// one is logged, so a finished rotation shows when it can be removed.
    pub fn matched(&self, accepts: impl Fn(&str) -> bool) -> Option<Matched> {
        if self.current.is_some_and(&accepts) {
            return Some(Matched::Current);
        }
        if self.previous.is_some_and(&accepts) {
            tracing::warn!(
                secret = self.kind.var(),
                "request authenticated with the _PREVIOUS secret; move the sender to the new one, then unset {}_PREVIOUS",
                self.kind.var()
            );
            return Some(Matched::Previous);
        }
        None
    }
}

/// `Some` of a value that is not blank, trimmed.
pub(crate) fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Settings {
    /// The configured values of `kind`.
    pub fn secrets(&self, kind: Inbound) -> Secrets<'_> {
        let (current, previous) = match kind {
            Inbound::DrChronoWebhook => (&self.drchrono_webhook_secret, &self.drchrono_webhook_secret_previous),
            Inbound::DeepCura => (&self.deepcura_shared_secret, &self.deepcura_shared_secret_previous),
            Inbound::Partner => (&self.partner_token, &self.partner_token_previous),
            Inbound::Admin => (&self.admin_token, &self.admin_token_previous),
            Inbound::ConsoleReadonly => (&self.console_readonly_token, &None),
        };
        Secrets { kind, current: present(current), previous: present(previous) }
    }

    /// Fails on the first secret shorter than [`MIN_SECRET_BYTES`], with one
    /// line naming the variable and how to make a good one.
    pub fn check_secrets(&self) -> Result<(), String> {
        for kind in Inbound::ALL {
            let s = self.secrets(kind);
            for (value, suffix) in [(s.current, ""), (s.previous, "_PREVIOUS")] {
                if let Some(v) = value.filter(|v| v.len() < MIN_SECRET_BYTES) {
                    return Err(format!(
                        "{}{suffix} is {} bytes; a secret needs at least {MIN_SECRET_BYTES}: make one with `openssl rand -hex 32` and set it on the sender too",
                        kind.var(),
                        v.len()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Parses `P` (a command line that flattens [`Settings`]) from `argv` and
/// the environment, every blank variable counting as unset; exits with
/// clap's message on a bad value, as `P::parse_from` does.
pub fn parse<P: clap::Parser>(argv: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> P {
    let cmd = blank_env_is_unset(P::command(), |name| {
        std::env::var_os(name).is_some_and(|v| v.to_string_lossy().trim().is_empty())
    });
    let parsed = cmd.try_get_matches_from(argv).and_then(|m| P::from_arg_matches(&m));
    parsed.unwrap_or_else(|e| e.exit())
}

/// Unbinds every argument whose environment variable `is_blank`, so clap
/// falls back to its default (or to unset) instead of taking `""`.
fn blank_env_is_unset(cmd: clap::Command, is_blank: impl Fn(&std::ffi::OsStr) -> bool) -> clap::Command {
    cmd.mut_args(|arg| match arg.get_env() {
        Some(name) if is_blank(name) => arg.env(None),
        _ => arg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, FromArgMatches};

    fn settings() -> Settings {
        let cmd = Settings::augment_args(clap::Command::new("test")).mut_args(|a| a.env(None));
        Settings::from_arg_matches(&cmd.try_get_matches_from(["test"]).unwrap()).unwrap()
    }

    #[test]
    fn blank_values_are_unset_and_the_endpoint_is_off() {
        let mut s = settings();
        s.drchrono_webhook_secret = Some("   ".into());
        s.partner_token = Some(String::new());
        assert!(s.secrets(Inbound::DrChronoWebhook).is_off());
        assert!(s.secrets(Inbound::Partner).is_off());
        assert_eq!(s.secrets(Inbound::Partner).matched(|given| given.is_empty()), None, "blank never matches");
        assert_eq!(s.check_secrets(), Ok(()));
    }

    #[test]
    fn a_short_secret_is_refused_with_its_variable_named() {
        let mut s = settings();
        s.admin_token_previous = Some("short".into());
        let err = s.check_secrets().unwrap_err();
        assert!(err.starts_with("ADMIN_TOKEN_PREVIOUS is 5 bytes") && err.contains("openssl rand -hex 32"), "{err}");
        assert!(!err.contains("short"), "the message never quotes the value: {err}");
        assert_eq!(err.lines().count(), 1);
    }

    #[test]
    fn the_previous_value_is_accepted_after_the_current_one() {
        let mut s = settings();
        s.deepcura_shared_secret = Some("new-secret-0123456789".into());
        s.deepcura_shared_secret_previous = Some("old-secret-0123456789".into());
        let secrets = s.secrets(Inbound::DeepCura);
        assert_eq!(secrets.matched(|g| g == "new-secret-0123456789"), Some(Matched::Current));
        assert_eq!(secrets.matched(|g| g == "old-secret-0123456789"), Some(Matched::Previous));
        assert_eq!(secrets.matched(|g| g == "neither"), None);
        assert!(!format!("{secrets:?}").contains("secret-0123456789"), "Debug redacts the values");
    }

    #[test]
    fn a_blank_environment_variable_falls_back_to_unset_or_the_default() {
        let cmd = blank_env_is_unset(Settings::augment_args(clap::Command::new("test")), |name| {
            name == "DRCHRONO_WEBHOOK_SECRET" || name == "DRCHRONO_API_BASE"
        });
        let unbound: Vec<_> =
            cmd.get_arguments().filter(|a| a.get_env().is_none()).map(|a| a.get_id().to_string()).collect();
        assert!(unbound.contains(&"drchrono_webhook_secret".to_string()), "{unbound:?}");
        assert!(unbound.contains(&"drchrono_api_base".to_string()), "{unbound:?}");
        let bound = cmd.get_arguments().filter(|a| a.get_env().is_some()).count();
        assert!(bound > 20, "only the blank variables are unbound");
    }
}
