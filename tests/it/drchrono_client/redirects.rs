//! A redirect from DrChrono's origin is never followed: it would carry the
//! bearer token to wherever `Location` points.

use axum::{Router, http::StatusCode, response::IntoResponse, routing::get};

use super::*;

/// An origin that answers every API path with 302 to `/elsewhere`, and
/// counts the requests `/elsewhere` gets.
async fn redirecting_origin() -> (String, Arc<AtomicUsize>) {
    let followed = Arc::new(AtomicUsize::new(0));
    let count = followed.clone();
    let app = Router::new()
        .route(
            "/elsewhere",
            get(move || {
                count.fetch_add(1, Ordering::SeqCst);
                async { "{}" }
            }),
        )
        .fallback(|| async { (StatusCode::FOUND, [("location", "/elsewhere")]).into_response() });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, followed)
}

#[tokio::test]
async fn a_302_is_an_error_naming_the_redirect_and_its_target_gets_no_request() {
    let db = fresh_db().await;
    let (base, followed) = redirecting_origin().await;
    let settings = ClientSettings { api_base: base, access_token: Some("static-token".into()), ..Default::default() };
    let ctx = JobContext::new(db.pool.clone(), JobSettings { drchrono: settings, ..Default::default() });
    let err = ctx.drchrono().get_object("/api/patients/1").await.unwrap_err();
    assert!(matches!(err, DrChronoError::Redirected { status: 302, .. }), "{err:?}");
    assert!(err.to_string().contains("redirect"), "{err}");
    assert_eq!(followed.load(Ordering::SeqCst), 0, "the redirect was followed");
    assert!(matches!(JobError::from(err), JobError::Permanent(_)), "a redirect does not pass on retry");
}
