//! A real headless Chromium, driven over WebDriver, for the console's
//! browser tests: each [`Browser`] starts its own chromedriver (on a port
//! it picks itself, so tests run in parallel) and one browser session
//! against a [`TestApp`]. Screenshots of what the tests saw land in
//! `target/console-screenshots/`, for a reviewer to look at without
//! starting anything.
//!
//! It never skips: without Chromium the test fails, saying how to install
//! it, so a green run always means the browser really ran.

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::{path::PathBuf, process::Stdio, time::Duration};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::app::TestApp;

/// Debian's `chromium` and `chromium-driver`, which `cargo xtask test` installs.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How often [`Browser::reload_until_text`] reloads before failing, and
/// how long it waits between loads: 150 loads over about 30 s catch a hang
/// on a slow shared machine without measuring speed.
const POLLS: usize = 150;
const POLL_PAUSE: Duration = Duration::from_millis(200);

/// How often, and how far apart, a click is checked for having led to a
/// new page: up to 10 s, for a hang, not a measure.
const NAVIGATION_POLLS: usize = 200;
const NAVIGATION_PAUSE: Duration = Duration::from_millis(50);

/// One chromedriver child process and its Chromium session on one app.
pub struct Browser {
    client: Client,
    base: String,
    driver: Child,
}

impl Drop for Browser {
    /// A test that panicked never reached [`Browser::close`]: the
    /// chromedriver process group (chromedriver and the Chromium it
    /// started) is killed so no browser outlives the test.
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
        }
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at 1280x900 for `app`.
    pub async fn start(app: &TestApp) -> Self {
        let (driver, port) = spawn_chromedriver().await;
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver opens a Chromium session");
        Self { client, base: app.url(""), driver }
    }

    /// Ends the session, which quits Chromium and removes its profile.
    pub async fn close(self) {
        self.client.clone().close().await.expect("the browser session ends");
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `path` of the app (`/console/jobs`, ...).
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Opens `path` and saves its screenshot as `shot`.
    pub async fn visit(&self, path: &str, shot: &str) {
        self.goto(path).await;
        self.screenshot(shot).await;
    }

    /// The path of the page shown, without the query.
    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("current url").path().to_string()
    }

    /// Logs in through the login form with `token`, landing on the overview.
    pub async fn log_in(&self, token: &str) {
        self.goto("/console/login").await;
        self.find("form#login input[name=token]").await.send_keys(token).await.expect("type the token");
        self.click("#login-submit").await;
        assert_eq!(self.path().await, "/console", "a login lands on the overview");
    }

    /// The one element `css` names; fails the test, showing the page, if none.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no `{css}` on {}: {e}\n{}", self.path().await, self.source().await),
        }
    }

    /// Every element `css` names (none is fine).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find `{css}`: {e}"))
    }

    /// The trimmed text of the element `css` names.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text").trim().to_string()
    }

    /// Clicks the element `css` names (a link or a form's button) and
    /// waits for the page it leads to. A click returns before the browser
    /// has left the page, and an action answers with the page it was on,
    /// so the sign of arrival is the old page's root going stale (which
    /// Chromium reports as a stale element, or mid-navigation as a node no
    /// longer in the document).
    pub async fn click(&self, css: &str) {
        let old = self.find("html").await;
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click `{css}`: {e}"));
        for _ in 0..NAVIGATION_POLLS {
            match old.tag_name().await {
                Ok(_) => tokio::time::sleep(NAVIGATION_PAUSE).await,
                Err(_) => return self.wait_loaded().await,
            }
        }
        panic!("clicking `{css}` on {} led nowhere", self.path().await);
    }

    /// Waits until the page shown has finished loading.
    async fn wait_loaded(&self) {
        for _ in 0..NAVIGATION_POLLS {
            let state = self.client.execute("return document.readyState", vec![]).await.expect("readyState");
            if state == "complete" {
                return;
            }
            tokio::time::sleep(NAVIGATION_PAUSE).await;
        }
        panic!("{} did not finish loading", self.path().await);
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    /// Reloads the page until the element `css` reads `want`; fails after
    /// [`POLLS`] loads with what it read last.
    pub async fn reload_until_text(&self, css: &str, want: &str) {
        let mut last = String::new();
        for _ in 0..POLLS {
            last = self.text(css).await;
            if last == want {
                return;
            }

            tokio::time::sleep(POLL_PAUSE).await;
            self.client.refresh().await.expect("reload");
        }
        panic!("`{css}` on {} still reads {last:?} after {POLLS} loads, expected {want:?}", self.path().await);
    }

    /// POSTs `form` (name, value pairs, urlencoded) to `path` from the page
    /// with `fetch`, as a script on the page could: with the session
    /// cookie, without following a redirect. Returns the status.
    pub async fn post_from_page(&self, path: &str, form: &[(&str, &str)]) -> u16 {
        let script = "const [path, pairs, done] = arguments; \
            fetch(path, { method: 'POST', body: new URLSearchParams(pairs), redirect: 'manual', \
                          credentials: 'same-origin' }) \
              .then(r => done(r.type === 'opaqueredirect' ? 303 : r.status), e => done(String(e)));";
        let pairs: Vec<Value> = form.iter().map(|(k, v)| json!([k, v])).collect();
        let answer = self.client.execute_async(script, vec![json!(path), json!(pairs)]).await.expect("fetch runs");
        answer.as_u64().unwrap_or_else(|| panic!("POST {path} from the page failed: {answer}")) as u16
    }

    /// The value of the page's first `csrf` hidden field.
    pub async fn csrf(&self) -> String {
        let field = self.find("input[type=hidden][name=csrf]").await;
        field.attr("value").await.expect("csrf value").expect("the csrf field has a value")
    }

    /// Saves the page as `target/console-screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let file = dir.join(format!("{name}.png"));
        std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    }
}

/// Headless Chromium as a CI machine can run it: no sandbox (tests run as
/// root), no GPU, /tmp instead of a small /dev/shm.
fn capabilities() -> serde_json::Map<String, Value> {
    let args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"];
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
    });
    caps.as_object().expect("an object").clone()
}

/// Starts chromedriver on a port of its own choosing (`--port=0`), in a
/// process group of its own so [`Browser`]'s drop can kill it with its
/// browser, and returns it with the port it printed.
async fn spawn_chromedriver() -> (Child, u16) {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "the console's browser tests need {CHROMIUM} and {CHROMEDRIVER}: run `cargo xtask test`, which installs \
         them, or `apt-get update && apt-get install -y chromium chromium-driver` as root"
    );
    let mut child = Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let port = loop {
        let line = lines.next_line().await.expect("read chromedriver").expect("chromedriver prints its port");
        if let Some(rest) = line.strip_prefix("ChromeDriver was started successfully on port ") {
            break rest.trim_end_matches('.').parse().expect("a port number");
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

/// `target/console-screenshots`, in `CARGO_TARGET_DIR` when set (relative
/// to the workspace, as cargo reads it), else in the workspace's `target`.
pub fn screenshot_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| "target".into());
    workspace.join(target).join("console-screenshots")
}
