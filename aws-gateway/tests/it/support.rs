//! Test harness: the fixture Lambda process, the gateway in process, SDK clients, and the moto
//! resources a Lambda needs (an IAM role, the function itself). Free ports, moto and polling come
//! from the `test-support` crate.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::operation::create_function::{CreateFunctionError, CreateFunctionOutput};
use aws_sdk_lambda::operation::invoke::InvokeOutput;
use clap::Parser;
use serde_json::Value;
pub use test_support::{Moto, free_port, wait_for, wait_http_ok};
use tokio::net::TcpListener;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .expect("client")
}

/// The fixture Lambda (Python, standard library only), killed on drop.
pub struct Fixture {
    child: Child,
    pub url: String,
}

impl Fixture {
    pub async fn start() -> Fixture {
        let port = free_port();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/lambdas/fixture_lambda.py"
        );
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 fixture_lambda.py");
        let url = format!("http://127.0.0.1:{port}");
        wait_http_ok("fixture lambda", &format!("{url}/_received")).await;
        Fixture { child, url }
    }

    /// Every payload the process received, in order.
    pub async fn received(&self) -> Vec<Value> {
        client()
            .get(format!("{}/_received", self.url))
            .send()
            .await
            .expect("GET /_received")
            .json()
            .await
            .expect("JSON")
    }

    /// Whether the process has exited (after a crash).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The gateway, in process, stopped on drop.
pub struct Gateway {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// Start on a free port with these extra flags (`--moto-url`, `--lambda`, ...).
    pub async fn start(args: &[String]) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Gateway::start_on(listener, args).await
    }

    /// Start on a listener the test bound first (moto's `MOTO_PORT` must know the port).
    pub async fn start_on(listener: TcpListener, args: &[String]) -> Gateway {
        let port = listener.local_addr().expect("addr").port();
        let mut argv = vec!["aws-gateway".to_owned(), "--port".into(), port.to_string()];
        argv.extend_from_slice(args);
        let config = aws_gateway::Config::try_parse_from(argv).expect("gateway flags");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            if let Err(e) = aws_gateway::run(config, listener, shutdown).await {
                panic!("gateway failed: {e:#}");
            }
        });
        let url = format!("http://127.0.0.1:{port}");
        wait_http_ok("gateway /healthz", &format!("{url}/healthz")).await;
        Gateway {
            url,
            stop: Some(tx),
            task,
        }
    }

    pub async fn lambdas(&self) -> Value {
        client()
            .get(format!("{}/_gateway/lambdas", self.url))
            .send()
            .await
            .expect("GET /_gateway/lambdas")
            .json()
            .await
            .expect("JSON")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// Create a pay-per-request table keyed by a string `pk`.
pub async fn create_table(ddb: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .send()
        .await
        .expect("CreateTable");
}

/// SDK configuration for `endpoint`, with one attempt per call (tests check each answer).
pub async fn sdk(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        )
        .load()
        .await
}

/// moto, the fixture process and a gateway declaring `function` (and `extra` flags).
pub struct Stack {
    pub _moto: Moto,
    pub fixture: Fixture,
    pub gateway: Gateway,
    pub sdk: SdkConfig,
}

