//! The webhook inbox (`webhook_deliveries`): every delivery is stored, in the
//! same transaction as the job it enqueues, before the sender gets its 2xx.
//! [`admit`] decides what a verified delivery becomes, for the webhook
//! routes and for [`replay`] alike; nothing here answers HTTP or calls
//! DrChrono.

pub mod admit;
mod admit_drchrono;
pub mod drchrono_events;
pub mod json_guard;
mod listing;
pub mod replay;
mod store;

pub use admit::{Admission, Outcome};
pub use admit_drchrono::admit_all as admit_drchrono_all;
pub use listing::{DeliveryFilter, DeliveryRow, list};
pub use store::{Delivery, job_of_delivery, job_of_delivery_locked, record, set_job};
