//! `Debug` of the settings, written by hand so that a `{:?}` in a log line
//! or a panic says which secrets are set, never what they are. A derived
//! `Debug` would print every token, key and the database password.

use std::fmt;

use super::{Settings, archive::ArchiveArgs};

/// `Some("<redacted>")` for a set value, `None` for an unset one.
fn set(value: &Option<String>) -> Option<&'static str> {
    value.as_ref().map(|_| "<redacted>")
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &set(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("port", &self.port)
            .field("drchrono_webhook_secret", &set(&self.drchrono_webhook_secret))
            .field("drchrono_webhook_secret_previous", &set(&self.drchrono_webhook_secret_previous))
            .field("drchrono_api_base", &self.drchrono_api_base)
            .field("drchrono_access_token", &set(&self.drchrono_access_token))
            .field("drchrono_refresh_token", &set(&self.drchrono_refresh_token))
            .field("drchrono_client_id", &self.drchrono_client_id)
            .field("drchrono_client_secret", &set(&self.drchrono_client_secret))
            .field("token_encryption_key", &self.token_encryption_key)
            .field("token_encryption_key_previous", &self.token_encryption_key_previous)
            .field("drchrono_calls_per_hour", &self.drchrono_calls_per_hour)
            .field("drchrono_calls_per_second", &self.drchrono_calls_per_second)
            .field("drchrono_reconcile_percent", &self.drchrono_reconcile_percent)
            .field("drchrono_batch_poll_ms", &self.drchrono_batch_poll_ms)
            .field("drchrono_timeout_secs", &self.drchrono_timeout_secs)
            .field("practice_timezone", &self.practice_timezone)
            .field("phone_default_country", &self.phone_default_country)
            .field("partner_token", &set(&self.partner_token))
            .field("partner_token_previous", &set(&self.partner_token_previous))
            .field("admin_token", &set(&self.admin_token))
            .field("admin_token_previous", &set(&self.admin_token_previous))
            .field("console_readonly_token", &set(&self.console_readonly_token))
            .field("deepcura_shared_secret", &set(&self.deepcura_shared_secret))
            .field("deepcura_shared_secret_previous", &set(&self.deepcura_shared_secret_previous))
            .field("deepcura_scheme", &self.deepcura_scheme)
            .field("webhook_max_body_bytes", &self.webhook_max_body_bytes)
            .field("audit_values", &self.audit_values)
            .field("log_format", &self.log_format)
            .field("limits", &self.limits)
            .field("runner", &self.runner)
            .field("schedules", &self.schedules)
            .field("telemetry", &self.telemetry)
            .field("archive", &self.archive)
            .field("retention", &self.retention)
            .finish()
    }
}

impl fmt::Debug for ArchiveArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArchiveArgs")
            .field("provider_string", &self.provider_string)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_prefix", &self.s3_prefix)
            .field("s3_key_template", &self.s3_key_template)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_force_path_style", &self.s3_force_path_style)
            .field("s3_sse", &self.s3_sse)
            .field("s3_sse_kms_key_id", &self.s3_sse_kms_key_id)
            .field("aws_region", &self.aws_region)
            .field("aws_access_key_id", &self.aws_access_key_id)
            .field("aws_secret_access_key", &set(&self.aws_secret_access_key))
            .field("aws_session_token", &set(&self.aws_session_token))
            .field("my_aws_access_key_id", &self.my_aws_access_key_id)
            .field("my_aws_secret_access_key", &set(&self.my_aws_secret_access_key))
            .field("archive_max_pdf_bytes", &self.archive_max_pdf_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};

    use super::Settings;

    /// A setting added without a line above would be missing from `Debug`.
    #[test]
    fn debug_lists_every_setting() {
        let cmd = Settings::augment_args(clap::Command::new("test")).mut_args(|a| a.env(None));
        let s = Settings::from_arg_matches(&cmd.clone().try_get_matches_from(["test"]).unwrap()).unwrap();
        let shown = format!("{s:?}");
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            assert!(shown.contains(&format!("{id}:")), "Debug of Settings does not list {id}");
        }
    }

    #[test]
    fn debug_names_which_secrets_are_set_but_never_their_values() {
        let cmd = Settings::augment_args(clap::Command::new("test")).mut_args(|a| a.env(None));
        let mut s = Settings::from_arg_matches(&cmd.try_get_matches_from(["test"]).unwrap()).unwrap();
        let secrets = [
            "postgres://sync:db-password-0001@db/sync",
            "webhook-secret-0002",
            "webhook-secret-0003",
            "access-token-0004",
            "refresh-token-0005",
            "client-secret-0006",
            "partner-token-0007",
            "partner-token-0008",
            "admin-token-0009",
            "admin-token-0010",
            "deepcura-secret-0011",
            "deepcura-secret-0012",
            "aws-secret-0013",
            "aws-session-0014",
            "aws-secret-0015",
            "console-readonly-0016",
        ];
        let slots = [
            &mut s.database_url,
            &mut s.drchrono_webhook_secret,
            &mut s.drchrono_webhook_secret_previous,
            &mut s.drchrono_access_token,
            &mut s.drchrono_refresh_token,
            &mut s.drchrono_client_secret,
            &mut s.partner_token,
            &mut s.partner_token_previous,
            &mut s.admin_token,
            &mut s.admin_token_previous,
            &mut s.deepcura_shared_secret,
            &mut s.deepcura_shared_secret_previous,
            &mut s.archive.aws_secret_access_key,
            &mut s.archive.aws_session_token,
            &mut s.archive.my_aws_secret_access_key,
            &mut s.console_readonly_token,
        ];
        for (slot, value) in slots.into_iter().zip(secrets) {
            *slot = Some(value.into());
        }
        s.token_encryption_key = Some(jobs::drchrono::TokenKey::from_bytes(*b"0123456789abcdef0123456789abcdef"));
        s.token_encryption_key_previous =
            Some(jobs::drchrono::TokenKey::from_bytes(*b"fedcba9876543210fedcba9876543210"));
        let shown = format!("{s:?}");
        for value in secrets {
            assert!(!shown.contains(value), "Debug shows {value}: {shown}");
        }
        assert!(!shown.contains("db-password") && !shown.contains("0123456789abcdef"), "{shown}");
        assert!(!shown.contains("fedcba9876543210"), "{shown}");
        assert!(shown.contains("token_encryption_key_previous: Some(TokenKey(<redacted>))"), "{shown}");
        assert!(shown.contains("admin_token: Some(\"<redacted>\")"), "says which are set: {shown}");
    }
}
