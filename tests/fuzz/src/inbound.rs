//! Deliveries and writes in their real shapes, signed or authorised as the
//! service expects, with the body mutated.

use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{
    case::{Case, Endpoint},
    mutate::mutate,
    queries,
    rng::Rng,
    samples::{Samples, Target},
};

pub use crate::gridhook::deepcura;

/// Event names: real ones, retired ones, and ones DrChrono never sends.
const ODD_EVENTS: &[&str] = &[
    "PATIENT_CREATE",
    "APPOINTMENT_DELETE",
    "CLINICAL_NOTE_UNLOCK",
    "CLINICAL_NOTE_MODIFY",
    "PATIENT_UPDATE",
    "TASK_CREATE",
    "LAB_RESULT",
    "PATIENT_DESTROY",
    "patient_create",
    "",
    " PATIENT_MODIFY ",
    "PATIENT_MODIFY\tX",
    "\u{e9}v\u{e9}nement",
];

/// A delivery in the current shape (or, now and then, the older id-only
/// one), signed with the secret itself or an HMAC of the exact body sent.
pub fn drchrono(rng: &mut Rng, target: &Target, samples: &Samples) -> Case {
    let (event, object) = rng.pick(&samples.records).clone();
    let event = if rng.chance(80) { event } else { rng.pick(ODD_EVENTS) };
    let body = if rng.chance(8) {
        json!({ "event": event, "object_id": object["id"] })
    } else {
        let mut body = json!({
            "receiver": { "id": 4242, "url": "https://sync.example/webhooks/drchrono", "events": [event] },
            "object": object,
            "practice_group_id": 15062,
        });
        if rng.chance(15) {
            body["event"] = json!(rng.pick(ODD_EVENTS));
        }
        body
    };
    let path = if rng.chance(90) { "/webhooks/drchrono" } else { "/api/webhook" };
    let case = Case::new(Endpoint::DrChrono, Method::POST, path)
        .json(mutate(rng, &body, target.max_body))
        .header("x-drchrono-event", header_text(rng, event));
    let case = match rng.below(10) {
        0 => case,
        1 => case.header("x-drchrono-delivery", "fuzz-repeated-delivery"),
        2 => case.header("x-drchrono-delivery", vec![b'd', 0xE9, 0xFF, b'x']),
        3 => case.header("x-drchrono-delivery", "d".repeat(4_000)),
        _ => case.header("x-drchrono-delivery", format!("{:032x}", rng.next_u64())),
    };
    let signature = if rng.chance(70) {
        target.webhook_secret.clone()
    } else {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(target.webhook_secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(&case.body);
        hex::encode(mac.finalize().into_bytes())
    };
    case.header("x-drchrono-signature", signature)
}

/// The event header: as given, or with bytes a header may carry but text may not.
fn header_text(rng: &mut Rng, event: &str) -> Vec<u8> {
    match rng.below(12) {
        0 => vec![b'P', 0x80, 0xFF],
        1 => "E".repeat(2_000).into_bytes(),
        _ => event.as_bytes().to_vec(),
    }
}

/// A partner appointment event in the older receiver's documented shape.
pub fn partner(rng: &mut Rng, target: &Target, samples: &Samples) -> Case {
    let kind = *rng.pick(&["appointment.scheduled", "appointment.cancelled", "appointment.updated"]);
    let appointment = if rng.chance(50) {
        rng.pick(&samples.appointment_ids).to_string()
    } else {
        format!("A{}", rng.below(100_000))
    };
    let event = json!({
        "event_type": kind,
        "appointment_id": appointment,
        "patient_id": rng.pick(&samples.patient_ids).to_string(),
        "timestamp": format!("2025-{:02}-{:02}T{:02}:{:02}:00Z", 1 + rng.below(12), 1 + rng.below(28), rng.below(24), rng.below(60)),
        "notes": "Annual physical examination",
    });
    let path = if rng.chance(90) { "/webhook/appointments" } else { "/webhooks/appointments" };
    Case::new(Endpoint::Partner, Method::POST, path).bearer(&target.partner_token).json(mutate(
        rng,
        &event,
        target.max_body,
    ))
}

/// A write-API request: a create or an update of a patient or an appointment.
pub fn write(rng: &mut Rng, target: &Target, samples: &Samples) -> Case {
    let patient = rng.chance(50);
    let body = if patient {
        json!({
            "doctor": samples.doctor_id, "first_name": "Fuzz", "last_name": "Case", "gender": "Other",
            "date_of_birth": "1990-02-03", "email": "fuzz@example.invalid", "city": "Salem", "zip_code": "01970",
        })
    } else {
        json!({
            "patient": rng.pick(&samples.patient_ids), "doctor": samples.doctor_id, "office": samples.office_id,
            "scheduled_time": "2031-05-06T10:30:00", "duration": 30, "status": "", "reason": "Follow-up",
        })
    };
    let collection = if patient { "/api/patients" } else { "/api/appointments" };
    let (method, path) = match rng.below(4) {
        0 | 1 => (Method::POST, collection.to_string()),
        2 => {
            let ids = if patient { &samples.patient_ids } else { &samples.appointment_ids };
            (Method::PATCH, format!("{collection}/{}", rng.pick(ids)))
        }
        _ => (Method::PATCH, format!("{collection}/{}", queries::value(rng))),
    };
    let body = if method == Method::PATCH { partial(rng, body) } else { body };
    let token = if rng.chance(70) { &target.admin_token } else { &target.partner_token };
    let case = Case::new(Endpoint::Writes, method, path).bearer(token).json(mutate(rng, &body, target.max_body));
    match rng.below(8) {
        0 => case.header("idempotency-key", format!("fuzz-{}", rng.below(50))),
        1 => case.header("idempotency-key", vec![b'k', 0xFF]),
        2 => case.header("idempotency-key", "k".repeat(300)),
        _ => case,
    }
}

/// A few of the fields, as an update sends.
fn partial(rng: &mut Rng, body: Value) -> Value {
    let Value::Object(map) = body else { return body };
    Value::Object(map.into_iter().filter(|_| rng.chance(40)).collect())
}
