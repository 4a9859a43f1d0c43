//! Start the real binary on an OS-chosen port with a temp state file; build SDK clients.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, ExplicitAuthFlowsType};
use serde_json::Value;

pub struct Server {
    child: Child,
    pub url: String,
    pub state_file: PathBuf,
    /// Every line the server wrote to stdout (its log) so far.
    pub log: Arc<Mutex<Vec<String>>>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let mut s = Self::start_at(&state, &[], &[]);
        s._dir = Some(dir);
        s
    }

    /// Start on `state_file` with extra args and env; waits for the "ready" log line.
    pub fn start_at(state_file: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::start_wrapped(state_file, args, env, None)
    }

    /// Like [`Server::start_at`], with `sh -c "<wrapper>; exec fake-cognito ..."` when a wrapper
    /// is given (e.g. `ulimit`); the pid is still the server's.
    pub fn start_wrapped(
        state_file: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
        wrapper: Option<&str>,
    ) -> Server {
        let bin = env!("CARGO_BIN_EXE_fake-cognito");
        let mut cmd = match wrapper {
            Some(script) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("{script}; exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        if !args.contains(&"--port") {
            cmd.args(["--port", "0"]);
        }
        cmd.arg("--state-file")
            .arg(state_file)
            .args(args)
            .env_remove("HIPPODROME_RANDOM_SEED")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn fake-cognito");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let log_w = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(mut l) = log_w.lock() {
                    l.push(line.clone());
                }
                if let Some(rest) = line.split("addr=").nth(1) {
                    let addr = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(test_support::patience())
            .expect("fake-cognito did not report ready");
        Server {
            child,
            url: format!("http://{addr}"),
            state_file: state_file.to_path_buf(),
            log,
            _dir: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    pub fn port(&self) -> String {
        self.url.rsplit(':').next().unwrap_or_default().to_owned()
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }

    pub async fn sdk(&self) -> Client {
        let creds =
            aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(&self.url)
            .load()
            .await;
        Client::new(&conf)
    }

    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        self.http()
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `/_fake/validate` → (status, body)
    pub async fn validate(&self, token: &str, query: &str) -> (u16, Value) {
        let r = self
            .http()
            .get(format!("{}/_fake/validate?{query}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const PASSWORD: &str = "Correct-Horse-9!";

pub struct Fixture {
    pub pool_id: String,
    pub client_id: String,
}

pub fn flows(names: &[&str]) -> Vec<ExplicitAuthFlowsType> {
    names
        .iter()
        .map(|n| ExplicitAuthFlowsType::from(*n))
        .collect()
}

pub fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

/// A pool with a `custom:account_id` attribute and auto-verified email (so sign-up sends a
/// code), a public client allowing every flow, and a confirmed user `alice` in group `admins`.
pub async fn fixture(c: &Client) -> Fixture {
    use aws_sdk_cognitoidentityprovider::types::{AttributeDataType, SchemaAttributeType};
    let pool = c
        .create_user_pool()
        .pool_name("it-pool")
        .auto_verified_attributes(
            aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::Email,
        )
        .schema(
            SchemaAttributeType::builder()
                .name("account_id")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let pool_id = pool.user_pool().unwrap().id().unwrap().to_owned();
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("app")
        .set_explicit_auth_flows(Some(flows(&[
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ])))
        .send()
        .await
        .unwrap();
    let client_id = client
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_owned();
    create_user(c, &pool_id, "alice").await;
    c.create_group()
        .user_pool_id(&pool_id)
        .group_name("admins")
        .send()
        .await
        .unwrap();
    c.admin_add_user_to_group()
        .user_pool_id(&pool_id)
        .username("alice")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    Fixture { pool_id, client_id }
}

pub async fn create_user(c: &Client, pool_id: &str, name: &str) {
    c.admin_create_user()
        .user_pool_id(pool_id)
        .username(name)
        .user_attributes(attr("email", &format!("{name}@example.com")))
        .user_attributes(attr("email_verified", "true"))
        .user_attributes(attr("custom:account_id", "acc-1"))
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    c.admin_set_user_password()
        .user_pool_id(pool_id)
        .username(name)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
}

/// Log in with USER_PASSWORD_AUTH; returns (access, id, refresh).
pub async fn login(c: &Client, client_id: &str, user: &str, pw: &str) -> (String, String, String) {
    let r = c
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", user)
        .auth_parameters("PASSWORD", pw)
        .send()
        .await
        .unwrap();
    let a = r.authentication_result().unwrap();
    (
        a.access_token().unwrap().to_owned(),
        a.id_token().unwrap().to_owned(),
        a.refresh_token().unwrap().to_owned(),
    )
}

/// The `__type` of a failed SDK call.
pub fn code<E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata, R>(
    r: Result<R, E>,
) -> String {
    match r {
        Ok(_) => "Ok".into(),
        Err(e) => e.code().unwrap_or("<none>").to_owned(),
    }
}

pub fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}
