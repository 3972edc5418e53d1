//! Locked note → fresh PDF link → provider check → S3, against the sandbox's
//! note PDFs and a real S3 server that lets the uploader do nothing but
//! PutObject (any HEAD, GET or LIST it tried would show in `refused()`).

use integration_tests::queue;
use integration_tests::{
    archive::{archived, latest_check, sha256_hex, spawn_archiving_app},
    s3::PREFIX,
};
use job_runner::enqueue;
use jobs::catalog::ArchivePdf;
use sandbox::{Kind, PdfVariant};
use std::collections::BTreeMap;

async fn patient_of(app: &integration_tests::app::TestApp, note: i64) -> i64 {
    app.sandbox.record(Kind::ClinicalNote, note).unwrap()["patient"].as_i64().unwrap()
}

#[tokio::test]
async fn a_locked_note_naming_the_provider_is_archived_once() {
    let a = spawn_archiving_app(true, 3, |_| {}).await;
    let note = a.notes(true)[0];
    a.lock(note).await;
    a.app.drain_jobs().await;

    let bytes = a.app.sandbox.note_pdf_bytes(note).unwrap();
    let key = format!("{PREFIX}/{}/{note}.pdf", patient_of(&a.app, note).await);
    assert_eq!(a.s3.objects().await, BTreeMap::from([(key.clone(), sha256_hex(&bytes))]));
    let rows = archived(a.app.pool(), note).await;
    assert_eq!(rows, vec![(1, key, sha256_hex(&bytes), bytes.len() as i64)]);
    let (result, _, page) = latest_check(a.app.pool(), note).await.unwrap();
    assert_eq!((result.as_str(), page), ("matched", Some(3)));
    let etag: Option<String> = sqlx::query_scalar("SELECT etag FROM archived_pdfs WHERE clinical_note_id = $1")
        .bind(note)
        .fetch_one(a.app.pool())
        .await
        .unwrap();
    assert!(etag.is_some_and(|e| !e.is_empty()), "the ETag is kept");

    // Running the job again for the same version fetches nothing and puts nothing.
    let again = enqueue(a.app.pool(), &ArchivePdf { clinical_note_id: note }).await.unwrap().unwrap();
    a.app.drain_jobs().await;
    let result = queue::report(a.app.pool(), &again).await.last_result.unwrap();
    assert!(result.to_string().contains("already checked"), "{result}");
    assert_eq!(a.app.sandbox.pdf_downloads(note), 1);
    assert_eq!(a.s3.accepted_puts(), 1);
    assert_eq!(a.s3.refused(), Vec::<String>::new(), "the uploader only ever PUTs");
}

#[tokio::test]
async fn a_note_whose_pdf_lacks_the_provider_is_recorded_and_not_uploaded() {
    let a = spawn_archiving_app(true, 3, |_| {}).await;
    let signed_by_another = a.notes(false)[0];
    let unsigned = a.notes(true)[0];
    a.app.sandbox.set_note_pdf(unsigned, PdfVariant::Unsigned);
    for note in [signed_by_another, unsigned] {
        a.lock(note).await;
    }
    a.app.drain_jobs().await;
    for note in [signed_by_another, unsigned] {
        let (result, reason, _) = latest_check(a.app.pool(), note).await.unwrap();
        assert_eq!((result.as_str(), reason), ("not_matched", None), "note {note}");
    }
    assert!(a.s3.objects().await.is_empty());
    assert_eq!(a.s3.refused(), Vec::<String>::new());
}

