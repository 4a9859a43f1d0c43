//! The `[[lambdas]]` functions, created in moto so GetFunction and ListFunctions answer as in AWS
//! (the AWS gateway, not moto, runs their Invoke). moto refuses a function whose role is not an
//! IAM role it knows, so the seed first ensures one execution role for all of them.

use aws_sdk_iam::error::ProvideErrorMetadata as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::Runtime;

use super::describe;
use crate::{SeedError, Tally, bounded};

const GROUP: &str = "moto-functions";
/// The execution role every declared function gets.
pub const ROLE_NAME: &str = "hippodrome-lambda";
/// The code moto stores: an empty zip archive (its end-of-central-directory record alone). The
/// code never runs; the gateway sends invocations to the declared local process.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// One declared function: its name, timeout, and where the gateway sends it (for the description).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub name: String,
    pub timeout_s: u64,
    pub target: String,
}

impl Wanted {
    fn description(&self) -> String {
        format!(
            "Served locally by Hippodrome's AWS gateway: {}",
            self.target
        )
    }
}

async fn ensure_role(iam: &aws_sdk_iam::Client) -> Result<String, SeedError> {
    let err = |e: String| SeedError::new(GROUP, ROLE_NAME, e);
    match iam.get_role().role_name(ROLE_NAME).send().await {
        Ok(r) => {
            return r
                .role()
                .map(|r| r.arn.clone())
                .ok_or_else(|| err("no role in GetRole".into()));
        }
        Err(e) if e.code() == Some("NoSuchEntity") => {}
        Err(e) => return Err(err(describe(&e))),
    }
    match iam
        .create_role()
        .role_name(ROLE_NAME)
        .assume_role_policy_document(TRUST_POLICY)
        .send()
        .await
    {
        Ok(r) => r
            .role()
            .map(|r| r.arn.clone())
            .ok_or_else(|| err("no role in CreateRole".into())),
        // A concurrent seed created it first.
        Err(e) if e.code() == Some("EntityAlreadyExists") => iam
            .get_role()
            .role_name(ROLE_NAME)
            .send()
            .await
            .map_err(|e| err(describe(&e)))?
            .role()
            .map(|r| r.arn.clone())
            .ok_or_else(|| err("no role in GetRole".into())),
        Err(e) => Err(err(describe(&e))),
    }
}

/// Create each function (or bring an existing one's timeout and description up to date); returns
/// their ARNs in order.
pub async fn ensure(
    iam: &aws_sdk_iam::Client,
    lambda: &aws_sdk_lambda::Client,
    wanted: &[Wanted],
) -> Result<(Tally, Vec<String>), SeedError> {
    let role = ensure_role(iam).await?;
    let results = bounded(
        wanted
            .iter()
            .map(|w| ensure_one(lambda, w, &role))
            .collect(),
        8,
    )
    .await?;
    Ok(Tally::split(results))
}

async fn ensure_one(
    lambda: &aws_sdk_lambda::Client,
    w: &Wanted,
    role: &str,
) -> Result<(bool, String), SeedError> {
    let err = |e: String| SeedError::new(GROUP, &w.name, e);
    let timeout = i32::try_from(w.timeout_s).unwrap_or(900);
    match lambda
        .get_function_configuration()
        .function_name(&w.name)
        .send()
        .await
    {
        Ok(c) => {
            let arn = c.function_arn.clone().unwrap_or_default();
            if c.timeout != Some(timeout) || c.description.as_deref() != Some(&w.description()) {
                lambda
                    .update_function_configuration()
                    .function_name(&w.name)
                    .timeout(timeout)
                    .description(w.description())
                    .send()
                    .await
                    .map_err(|e| err(describe(&e)))?;
            }
            return Ok((false, arn));
        }
        Err(e) if e.code() == Some("ResourceNotFoundException") => {}
        Err(e) => return Err(err(describe(&e))),
    }
    let created = lambda
        .create_function()
        .function_name(&w.name)
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .role(role)
        .timeout(timeout)
        .description(w.description())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(Blob::new(EMPTY_ZIP.to_vec()))
                .build(),
        )
        .send()
        .await;
    match created {
        Ok(c) => Ok((true, c.function_arn.unwrap_or_default())),
        Err(e) if e.code() == Some("ResourceConflictException") => Ok((
            false,
            super::asl::lambda_arn(
                lambda
                    .config()
                    .region()
                    .map(|r| r.as_ref())
                    .unwrap_or("us-east-1"),
                &w.name,
            ),
        )),
        Err(e) => Err(err(describe(&e))),
    }
}
