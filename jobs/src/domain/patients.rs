//! The `patients` table.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use sqlx::PgExecutor;

use super::Upserted;
use crate::time::parse_drchrono_time;

/// A patient as DrChrono serializes it, reduced to our columns.
/// Holds PHI, so `Debug` shows the id only.
pub struct PatientRecord {
    pub id: i64,
    pub chart_id: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub gender: Option<String>,
    pub email: Option<String>,
    pub cell_phone: Option<String>,
    pub home_phone: Option<String>,
    pub doctor_id: Option<i64>,
    pub patient_status: Option<String>,
    pub source_updated_at: Option<DateTime<Utc>>,
    pub raw: Value,
}

impl std::fmt::Debug for PatientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientRecord").field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the object is not a JSON object")]
    NotAnObject,
    #[error("the object has no numeric id")]
    MissingId,
}

fn text(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Ids arrive as numbers or as numeric strings.
pub fn id_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl PatientRecord {
    pub fn from_api(raw: &Value, tz: Tz) -> Result<Self, ParseError> {
        let obj = raw.as_object().ok_or(ParseError::NotAnObject)?;
        let id = id_of(obj.get("id")).ok_or(ParseError::MissingId)?;
        Ok(Self {
            id,
            chart_id: text(obj, "chart_id"),
            first_name: text(obj, "first_name"),
            middle_name: text(obj, "middle_name"),
            last_name: text(obj, "last_name"),
            date_of_birth: text(obj, "date_of_birth")
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            gender: text(obj, "gender"),
            email: text(obj, "email"),
            cell_phone: text(obj, "cell_phone"),
            home_phone: text(obj, "home_phone"),
            doctor_id: id_of(obj.get("doctor")),
            patient_status: text(obj, "patient_status"),
            source_updated_at: text(obj, "updated_at").and_then(|t| parse_drchrono_time(&t, tz)),
            raw: raw.clone(),
        })
    }

    /// Writes the row unless the stored one is newer or identical. `actor`
    /// names who wrote it (a job id, or `webhook`).
    pub async fn upsert<'e>(&self, db: impl PgExecutor<'e>, actor: &str) -> Result<Upserted, sqlx::Error> {
        let inserted: Option<bool> = sqlx::query_scalar(
            "INSERT INTO patients (id, chart_id, first_name, middle_name, last_name, date_of_birth, \
             gender, email, cell_phone, home_phone, doctor_id, patient_status, raw, \
             source_updated_at, synced_at, synced_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now(), $15) \
             ON CONFLICT (id) DO UPDATE SET chart_id = EXCLUDED.chart_id, \
             first_name = EXCLUDED.first_name, middle_name = EXCLUDED.middle_name, \
             last_name = EXCLUDED.last_name, date_of_birth = EXCLUDED.date_of_birth, \
             gender = EXCLUDED.gender, email = EXCLUDED.email, cell_phone = EXCLUDED.cell_phone, \
             home_phone = EXCLUDED.home_phone, doctor_id = EXCLUDED.doctor_id, \
             patient_status = EXCLUDED.patient_status, raw = EXCLUDED.raw, \
             source_updated_at = EXCLUDED.source_updated_at, synced_at = now(), \
             synced_by = EXCLUDED.synced_by \
             WHERE patients.raw IS DISTINCT FROM EXCLUDED.raw \
               AND (patients.source_updated_at IS NULL \
                    OR EXCLUDED.source_updated_at >= patients.source_updated_at) \
             RETURNING (xmax = 0)",
        )
        .bind(self.id)
        .bind(&self.chart_id)
        .bind(&self.first_name)
        .bind(&self.middle_name)
        .bind(&self.last_name)
        .bind(self.date_of_birth)
        .bind(&self.gender)
        .bind(&self.email)
        .bind(&self.cell_phone)
        .bind(&self.home_phone)
        .bind(self.doctor_id)
        .bind(&self.patient_status)
        .bind(&self.raw)
        .bind(self.source_updated_at)
        .bind(actor)
        .fetch_optional(db)
        .await?;
        Ok(match inserted {
            Some(true) => Upserted::Inserted,
            Some(false) => Upserted::Updated,
            None => Upserted::Unchanged,
        })
    }
}
