//! The console over real HTTP: a browser-like client that keeps its
//! cookies and does not follow redirects, logged in with a token, and the
//! CSRF field of the pages it reads.

use reqwest::{Response, StatusCode, redirect::Policy};

use crate::app::TestApp;

/// CONSOLE_READONLY_TOKEN of test apps.
pub const READONLY_TOKEN: &str = "test-console-readonly-token";

/// A client of one app's console, with its own cookie jar.
pub struct Console {
    pub http: reqwest::Client,
    base: String,
}

impl Console {
    /// A client with no session yet.
    pub fn new(app: &TestApp) -> Self {
        let http = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("client");
        Self { http, base: app.url("") }
    }

    /// A client logged in with `token`; panics unless the login succeeded.
    pub async fn logged_in(app: &TestApp, token: &str) -> Self {
        let console = Self::new(app);
        let resp = console.login(token).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login with a valid token redirects");
        assert_eq!(resp.headers()["location"], "/console");
        console
    }

    /// `POST /console/login` with `token`.
    pub async fn login(&self, token: &str) -> Response {
        self.http.post(self.url("/console/login")).form(&[("token", token)]).send().await.expect("login request")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`: its status and body.
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let resp = self.http.get(self.url(path)).send().await.expect("console GET");
        (resp.status(), resp.text().await.expect("console page"))
    }

    /// GET `path`, which must answer 200: its body.
    pub async fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// POST `fields` to `path` as a form, exactly as given (no CSRF added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.http.post(self.url(path)).form(fields).send().await.expect("console POST")
    }

    /// POST `fields` to `path` with the CSRF token read from `page` (a page
    /// of this session), as a browser submits a form of that page.
    pub async fn post(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = self.page(page).await;
        let csrf = csrf_field(&body).expect("the page has a form with a CSRF field");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }
}

/// The value of the first `<input type="hidden" name="csrf" value="...">` in `html`.
pub fn csrf_field(html: &str) -> Option<String> {
    let at = html.find(r#"name="csrf""#)?;
    let rest = &html[at..];
    let value = rest.split_once(r#"value=""#)?.1;
    Some(value.split_once('"')?.0.to_string())
}