impl Stack {
    /// `None` (skip) when moto is not installed.
    pub async fn start(function: &str, extra: &[&str]) -> Option<Stack> {
        let moto = Moto::start().await?;
        let fixture = Fixture::start().await;
        let mut args = vec![
            "--moto-url".to_owned(),
            moto.url.clone(),
            "--lambda".into(),
            format!("{function}={}", fixture.url),
            "--event-retry-base-ms".into(),
            "100".into(),
            "--esm-refresh-ms".into(),
            "200".into(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let gateway = Gateway::start(&args).await;
        let sdk = sdk(&gateway.url).await;
        Some(Stack {
            _moto: moto,
            fixture,
            gateway,
            sdk,
        })
    }

    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.sdk)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    /// Create `name` in moto (through the gateway) with the role it needs, as the seed will.
    pub async fn create_function(&self, name: &str) {
        self.create_function_with(name, |b| b)
            .await
            .expect("CreateFunction in moto");
    }

    /// CreateFunction as [`Stack::create_function`] does, with `extra` settings on the request.
    pub async fn create_function_with(
        &self,
        name: &str,
        extra: impl FnOnce(CreateFunctionFluentBuilder) -> CreateFunctionFluentBuilder,
    ) -> Result<CreateFunctionOutput, SdkError<CreateFunctionError, HttpResponse>> {
        // Unlike every other call here (one attempt, so the gateway's own errors show as they
        // are), CreateRole gets the SDK's retries: moto once answered a fresh process's first IAM
        // call with an HTML 500 (CI, 2026-12-04; not reproduced here). moto's stderr, with the
        // traceback, is printed if the test still fails.
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&self.sdk)
                .retry_config(RetryConfig::standard().with_max_attempts(6))
                .build(),
        );
        let role_name = format!("{name}-role");
        let role = match iam
            .create_role()
            .role_name(&role_name)
            .assume_role_policy_document("{}")
            .send()
            .await
        {
            Ok(out) => out.role().map(|r| r.arn().to_owned()).expect("role arn"),
            // A function created again (after a delete) reuses its role.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_entity_already_exists_exception()) =>
            {
                let out = iam.get_role().role_name(&role_name).send().await;
                out.expect("GetRole")
                    .role()
                    .map(|r| r.arn().to_owned())
                    .expect("role arn")
            }
            Err(e) => panic!("CreateRole: {e:?}"),
        };
        let request = self
            .lambda()
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .role(role)
            .handler("handler.handler")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_smithy_types::Blob::new(b"not run by moto".to_vec()))
                    .build(),
            );
        extra(request).send().await
    }

    /// Create a queue (through the gateway); returns (url, arn).
    pub async fn create_queue(
        &self,
        name: &str,
        attributes: &[(&str, String)],
    ) -> (String, String) {
        let sqs = self.sqs();
        let mut req = sqs.create_queue().queue_name(name);
        for (k, v) in attributes {
            req = req.attributes(aws_sdk_sqs::types::QueueAttributeName::from(*k), v.clone());
        }
        let url = req
            .send()
            .await
            .expect("CreateQueue")
            .queue_url()
            .expect("url")
            .to_owned();
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .expect("QueueArn");
        (url, arn)
    }

    /// An `Event` invoke of `function` with `payload`.
    pub async fn invoke_event(&self, function: &str, payload: &str) -> InvokeOutput {
        let out = self
            .lambda()
            .invoke()
            .function_name(function)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_smithy_types::Blob::new(payload))
            .send()
            .await
            .expect("Event invoke");
        assert_eq!(out.status_code(), 202);
        out
    }

    /// PutFunctionEventInvokeConfig: failures of `function` go to `destination`.
    pub async fn on_failure(&self, function: &str, destination: &str, max_retries: Option<i32>) {
        use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
        self.lambda()
            .put_function_event_invoke_config()
            .function_name(function)
            .set_maximum_retry_attempts(max_retries)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(OnFailure::builder().destination(destination).build())
                    .build(),
            )
            .send()
            .await
            .expect("PutFunctionEventInvokeConfig");
    }

    /// A topic with a queue subscribed (raw delivery, so message attributes arrive as SQS
    /// ones); returns (topic ARN, queue URL).
    pub async fn topic_with_inbox(&self, name: &str) -> (String, String) {
        let (inbox_url, inbox_arn) = self.create_queue(&format!("{name}-inbox"), &[]).await;
        let sns = aws_sdk_sns::Client::new(&self.sdk);
        let topic = sns.create_topic().name(name).send().await;
        let topic_arn = topic
            .expect("CreateTopic")
            .topic_arn()
            .expect("topic arn")
            .to_owned();
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(&inbox_arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .expect("Subscribe");
        (topic_arn, inbox_url)
    }

    /// Receive up to 10 messages from `url` (short wait) with all their message attributes.
    pub async fn receive(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        self.sqs()
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .expect("ReceiveMessage")
            .messages()
            .to_vec()
    }

    /// Receive up to 10 messages from `url` (short wait), returning their bodies.
    pub async fn receive_bodies(&self, url: &str) -> Vec<String> {
        self.receive(url)
            .await
            .iter()
            .filter_map(|m| m.body().map(str::to_owned))
            .collect()
    }
}
