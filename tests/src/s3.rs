//! A real S3-protocol server for tests: s3s-fs on a loopback port, spoken
//! to through aws-sdk-s3, with the archive uploader's IAM policy enforced.
//!
//! The uploader's key may only `PutObject` into the bucket, under the prefix,
//! with a `.pdf` key, server-side encryption, a SHA-256 checksum and
//! `Content-Type: application/pdf`. Every other request it makes (HEAD, GET,
//! LIST, a put without SSE) is refused with AccessDenied and recorded, so a
//! test can assert that the service never tried one. A second key, the
//! inspector's, may do anything: the test reads the bucket with it.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder as ConnBuilder,
};
use s3s::{
    S3Request, S3Result,
    access::{S3Access, S3AccessContext},
    auth::SimpleAuth,
    dto::PutObjectInput,
    path::S3Path,
    s3_error,
    service::S3ServiceBuilder,
};
use server::config::archive::ArchiveArgs;
use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, Mutex},
};
use tokio::task::JoinHandle;

pub const UPLOADER_KEY: &str = "ARCHIVEUPLOADER";
const UPLOADER_SECRET: &str = "uploader-secret-key";
const INSPECTOR_KEY: &str = "TESTINSPECTOR";
const INSPECTOR_SECRET: &str = "inspector-secret-key";
pub const BUCKET: &str = "note-archive";
pub const PREFIX: &str = "notes";

/// The uploader's policy, and what it refused.
struct Policy {
    refused: Mutex<Vec<String>>,
    puts: Mutex<u64>,
}

impl Policy {
    fn refuse(&self, what: String) -> S3Result<()> {
        self.refused.lock().unwrap().push(what);
        Err(s3_error!(AccessDenied, "the archive uploader may only put encrypted PDFs under its prefix"))
    }
}

#[derive(Clone)]
struct Enforced(Arc<Policy>);

#[async_trait::async_trait]
impl S3Access for Enforced {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let op = cx.s3_op().name().to_string();
        match cx.credentials().map(|c| c.access_key.as_str()) {
            Some(INSPECTOR_KEY) => Ok(()),
            Some(UPLOADER_KEY) => {
                let in_prefix = matches!(cx.s3_path(), S3Path::Object { bucket, key }
                    if &**bucket == BUCKET && key.starts_with(&format!("{PREFIX}/")) && key.ends_with(".pdf"));
                if op == "PutObject" && in_prefix { Ok(()) } else { self.0.refuse(op) }
            }
            _ => self.0.refuse(format!("anonymous {op}")),
        }
    }

    async fn put_object(&self, req: &mut S3Request<PutObjectInput>) -> S3Result<()> {
        if req.credentials.as_ref().is_some_and(|c| c.access_key == INSPECTOR_KEY) {
            return Ok(());
        }
        let input = &req.input;
        if input.server_side_encryption.is_none() {
            return self.0.refuse("PutObject without server-side encryption".into());
        }
        if input.checksum_sha256.is_none() {
            return self.0.refuse("PutObject without a SHA-256 checksum".into());
        }
        if input.content_type.as_deref() != Some("application/pdf") {
            return self.0.refuse("PutObject without Content-Type application/pdf".into());
        }
        *self.0.puts.lock().unwrap() += 1;
        Ok(())
    }
}

pub struct TestS3 {
    pub endpoint: String,
    root: PathBuf,
    policy: Arc<Policy>,
    task: JoinHandle<()>,
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl TestS3 {
    /// Serves an empty bucket [`BUCKET`] on a loopback port.
    pub async fn start() -> Self {
        let root = std::env::temp_dir().join(format!("drchrono-sync-s3-{}", ulid::Ulid::generate()));
        std::fs::create_dir_all(root.join(BUCKET)).expect("create the bucket directory");
        let fs = s3s_fs::FileSystem::new(&root).expect("s3s-fs opens its root");
        let policy = Arc::new(Policy { refused: Mutex::new(Vec::new()), puts: Mutex::new(0) });
        let mut auth = SimpleAuth::from_single(UPLOADER_KEY, UPLOADER_SECRET);
        auth.register(INSPECTOR_KEY.into(), INSPECTOR_SECRET.into());
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(auth);
        builder.set_access(Enforced(policy.clone()));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let conn = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
                tokio::spawn(conn);
            }
        });
        Self { endpoint, root, policy, task }
    }

    /// Points the service's archive settings at this server, as the uploader.
    pub fn configure(&self, archive: &mut ArchiveArgs, provider: &str) {
        archive.provider_string = Some(provider.into());
        archive.s3_bucket = Some(BUCKET.into());
        archive.s3_prefix = PREFIX.into();
        archive.s3_endpoint = Some(self.endpoint.clone());
        archive.s3_force_path_style = true;
        archive.aws_region = Some("us-east-1".into());
        archive.aws_access_key_id = Some(UPLOADER_KEY.into());
        archive.aws_secret_access_key = Some(UPLOADER_SECRET.into());
    }

    /// The same settings as environment variables, for a service process.
    pub fn env(&self, provider: &str) -> Vec<(&'static str, String)> {
        vec![
            ("PROVIDER_STRING", provider.into()),
            ("S3_BUCKET", BUCKET.into()),
            ("S3_PREFIX", PREFIX.into()),
            ("S3_ENDPOINT", self.endpoint.clone()),
            ("S3_FORCE_PATH_STYLE", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            // The older handler's names, which the service accepts as aliases.
            ("MY_AWS_ACCESS_KEY_ID", UPLOADER_KEY.into()),
            ("MY_AWS_SECRET_ACCESS_KEY", UPLOADER_SECRET.into()),
        ]
    }

    /// Requests of the uploader the policy refused (operation names).
    pub fn refused(&self) -> Vec<String> {
        self.policy.refused.lock().unwrap().clone()
    }

    /// PutObject requests of the uploader the policy let through.
    pub fn accepted_puts(&self) -> u64 {
        *self.policy.puts.lock().unwrap()
    }

    /// A client with the inspector's full access.
    pub fn inspector(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(Credentials::new(INSPECTOR_KEY, INSPECTOR_SECRET, None, None, "test"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Every object in the bucket: key → SHA-256 (hex) of its bytes.
    pub async fn objects(&self) -> BTreeMap<String, String> {
        let client = self.inspector();
        let listed = client.list_objects_v2().bucket(BUCKET).send().await.expect("inspector lists");
        let mut objects = BTreeMap::new();
        for object in listed.contents() {
            let key = object.key().expect("listed objects have keys").to_string();
            let got = client.get_object().bucket(BUCKET).key(&key).send().await.expect("inspector gets");
            let bytes = got.body.collect().await.expect("object body").into_bytes().to_vec();
            objects.insert(key, crate::archive::sha256_hex(&bytes));
        }
        objects
    }
}
