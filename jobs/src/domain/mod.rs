//! Domain tables mirrored from DrChrono. Upserts take whole pages of API
//! objects in one statement, are idempotent, and are stale-safe: an older
//! `updated_at` never overwrites a newer one. Column extraction lives in
//! `sql/*.sql`, one file per table.

pub mod audit;
pub mod batches;
pub mod insurances;
pub mod mapping;
pub mod patient_search;
pub mod removals;
pub mod sync_state;

pub use mapping::{Locale, PhoneCountry};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Acquire, PgConnection, Postgres};

/// How far ahead of our clock an object's `updated_at` is believed; later
/// stamps are taken as this far ahead (`sql/upsert_head.sql`), so one object
/// dated years ahead cannot freeze its row against every later version.
pub const FUTURE_SKEW: chrono::Duration = chrono::Duration::hours(1);

/// The DrChrono record types with a table of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Patient,
    Doctor,
    Appointment,
    ClinicalNote,
    Medication,
    Problem,
    Allergy,
    Office,
    AppointmentProfile,
    LabOrder,
    LabResult,
    PatientLabResult,
    Task,
    LineItem,
}

impl RecordKind {
    pub const ALL: [RecordKind; 14] = [
        Self::Patient,
        Self::Doctor,
        Self::Appointment,
        Self::ClinicalNote,
        Self::Medication,
        Self::Problem,
        Self::Allergy,
        Self::Office,
        Self::AppointmentProfile,
        Self::LabOrder,
        Self::LabResult,
        Self::PatientLabResult,
        Self::Task,
        Self::LineItem,
    ];

    /// Whether DrChrono's list of this kind takes `since`: only those can be
    /// walked incrementally from a cursor; the others are walked whole.
    pub fn takes_since(self) -> bool {
        !matches!(self, Self::Doctor | Self::Office | Self::AppointmentProfile | Self::LabResult)
    }

    /// Stable snake_case name, used in job keys and the inbox.
    pub fn name(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Doctor => "doctor",
            Self::Appointment => "appointment",
            Self::ClinicalNote => "clinical_note",
            Self::Medication => "medication",
            Self::Problem => "problem",
            Self::Allergy => "allergy",
            Self::Office => "office",
            Self::AppointmentProfile => "appointment_profile",
            Self::LabOrder => "lab_order",
            Self::LabResult => "lab_result",
            Self::PatientLabResult => "patient_lab_result",
            Self::Task => "task",
            Self::LineItem => "line_item",
        }
    }

    pub fn table(self) -> &'static str {
        match self {
            Self::Patient => "patients",
            Self::Doctor => "doctors",
            Self::Appointment => "appointments",
            Self::ClinicalNote => "clinical_notes",
            Self::Medication => "medications",
            Self::Problem => "problems",
            Self::Allergy => "allergies",
            Self::Office => "offices",
            Self::AppointmentProfile => "appointment_profiles",
            Self::LabOrder => "lab_orders",
            Self::LabResult => "lab_results",
            Self::PatientLabResult => "patient_lab_results",
            Self::Task => "tasks",
            Self::LineItem => "line_items",
        }
    }

    /// The API collection, such as `/api/patients`.
    pub fn api_path(self) -> &'static str {
        match self {
            Self::Patient => "/api/patients",
            Self::Doctor => "/api/doctors",
            Self::Appointment => "/api/appointments",
            Self::ClinicalNote => "/api/clinical_notes",
            Self::Medication => "/api/medications",
            Self::Problem => "/api/problems",
            Self::Allergy => "/api/allergies",
            Self::Office => "/api/offices",
            Self::AppointmentProfile => "/api/appointment_profiles",
            Self::LabOrder => "/api/lab_orders",
            Self::LabResult => "/api/lab_results",
            Self::PatientLabResult => "/api/patient_lab_results",
            Self::Task => "/api/tasks",
            Self::LineItem => "/api/line_items",
        }
    }

    /// The fields DrChrono sends only with `verbose=true` (its OpenAPI, v4).
    /// A plain list or a webhook leaves them out, so the upsert keeps the
    /// stored ones rather than erasing what a verbose walk brought.
    pub fn verbose_only_keys(self) -> &'static [&'static str] {
        match self {
            Self::Patient => &[
                "primary_insurance",
                "secondary_insurance",
                "tertiary_insurance",
                "auto_accident_insurance",
                "workers_comp_insurance",
                "custom_demographics",
                "referring_doctor",
                "patient_flags",
                "patient_flags_attached",
            ],
            Self::Allergy => &["description"],
            Self::Appointment => &["vitals", "custom_fields", "reminders", "status_transitions"],
            _ => &[],
        }
    }

    /// The batch upsert: a shared head (one newest row per id), this table's
    /// columns, and a shared stale-safe tail.
    fn upsert_sql(self) -> &'static str {
        macro_rules! upsert {
            ($table:literal) => {
                concat!(
                    include_str!("sql/upsert_head.sql"),
                    include_str!(concat!("sql/", $table, ".sql")),
                    include_str!("sql/upsert_tail.sql")
                )
            };
        }
        match self {
            Self::Patient => upsert!("patients"),
            Self::Doctor => upsert!("doctors"),
            Self::Appointment => upsert!("appointments"),
            Self::ClinicalNote => upsert!("clinical_notes"),
            Self::Medication => upsert!("medications"),
            Self::Problem => upsert!("problems"),
            Self::Allergy => upsert!("allergies"),
            Self::Office => upsert!("offices"),
            Self::AppointmentProfile => upsert!("appointment_profiles"),
            Self::LabOrder => upsert!("lab_orders"),
            Self::LabResult => upsert!("lab_results"),
            Self::PatientLabResult => upsert!("patient_lab_results"),
            Self::Task => upsert!("tasks"),
            Self::LineItem => upsert!("line_items"),
        }
    }
}