#[tokio::test]
async fn pdfs_that_cannot_be_judged_need_review_with_their_reason() {
    let a = spawn_archiving_app(true, 12, |s| s.archive.archive_max_pdf_bytes = 200_000).await;
    let notes = a.notes(true);
    let big = {
        let mut pdf = a.app.sandbox.note_pdf_bytes(notes[0]).unwrap();
        pdf.resize(300_000, b' ');
        pdf
    };
    let encrypted = sandbox::pdf::encrypted(&a.app.sandbox.note_pdf_bytes(notes[0]).unwrap(), "practice-only");
    let cases = [
        (PdfVariant::ImageOnly, "only 3 images"),
        (PdfVariant::Truncated, "truncated"),
        (PdfVariant::NotAPdf, "not a PDF"),
        (PdfVariant::NameWithoutUnicodeMap, "without a Unicode map"),
        (PdfVariant::Bytes(big), "cap"),
        (PdfVariant::Bytes(encrypted), "encrypted"),
    ];
    assert!(notes.len() >= cases.len());
    for ((variant, _), note) in cases.iter().zip(&notes) {
        a.app.sandbox.set_note_pdf(*note, variant.clone());
        a.lock(*note).await;
    }
    a.app.drain_jobs().await;
    for ((_, expected), note) in cases.iter().zip(&notes) {
        let (result, reason, _) = latest_check(a.app.pool(), *note).await.unwrap();
        let reason = reason.unwrap_or_default();
        assert_eq!(result, "needs_review", "note {note}: {reason}");
        assert!(reason.contains(expected), "note {note}: {reason:?} lacks {expected:?}");
    }
    let listed = jobs::archive::store::needing_review(a.app.pool(), 100).await.unwrap();
    let mut listed: Vec<i64> = listed.iter().map(|r| r.clinical_note_id).collect();
    listed.sort();
    let mut expected: Vec<i64> = notes[..cases.len()].to_vec();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(a.s3.objects().await.is_empty());
    assert_eq!(queue::count_not_done(a.app.pool()).await, 0, "a PDF for review is a result, not a failed job");
}

#[tokio::test]
async fn an_expired_link_is_replaced_by_a_fresh_one() {
    let a = spawn_archiving_app(true, 3, |_| {}).await;
    let note = a.notes(true)[0];
    a.app.sandbox.expire_next_pdf_links(1);
    a.app.sandbox.reset_counters();
    a.lock(note).await;
    a.app.drain_jobs().await;
    assert_eq!(latest_check(a.app.pool(), note).await.unwrap().0, "matched");
    assert_eq!(a.app.sandbox.calls_to("/api/appointments"), 2, "one link that had expired, one fresh");
    assert_eq!(a.app.sandbox.pdf_downloads(note), 1);
    assert_eq!(a.s3.objects().await.len(), 1);
}

#[tokio::test]
async fn a_note_relocked_with_new_content_is_archived_again_and_history_kept() {
    let a = spawn_archiving_app(true, 3, |_| {}).await;
    let note = a.notes(true)[0];
    a.lock(note).await;
    a.app.drain_jobs().await;
    let first = a.app.sandbox.note_pdf_bytes(note).unwrap();

    a.unlock(note).await;
    a.app.drain_jobs().await;
    a.app.sandbox.modify(Kind::ClinicalNote, note, |n| {
        n.insert("clinical_note_sections".into(), serde_json::json!([]));
    });
    a.lock(note).await;
    a.app.drain_jobs().await;
    let second = a.app.sandbox.note_pdf_bytes(note).unwrap();
    assert_ne!(first, second);

    let patient = patient_of(&a.app, note).await;
    let rows = archived(a.app.pool(), note).await;
    let keys: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    let v1 = format!("{PREFIX}/{patient}/{note}.pdf");
    let v2 = format!("{PREFIX}/{patient}/{note}-v2.pdf");
    assert_eq!(keys, vec![v1.clone(), v2.clone()]);
    assert_eq!(rows[1].2, sha256_hex(&second));
    assert_eq!(a.s3.objects().await, BTreeMap::from([(v1, sha256_hex(&first)), (v2, sha256_hex(&second))]));
    assert_eq!(a.s3.refused(), Vec::<String>::new());
}

#[tokio::test]
async fn notes_found_locked_by_reconciliation_are_archived_too() {
    let a = spawn_archiving_app(true, 2, |_| {}).await;
    let sync = jobs::catalog::SyncRecords::all(jobs::domain::RecordKind::ClinicalNote);
    enqueue(a.app.pool(), &sync).await.unwrap().unwrap();
    a.app.drain_jobs().await;
    let locked: Vec<i64> = sqlx::query_scalar("SELECT id FROM clinical_notes WHERE locked ORDER BY id")
        .fetch_all(a.app.pool())
        .await
        .unwrap();
    assert!(!locked.is_empty());
    let checked: Vec<i64> =
        sqlx::query_scalar("SELECT clinical_note_id FROM pdf_checks ORDER BY 1").fetch_all(a.app.pool()).await.unwrap();
    assert_eq!(checked, locked, "every note found locked was checked once");
    let by_provider = a.notes(true);
    let mine: Vec<i64> = locked.iter().copied().filter(|n| by_provider.contains(n)).collect();
    let uploaded: i64 = sqlx::query_scalar("SELECT count(*) FROM archived_pdfs").fetch_one(a.app.pool()).await.unwrap();
    assert_eq!(uploaded, mine.len() as i64);
    assert_eq!(a.s3.objects().await.len(), mine.len());
    assert!(a.s3.objects().await.keys().all(|k| k.starts_with(&format!("{PREFIX}/")) && k.ends_with(".pdf")));
}

