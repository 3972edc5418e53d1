//! POST and PATCH to DrChrono, through the same token, budget and error
//! mapping as every read ([`DrChronoClient::send`]). DrChrono answers a
//! create with 201 and the object, an update with 204 and no body, and a
//! refused write with 400 and DRF's field errors.

use serde_json::Value;

use super::{DrChronoClient, DrChronoError, responses::read_json};

impl DrChronoClient<'_> {
    /// POSTs a new record to a collection such as `/api/appointments` and
    /// returns the created object (with its id) from the 201.
    pub async fn create_object(&self, path: &str, body: &Value) -> Result<Value, DrChronoError> {
        let url = self.url(path)?;
        let resp = self.send(reqwest::Method::POST, &url, path, Some(body)).await?;
        match resp.status().as_u16() {
            200 | 201 => read_json(resp, path).await,
            400 => Err(invalid(resp, path).await),
            status => Err(DrChronoError::Rejected { status, path: path.to_string() }),
        }
    }

    /// PATCHes a record such as `/api/patients/1001`; `Ok(false)` when
    /// DrChrono has no such record (404).
    pub async fn patch_object(&self, path: &str, body: &Value) -> Result<bool, DrChronoError> {
        let url = self.url(path)?;
        let resp = self.send(reqwest::Method::PATCH, &url, path, Some(body)).await?;
        match resp.status().as_u16() {
            200 | 204 => Ok(true),
            404 => Ok(false),
            400 => Err(invalid(resp, path).await),
            status => Err(DrChronoError::Rejected { status, path: path.to_string() }),
        }
    }
}

/// The field names of a DRF 400 body; its messages are dropped because they
/// may quote what was sent.
async fn invalid(resp: reqwest::Response, path: &str) -> DrChronoError {
    let fields = match resp.json::<Value>().await {
        Ok(Value::Object(errors)) => errors.keys().cloned().collect(),
        _ => vec!["(body not readable)".to_string()],
    };
    DrChronoError::Invalid { path: path.to_string(), fields }
}
