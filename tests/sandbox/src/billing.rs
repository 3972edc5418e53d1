//! Billing line items, shaped as DrChrono's `/api/line_items` serializes
//! them (the spec's `BillingLineItem`): one per procedure billed at a visit
//! that took place. As the spec types them, `patient` and `doctor` are
//! string ids and the totals (`paid_total`, `balance_total`, `ins_total`)
//! are strings, while the other amounts are numbers.

use chrono::{Duration, NaiveDate};
use rand::RngExt as _;
use serde_json::Value;

use crate::{
    charts::{Owner, take, updated_at},
    data::{self, Draw, choose},
    practice::{Record, record},
    stamps,
};

/// (CPT code, description, price in cents).
const PROCEDURES: &[(&str, &str, i64)] = &[
    ("99213", "Office visit, established patient, low complexity", 12_000),
    ("99214", "Office visit, established patient, moderate complexity", 17_550),
    ("36415", "Routine venipuncture", 1_275),
    ("93000", "Electrocardiogram, complete", 4_833),
];
const BILLING_STATUSES: &[&str] = &["Paid in Full", "Paid in Full", "Partially Paid", "In Process Payer", ""];

/// 1–2 line items for each visit that took place, as (appointment, day),
/// under the visit's diagnosis `codes`.
pub(crate) fn line_items(
    rng: &mut Draw,
    next_id: &mut i64,
    owner: Owner,
    attended: &[(i64, NaiveDate)],
    codes: &[&str],
) -> Vec<(i64, Record)> {
    let mut items = Vec::new();
    for &(appointment, day) in attended {
        for n in 0..rng.random_range(1..=2) {
            let &(code, description, cents) = if n == 0 { &PROCEDURES[0] } else { choose(rng, &PROCEDURES[1..]) };
            let id = take(next_id);
            items.push((id, item(rng, id, owner, appointment, day, (code, description, cents), codes)));
        }
    }
    items
}

fn item(
    rng: &mut Draw,
    id: i64,
    owner: Owner,
    appointment: i64,
    day: NaiveDate,
    (code, description, cents): (&str, &str, i64),
    codes: &[&str],
) -> Record {
    let status = data::pick(rng, BILLING_STATUSES);
    let allowed = cents * 8 / 10;
    let ins_paid = match status {
        "Paid in Full" => allowed * 8 / 10,
        "Partially Paid" => allowed / 2,
        _ => 0,
    };
    let pt_paid = if status == "Paid in Full" { allowed - ins_paid } else { 0 };
    let paid = ins_paid + pt_paid;
    let adjustment = if ins_paid > 0 { cents - allowed } else { 0 };
    let balance = cents - adjustment - paid;
    let posted = (day + Duration::days(rng.random_range(0..3))).min(owner.today);
    let pointers: Vec<Value> = codes.iter().take(4).map(|c| Value::from(*c)).collect();
    record([
        ("id", Value::from(id)),
        ("appointment", Value::from(appointment)),
        ("patient", Value::from(owner.patient.to_string())),
        ("doctor", Value::from(owner.doctor.to_string())),
        ("code", Value::from(code)),
        ("procedure_type", Value::from("C")),
        ("description", Value::from(description)),
        ("modifiers", Value::Array(Vec::new())),
        ("diagnosis_pointers", Value::from(pointers)),
        ("units", Value::from("UN")),
        ("quantity", Value::from(1.0)),
        ("price", amount(cents)),
        ("billed", amount(cents)),
        ("allowed", amount(allowed)),
        ("adjustment", amount(adjustment)),
        ("expected_reimbursement", amount(allowed)),
        ("ins1_paid", amount(ins_paid)),
        ("ins2_paid", amount(0)),
        ("ins3_paid", amount(0)),
        ("pt_paid", amount(pt_paid)),
        ("ins_total", Value::from(text(ins_paid))),
        ("paid_total", Value::from(text(paid))),
        ("balance_ins", amount(if status == "Paid in Full" { 0 } else { balance })),
        ("balance_pt", amount(0)),
        ("balance_total", Value::from(text(balance))),
        ("billing_status", Value::from(status)),
        ("insurance_status", Value::from("")),
        ("denied_flag", Value::from(false)),
        ("service_date", Value::from(stamps::date(day))),
        ("posted_date", Value::from(stamps::date(posted))),
        ("updated_at", Value::from(updated_at(rng, posted, owner.today))),
    ])
}

/// An amount in cents as the JSON number DrChrono sends (two decimals).
fn amount(cents: i64) -> Value {
    text(cents).parse::<f64>().map(Value::from).unwrap_or(Value::Null)
}

fn text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}
