//! List facts: each endpoint's page-size maximum, and appointment date
//! ranges cut to what DrChrono serves.

use chrono::{Days, NaiveDate};

/// The largest `page_size` each list endpoint honours, in one place: 250 for
/// `/api/appointments` in DrChrono's OpenAPI (v4), "about 250" in its
/// support pages for the rest, and 1,000 for the bulk lists. A server that caps lower only costs more
/// pages: walks follow `next`, whatever size it gives back.
pub const MAX_PAGE_SIZES: &[(&str, usize)] = &[
    ("/api/patients", 250),
    ("/api/clinical_notes", 250),
    ("/api/medications", 250),
    ("/api/problems", 250),
    ("/api/allergies", 250),
    ("/api/doctors", 250),
    ("/api/offices", 250),
    ("/api/appointment_profiles", 250),
    ("/api/lab_orders", 250),
    ("/api/lab_results", 250),
    ("/api/patient_lab_results", 250),
    ("/api/tasks", 250),
    ("/api/line_items", 250),
    ("/api/appointments", 250),
    ("/api/appointments_list", super::batches::BATCH_PAGE_SIZE),
];

/// The largest page DrChrono serves with `verbose=true` outside
/// appointments: "about 25–50" in its support pages.
pub const VERBOSE_MAX_PAGE_SIZE: usize = 50;

/// The maximum page size of the list at `path` (trailing slash and query
/// ignored); `None` for an endpoint not in [`MAX_PAGE_SIZES`].
pub fn max_page_size(path: &str) -> Option<usize> {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    MAX_PAGE_SIZES.iter().find(|(p, _)| *p == path).map(|(_, n)| *n)
}

/// The most days one appointment `date_range` may cover, counting both ends.
/// DrChrono serves at most 190 and silently answers an empty list past that.
pub const MAX_RANGE_DAYS: u64 = 180;

/// Cuts `[from, to]` (both inclusive) into consecutive ranges of at most
/// [`MAX_RANGE_DAYS`] days each, with no gap and no overlap. A reversed
/// range (`to` before `from`) is empty: there is nothing to walk.
pub fn date_chunks(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut chunks = Vec::new();
    let mut start = from;
    while start <= to {
        let end = start.checked_add_days(Days::new(MAX_RANGE_DAYS - 1)).map_or(to, |e| e.min(to));
        chunks.push((start, end));
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    chunks
}

/// The `date_range` query value: `YYYY-MM-DD/YYYY-MM-DD`.
pub fn date_range_param((from, to): (NaiveDate, NaiveDate)) -> String {
    format!("{}/{}", from.format("%Y-%m-%d"), to.format("%Y-%m-%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn days((a, b): (NaiveDate, NaiveDate)) -> i64 {
        (b - a).num_days() + 1
    }

    /// Chunks must tile the range exactly and each stay within the limit.
    fn assert_tiles(from: NaiveDate, to: NaiveDate, chunks: &[(NaiveDate, NaiveDate)]) {
        assert_eq!(chunks.first().unwrap().0, from);
        assert_eq!(chunks.last().unwrap().1, to);
        for pair in chunks.windows(2) {
            assert_eq!(pair[0].1.succ_opt().unwrap(), pair[1].0, "no gap, no overlap");
        }
        for c in chunks {
            assert!(c.0 <= c.1 && days(*c) <= 180, "{c:?}");
        }
    }

    #[test]
    fn same_day_is_one_chunk() {
        assert_eq!(date_chunks(d("2025-03-01"), d("2025-03-01")), vec![(d("2025-03-01"), d("2025-03-01"))]);
    }

    #[test]
    fn exactly_180_days_is_one_chunk_and_181_is_two() {
        let from = d("2025-01-01");
        let to180 = from + Days::new(179);
        assert_eq!(date_chunks(from, to180), vec![(from, to180)]);
        let to181 = from + Days::new(180);
        let chunks = date_chunks(from, to181);
        assert_eq!(chunks, vec![(from, to180), (to181, to181)]);
        assert_tiles(from, to181, &chunks);
    }

    #[test]
    fn a_year_is_three_chunks_and_a_long_span_tiles() {
        let (from, to) = (d("2024-01-01"), d("2024-12-31"));
        let chunks = date_chunks(from, to);
        assert_eq!(chunks.len(), 3, "366 days: 180 + 180 + 6");
        assert_eq!(days(chunks[2]), 6);
        assert_tiles(from, to, &chunks);
        let (from, to) = (d("2015-06-15"), d("2026-02-28"));
        let chunks = date_chunks(from, to);
        assert_tiles(from, to, &chunks);
        assert_eq!(chunks.len() as i64, ((to - from).num_days() + 1 + 179) / 180);
    }

    #[test]
    fn reversed_input_is_empty() {
        assert!(date_chunks(d("2025-03-02"), d("2025-03-01")).is_empty());
    }

    #[test]
    fn range_param_is_drchronos_form() {
        assert_eq!(date_range_param((d("2025-01-01"), d("2025-06-29"))), "2025-01-01/2025-06-29");
    }

    #[test]
    fn page_sizes_come_from_one_table() {
        assert_eq!(max_page_size("/api/patients"), Some(250));
        assert_eq!(max_page_size("/api/appointments/"), Some(250));
        assert_eq!(max_page_size("/api/appointments?date=2025-01-01"), Some(250));
        assert_eq!(max_page_size("/api/unknown"), None);
    }
}
