//! Every job the service runs. A new job is one file in `catalog/`, one line here,
//! and one row in the README's Jobs table.

use job_runner::Registry;

use crate::{JobContext, catalog};

pub fn all() -> Registry<JobContext> {
    Registry::new()
        .register::<catalog::UpsertRecord>()
        .register::<catalog::FetchRecord>()
        .register::<catalog::SyncRecords>()
        .register::<catalog::SyncPatientLists>()
        .register::<catalog::Cleanup>()
        .register::<catalog::DecryptGridhook>()
        .register::<catalog::LinkNote>()
        .register::<catalog::ApplyPartnerAppointmentEvent>()
        .register::<catalog::ArchivePdf>()
        .register::<catalog::PushAppointment>()
        .register::<catalog::PushPatient>()
}

#[cfg(test)]
mod tests {
    /// The job names in the first column of the README's "Jobs" table.
    fn readme_jobs_table(readme: &str) -> Vec<&str> {
        let section = readme.split("\n## Jobs\n").nth(1).expect("the README has a `## Jobs` section");
        let section = section.split("\n## ").next().unwrap_or(section);
        section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once("` |").map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_registered_job_has_one_row_in_the_readme_jobs_table() {
        let listed = readme_jobs_table(include_str!("../../README.md"));
        let registered = super::all().names();
        for name in &registered {
            let rows = listed.iter().filter(|l| *l == name).count();
            assert_eq!(rows, 1, "job `{name}` has {rows} rows in the README's Jobs table; give it exactly one");
        }
        for name in &listed {
            assert!(registered.contains(name), "the README's Jobs table lists `{name}`, which is not registered");
        }
    }

    #[test]
    fn the_table_reader_sees_rows_and_ignores_other_sections() {
        let readme =
            "# x\n## Jobs\n| Job | a |\n| --- | --- |\n| `one` | x |\n| `two` | y |\n## Other\n| `three` | z |\n";
        assert_eq!(readme_jobs_table(readme), ["one", "two"]);
    }
}
