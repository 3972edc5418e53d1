//! The burst: real-format DrChrono deliveries of many versions of the same
//! records, sent at a fixed concurrency, each retried with the same
//! delivery id until it is answered 2xx, as DrChrono retries a failed one.
//!
//! Each new version is made in the sandbox first (`modify` bumps the
//! record's `updated_at`, strictly later than the last), so the object
//! delivered is what DrChrono itself would serve for that version.
//!
//! One delivery in [`STALE_EVERY`] is instead an older version of a record
//! under a new delivery id: DrChrono's retry of a delivery that failed
//! hours ago arrives after the newer ones, and must not win over them.

use rand::{RngExt as _, seq::SliceRandom as _};
use sandbox::{Kind, Sandbox, WebhookSender};
use serde_json::Value;
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::answers::{Answer, Tally};

/// Attempts per delivery before the sender gives up on it.
const MAX_ATTEMPTS: u32 = 60;
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// One delivery in this many re-sends an older version.
const STALE_EVERY: u32 = 10;

/// Per target, the version before the newest and the newest, for the late re-sends.
type Versions = Option<(&'static str, Value)>;
type Previous = Mutex<Vec<(Versions, Versions)>>;

/// A record the burst changes, and the event its changes are delivered as.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: jobs::domain::RecordKind,
    sandbox_kind: Kind,
    pub id: i64,
}

/// One delivery (one version) and every answer its attempts got.
#[derive(Debug)]
pub struct Sent {
    pub target: usize,
    pub updated_at: String,
    pub delivery_id: String,
    pub answers: Vec<Answer>,
    /// An older version re-sent late.
    pub stale: bool,
}

impl Sent {
    pub fn succeeded(&self) -> bool {
        self.answers.contains(&Answer::Success)
    }
}

/// Up to `count` records, spread over every kind a delivery can carry whole.
pub fn targets(sandbox: &Sandbox, count: usize) -> Vec<Target> {
    use jobs::domain::RecordKind as R;
    let kinds = [
        (Kind::Patient, R::Patient),
        (Kind::Appointment, R::Appointment),
        (Kind::ClinicalNote, R::ClinicalNote),
        (Kind::Problem, R::Problem),
        (Kind::Medication, R::Medication),
        (Kind::Allergy, R::Allergy),
    ];
    let per_kind = count.div_ceil(kinds.len());
    let mut targets: Vec<Target> = kinds
        .into_iter()
        .flat_map(|(sandbox_kind, kind)| {
            let ids = sandbox.ids(sandbox_kind).into_iter().take(per_kind);
            ids.map(move |id| Target { kind, sandbox_kind, id })
        })
        .collect();
    targets.shuffle(&mut rand::rng());
    targets.truncate(count);
    targets
}

/// The event and object of a new version of `target`, made in the sandbox.
fn new_version(sandbox: &Sandbox, target: &Target) -> Option<(&'static str, Value)> {
    Some(match target.sandbox_kind {
        Kind::ClinicalNote => {
            let locked = sandbox.record(Kind::ClinicalNote, target.id)?.get("locked") == Some(&Value::Bool(true));
            let event = if locked { "CLINICAL_NOTE_UNLOCK" } else { "CLINICAL_NOTE_LOCK" };
            (event, sandbox.lock_note(target.id, !locked)?)
        }
        kind => {
            let event = match kind {
                Kind::Patient => "PATIENT_MODIFY",
                Kind::Appointment => "APPOINTMENT_MODIFY",
                Kind::Problem => "PATIENT_PROBLEM_MODIFY",
                Kind::Medication => "PATIENT_MEDICATION_MODIFY",
                _ => "PATIENT_ALLERGY_MODIFY",
            };
            (event, sandbox.modify(kind, target.id, |_| {})?)
        }
    })
}

/// What to send for `target`: now and then its previous version again
/// (`true`), else a new version, remembering the one it replaces.
fn pick(sandbox: &Sandbox, target: &Target, previous: &Previous, i: usize) -> Option<(&'static str, Value, bool)> {
    if rand::rng().random_ratio(1, STALE_EVERY) {
        let older = previous.lock().unwrap_or_else(|p| p.into_inner())[i].0.clone();
        if let Some((event, object)) = older {
            return Some((event, object, true));
        }
    }
    let (event, object) = new_version(sandbox, target)?;
    let mut versions = previous.lock().unwrap_or_else(|p| p.into_inner());
    let slot = &mut versions[i];
    *slot = (slot.1.take(), Some((event, object.clone())));
    Some((event, object, false))
}

/// Sends new versions of random targets from `concurrency` senders until
/// `until`, then lets the deliveries in flight finish their retries.
pub async fn burst(
    sandbox: Arc<Sandbox>,
    sender: WebhookSender,
    targets: Arc<Vec<Target>>,
    concurrency: usize,
    until: Instant,
    tally: Arc<Tally>,
) -> Vec<Sent> {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let previous: Arc<Previous> = Arc::new(Mutex::new(vec![(None, None); targets.len()]));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (sandbox, sender, targets, tally, sent, previous) =
            (sandbox.clone(), sender.clone(), targets.clone(), tally.clone(), sent.clone(), previous.clone());
        senders.spawn(async move {
            while Instant::now() < until {
                let target = rand::rng().random_range(0..targets.len());
                let Some((event, object, stale)) = pick(&sandbox, &targets[target], &previous, target) else {
                    continue;
                };
                let updated_at = object.get("updated_at").and_then(Value::as_str).unwrap_or_default().to_string();
                let delivery_id = format!("chaos-{:032x}", rand::random::<u128>());
                let answers = deliver(&sender, event, &object, &delivery_id, &tally).await;
                let one = Sent { target, updated_at, delivery_id, answers, stale };
                sent.lock().unwrap_or_else(|p| p.into_inner()).push(one);
            }
        });
    }
    while senders.join_next().await.is_some() {}
    std::mem::take(&mut *sent.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Attempts until a 2xx (or `MAX_ATTEMPTS`), with a growing pause between.
async fn deliver(sender: &WebhookSender, event: &str, object: &Value, id: &str, tally: &Tally) -> Vec<Answer> {
    let mut answers = Vec::new();
    let mut pause = Duration::from_millis(50);
    for _ in 0..MAX_ATTEMPTS {
        let answer = match sender.send_with_delivery_id(event, object, id).await {
            Ok(response) => Answer::of_status(response.status()),
            Err(e) => Answer::of_error(&e),
        };
        tally.count(&answer);
        let done = answer == Answer::Success;
        answers.push(answer);
        if done {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_BACKOFF);
    }
    answers
}
