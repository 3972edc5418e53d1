//! Shared harness for the integration tests: fresh databases, test job
//! types, the service on a random port and the sandbox DrChrono.

pub mod app;
pub mod db;
pub mod test_jobs;
pub mod wait;
