//! The command line's defaults are the ones the job and runner crates
//! define: each is written once, as a constant, and both sides use it.

use clap::{Args, Command, FromArgMatches};

use super::Settings;

/// The settings with nothing given, whatever this process's environment holds.
fn defaults() -> Settings {
    let cmd = Settings::augment_args(Command::new("test")).mut_args(|a| a.env(None));
    let matches = cmd.try_get_matches_from(["test"]).expect("the defaults parse");
    Settings::from_arg_matches(&matches).expect("the defaults make settings")
}

#[test]
fn the_job_settings_defaults_are_the_command_line_defaults() {
    assert_eq!(format!("{:?}", defaults().job_settings()), format!("{:?}", jobs::JobSettings::default()));
}

#[test]
fn the_runner_defaults_are_the_command_line_defaults() {
    let (given, default) = (defaults().runner_config(), job_runner::RunnerConfig::default());
    assert_eq!(
        (given.heartbeat_interval, given.missed_heartbeats, given.poll_interval, given.batch_size),
        (default.heartbeat_interval, default.missed_heartbeats, default.poll_interval, default.batch_size)
    );
}

#[test]
fn the_retention_defaults_are_the_cleanup_jobs_and_a_zero_age_is_refused() {
    assert_eq!(format!("{:?}", defaults().retention.cleanup()), format!("{:?}", jobs::catalog::Cleanup::default()));
    let cmd = Settings::augment_args(Command::new("test")).mut_args(|a| a.env(None));
    let refused = cmd.try_get_matches_from(["test", "--retention-rejected-days", "0"]);
    assert!(refused.is_err(), "a zero age would prune every rejected delivery at once");
}
