//! Value parsers whose errors name the variable and never quote a secret.

/// Parses `TOKEN_ENCRYPTION_KEY` (and `_PREVIOUS`). A custom parser because clap's own error
/// for a bad value quotes the value, and this one is a secret: the error
/// names the variable and says what is wrong, never what was given.
#[derive(Clone)]
pub(super) struct TokenKeyParser;

impl clap::builder::TypedValueParser for TokenKeyParser {
    type Value = jobs::drchrono::TokenKey;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        use clap::error::ErrorKind;
        let name = arg
            .and_then(|a| a.get_env())
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_else(|| "TOKEN_ENCRYPTION_KEY".into());
        let text = value
            .to_str()
            .ok_or_else(|| clap::Error::raw(ErrorKind::InvalidUtf8, format!("{name} is not valid UTF-8\n")))?;
        jobs::drchrono::TokenKey::from_base64_var(&name, text)
            .map_err(|message| clap::Error::raw(ErrorKind::ValueValidation, format!("{message}\n")).with_cmd(cmd))
    }
}

/// Parses a `SCHEDULE_*` value into one line that names the variable, says
/// what is wrong and shows a valid example.
#[derive(Clone)]
pub(super) struct CronParser;

impl clap::builder::TypedValueParser for CronParser {
    type Value = scheduler::Cron;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        use clap::error::ErrorKind;
        let name = arg
            .and_then(|a| a.get_env())
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_else(|| "a SCHEDULE_* variable".into());
        let text = value
            .to_str()
            .ok_or_else(|| clap::Error::raw(ErrorKind::InvalidUtf8, format!("{name} is not valid UTF-8\n")))?;
        text.parse().map_err(|e| clap::Error::raw(ErrorKind::ValueValidation, format!("{name}: {e}\n")).with_cmd(cmd))
    }
}
