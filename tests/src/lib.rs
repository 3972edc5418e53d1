//! Shared harness for the integration tests: fresh databases, test job
//! types, the service on a random port, the sandbox DrChrono, worker
//! processes to kill, a database proxy to cut and a headless browser.

pub mod app;
pub mod archive;
pub mod browser;
pub mod child;
pub mod console;
pub mod db;
pub mod inbox;
pub mod logs;
pub mod operator;
pub mod partner;
pub mod process;
pub mod proxy;
pub mod queue;
pub mod s3;
pub mod telemetry;
pub mod test_jobs;
pub mod wait;