/// What an upsert of a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertCounts {
    pub seen: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Stored rows that were newer or identical.
    pub unchanged: u64,
    /// Phone fields given but not parseable in the objects seen; their E.164
    /// columns stay NULL (`mapping_gaps` lists the patients).
    #[serde(default)]
    pub phones_unparsed: u64,
    /// Objects with no numeric id (kept in `unkeyed_records`, not mirrored).
    #[serde(default)]
    pub unkeyed: u64,
}

impl UpsertCounts {
    pub fn changed(&self) -> u64 {
        self.inserted + self.updated
    }

    pub fn add(&mut self, other: UpsertCounts) {
        self.seen += other.seen;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.phones_unparsed += other.phones_unparsed;
        self.unkeyed += other.unkeyed;
    }
}

/// What an upsert of a batch wrote: its counts, and the rows that can start
/// further work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub counts: UpsertCounts,
    /// Every row inserted or changed.
    pub ids: Vec<i64>,
    /// The rows among them that are new.
    pub inserted: Vec<i64>,
    /// Clinical notes among them that were not stored as locked before.
    pub newly_locked: Vec<i64>,
}

/// Upserts a batch of API objects of one kind in one transaction (a
/// savepoint inside the caller's) and returns what it wrote. `actor` names
/// the writer for `change_log`. It starts no further work: writers go
/// through `catalog::apply_records`, which does, in the same transaction.
pub async fn upsert_batch<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    kind: RecordKind,
    objects: &[Value],
    actor: &str,
    locale: &Locale<'_>,
) -> Result<Written, sqlx::Error> {
    if objects.is_empty() {
        return Ok(Written::default());
    }
    let time_zone = locale.time_zone;
    let mapped = mapping::mapped(kind, objects, locale);
    let phones_unparsed = mapped.as_deref().map_or(0, mapping::unparsed_phones);
    if phones_unparsed > 0 {
        tracing::warn!(kind = kind.name(), phones_unparsed, "phone numbers not parseable; left NULL");
    }
    let mut tx = db.begin().await?;
    let unkeyed = removals::store_unkeyed(&mut *tx, kind, &removals::unkeyed(objects), actor).await?;
    let was_locked = locked_notes(&mut tx, kind, objects.iter().filter_map(|o| id_of(o.get("id")))).await?;
    let written: Vec<(i64, bool)> = sqlx::query_as(kind.upsert_sql())
        .bind(sqlx::types::Json(objects))
        .bind(actor)
        .bind(time_zone)
        .bind(sqlx::types::Json(mapped.unwrap_or_default()))
        .bind(kind.verbose_only_keys())
        .fetch_all(&mut *tx)
        .await?;
    let ids: Vec<i64> = written.iter().map(|(id, _)| *id).collect();
    if kind == RecordKind::Patient {
        insurances::level(&mut tx, &ids).await?;
    }
    let newly_locked: Vec<i64> = locked_notes(&mut tx, kind, ids.iter().copied())
        .await?
        .into_iter()
        .filter(|id| !was_locked.contains(id))
        .collect();
    tx.commit().await?;
    let inserted: Vec<i64> = written.iter().filter(|(_, new)| *new).map(|(id, _)| *id).collect();
    let (seen, changed) = (objects.len() as u64, written.len() as u64);
    let counts = UpsertCounts {
        seen,
        inserted: inserted.len() as u64,
        updated: changed - inserted.len() as u64,
        unchanged: seen - changed - unkeyed,
        phones_unparsed,
        unkeyed,
    };
    Ok(Written { counts, ids, inserted, newly_locked })
}

/// Which of these clinical notes are stored as locked; empty for other kinds.
async fn locked_notes(
    db: &mut PgConnection,
    kind: RecordKind,
    ids: impl Iterator<Item = i64>,
) -> Result<Vec<i64>, sqlx::Error> {
    if kind != RecordKind::ClinicalNote {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.collect();
    sqlx::query_scalar("SELECT id FROM clinical_notes WHERE id = ANY($1) AND locked ORDER BY id")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Ids arrive as numbers or as numeric strings (an appointment's own id is a string).
pub fn id_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
