//! Helpers shared by the tests: a sandbox plus a client that talks to it.

use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub struct Api {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
}

/// A sandbox without the burst throttle: these tests fire requests as fast
/// as they can to check answers, not pacing (the throttle has its own test).
pub async fn spawn(patients: usize) -> Api {
    spawn_with(SandboxConfig { patients, calls_per_second: None, ..SandboxConfig::default() }).await
}

pub async fn spawn_with(config: SandboxConfig) -> Api {
    let sandbox = Sandbox::spawn(config).await.expect("sandbox starts");
    Api { sandbox, http: reqwest::Client::new() }
}

impl Api {
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.sandbox.base_url())
    }

    /// GET with the currently valid access token.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        let (access, _) = self.sandbox.current_tokens();
        self.get_with(url, &access).await
    }

    /// POST with no body and the currently valid access token.
    pub async fn post(&self, url: &str) -> reqwest::Response {
        let (access, _) = self.sandbox.current_tokens();
        self.http.post(url).bearer_auth(access).send().await.expect("request sent")
    }

    pub async fn get_with(&self, url: &str, access: &str) -> reqwest::Response {
        self.http.get(url).bearer_auth(access).send().await.expect("request sent")
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        let config = self.sandbox.config();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
        ];
        self.http.post(self.url("/o/token/")).form(&form).send().await.expect("request sent")
    }
}

pub async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

/// A record's id, whether DrChrono spells it as a number or (appointments) a
/// string.
pub fn id_of(record: &Value) -> i64 {
    match &record["id"] {
        Value::String(text) => text.parse().expect("numeric id"),
        other => other.as_i64().expect("id"),
    }
}

/// Follows `next` to the end, returning the ids seen and the pages fetched.
pub async fn walk(api: &Api, first: &str) -> (Vec<i64>, u64) {
    let mut url = Some(first.to_owned());
    let (mut ids, mut pages) = (Vec::new(), 0);
    while let Some(current) = url {
        let response = api.get(&current).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{current}");
        let body = json(response).await;
        pages += 1;
        ids.extend(body["results"].as_array().expect("results").iter().map(id_of));
        url = body["next"].as_str().map(str::to_owned);
    }
    (ids, pages)
}