#[tokio::test]
async fn a_lock_enqueues_one_archive_job_per_note_while_it_waits() {
    let a = spawn_archiving_app(false, 2, |_| {}).await;
    let note = a.app.sandbox.ids(Kind::ClinicalNote)[0];
    let settings = jobs::JobSettings::default();
    let locale = settings.locale();
    for locked in [false, true, false, true] {
        let object = a.app.sandbox.lock_note(note, locked).unwrap();
        jobs::catalog::apply_records(a.app.pool(), jobs::domain::RecordKind::ClinicalNote, &[object], "test", &locale)
            .await
            .unwrap();
    }
    let jobs: Vec<serde_json::Value> =
        queue::of_queue(a.app.pool(), "archive_pdf").await.into_iter().map(|j| j.args).collect();
    assert_eq!(jobs, vec![serde_json::json!({ "clinical_note_id": note })], "locked twice, one job waiting");
}

/// `upsert_batch` writes and says what it wrote; the follow-up jobs are
/// `apply_records`' alone, so no path can write a lock and forget its job.
#[tokio::test]
async fn upsert_batch_reports_a_new_lock_and_only_apply_records_enqueues_its_job() {
    use jobs::domain::{RecordKind, upsert_batch};
    let a = spawn_archiving_app(false, 2, |_| {}).await;
    let notes = a.app.sandbox.ids(Kind::ClinicalNote);
    let settings = jobs::JobSettings::default();
    let locale = settings.locale();
    let locked = a.app.sandbox.lock_note(notes[0], true).unwrap();
    let written = upsert_batch(a.app.pool(), RecordKind::ClinicalNote, &[locked], "test", &locale).await.unwrap();
    assert_eq!(
        (written.ids.clone(), written.inserted.clone(), written.newly_locked.clone()),
        (vec![notes[0]], vec![notes[0]], vec![notes[0]])
    );
    assert!(queue::of_queue(a.app.pool(), "archive_pdf").await.is_empty(), "upsert_batch starts no job");

    let other = a.app.sandbox.lock_note(notes[1], true).unwrap();
    let counts =
        jobs::catalog::apply_records(a.app.pool(), RecordKind::ClinicalNote, &[other], "test", &locale).await.unwrap();
    assert_eq!(counts.inserted, 1);
    let jobs: Vec<serde_json::Value> =
        queue::of_queue(a.app.pool(), "archive_pdf").await.into_iter().map(|j| j.args).collect();
    assert_eq!(jobs, vec![serde_json::json!({ "clinical_note_id": notes[1] })]);
}

#[tokio::test]
async fn the_test_store_refuses_the_uploader_anything_but_encrypted_pdf_puts() {
    let a = spawn_archiving_app(false, 1, |_| {}).await;
    let settings = a.app.settings.job_settings().archive;
    let ctx = jobs::JobContext::new(a.app.pool().clone(), a.app.settings.job_settings());
    let uploader = ctx.s3.client(&settings).await;
    let bucket = integration_tests::s3::BUCKET;
    let key = format!("{PREFIX}/1/2.pdf");
    assert!(uploader.head_object().bucket(bucket).key(&key).send().await.is_err());
    assert!(uploader.list_objects_v2().bucket(bucket).send().await.is_err());
    let unencrypted = uploader.put_object().bucket(bucket).key(&key).content_type("application/pdf");
    assert!(unencrypted.body(b"%PDF-1.7".to_vec().into()).send().await.is_err());
    let sha = [0u8; 32];
    let sse = jobs::archive::Sse::Aes256;
    let outside = jobs::archive::s3::put_pdf(uploader, bucket, "elsewhere/2.pdf", b"%PDF".to_vec(), &sha, &sse);
    assert!(outside.await.is_err());
    assert_eq!(a.s3.refused().len(), 4, "{:?}", a.s3.refused());
    assert!(a.s3.objects().await.is_empty());
}
