//! Black-box tests of the sandbox over real HTTP, as the service's DrChrono
//! client will see it. One binary, one module per area.

mod appointments;
mod authorize;
mod bulk;
mod events;
mod faults;
mod harness;
mod oauth;
mod orders;
mod patients;
mod records;
mod spec;
mod webhooks;
mod writes;
