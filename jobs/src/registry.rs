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
    /// The rows of the README's "Jobs" table: every cell of each row whose
    /// first cell is a backticked job name.
    fn readme_jobs_table(readme: &str) -> Vec<Vec<&str>> {
        let section = readme.split("\n## Jobs\n").nth(1).expect("the README has a `## Jobs` section");
        let section = section.split("\n## ").next().unwrap_or(section);
        section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect()
    }

    /// `60 s`, `5 min`, `1 h` as seconds.
    fn seconds(cell: &str) -> Option<u64> {
        let (n, unit) = cell.split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        Some(match unit {
            "s" => n,
            "min" => n * 60,
            "h" => n * 3600,
            _ => return None,
        })
    }

    #[test]
    fn every_registered_job_has_one_true_row_in_the_readme_jobs_table() {
        let rows = readme_jobs_table(include_str!("../../README.md"));
        let registry = super::all();
        for job in registry.jobs() {
            let name = format!("`{}`", job.name);
            let mine: Vec<_> = rows.iter().filter(|r| r[0] == name).collect();
            assert_eq!(
                mine.len(),
                1,
                "job {name} has {} rows in the README's Jobs table; give it exactly one",
                mine.len()
            );
            let row = mine[0];
            assert_eq!(row.len(), 7, "the row of {name} has 7 cells: {row:?}");
            assert_eq!(row[3], job.max_attempts.to_string(), "max attempts of {name}");
            assert_eq!(seconds(row[4]), Some(job.timeout.as_secs()), "timeout of {name}: {}", row[4]);
            assert_eq!(row[5], job.concurrency.to_string(), "concurrency of {name}");
        }
        let names: Vec<String> = registry.names().iter().map(|n| format!("`{n}`")).collect();
        for row in &rows {
            assert!(
                names.contains(&row[0].to_string()),
                "the README's Jobs table lists {}, which is not registered",
                row[0]
            );
        }
    }

    #[test]
    fn the_table_reader_sees_rows_and_ignores_other_sections() {
        let readme =
            "# x\n## Jobs\n| Job | a |\n| --- | --- |\n| `one` | x |\n| `two` | y |\n## Other\n| `three` | z |\n";
        let first: Vec<&str> = readme_jobs_table(readme).iter().map(|r| r[0]).collect();
        assert_eq!(first, ["`one`", "`two`"]);
        assert_eq!(seconds("30 min"), Some(1800));
    }
}
