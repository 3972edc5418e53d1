//! Every job the service runs. A new job is one file in `jobs/` plus one line here.

use crate::{JobContext, jobs, runner::Registry};

pub fn all() -> Registry<JobContext> {
    Registry::new()
        .register::<jobs::UpsertRecord>()
        .register::<jobs::FetchRecord>()
        .register::<jobs::SyncRecords>()
        .register::<jobs::SyncPatientLists>()
        .register::<jobs::Cleanup>()
        .register::<jobs::DecryptGridhook>()
        .register::<jobs::LinkNote>()
        .register::<jobs::ApplyPartnerAppointmentEvent>()
        .register::<jobs::ArchivePdf>()
        .register::<jobs::PushAppointment>()
        .register::<jobs::PushPatient>()
}
