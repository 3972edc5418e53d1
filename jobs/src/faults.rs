//! Fault injection for the crash tests: a named point where the process
//! aborts, as a crash at the worst moment would, when `DRCHRONO_SYNC_FAULT`
//! names that point.
//!
//! The check is compiled only with the `fault-injection` feature, which
//! only the integration tests turn on; in any other build [`reached`] does
//! nothing, whatever the environment says.

/// The one variable every fault point reads.
pub const VAR: &str = "DRCHRONO_SYNC_FAULT";

/// Where a crash test can stop the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// Right after a successful S3 PutObject, before the archive rows commit.
    AfterS3Put,
    /// Right after DrChrono's 201 to a create, before the result commits.
    AfterDrChronoCreate,
}

impl FaultPoint {
    /// The value of [`VAR`] that selects this point.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AfterS3Put => "abort-after-s3-put",
            Self::AfterDrChronoCreate => "abort-after-drchrono-create",
        }
    }
}

/// Aborts the process when [`VAR`] names `point` and fault injection is
/// compiled in.
pub fn reached(point: FaultPoint) {
    #[cfg(feature = "fault-injection")]
    if std::env::var(VAR).is_ok_and(|v| v == point.name()) {
        tracing::error!(fault = point.name(), "fault injection: aborting");
        std::process::abort();
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = point;
}
