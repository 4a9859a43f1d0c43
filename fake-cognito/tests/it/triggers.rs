//! Lambda triggers against the real binary and a real trigger process
//! (`fixtures/lambdas/cognito_triggers.py`, spawned on a free port and steered per trigger):
//! sign-up, confirmation, custom messages, migration, LambdaConfig and the failure modes. The
//! sign-in triggers (authentication, token generation, CUSTOM_AUTH) are in `triggers_auth.rs`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AuthFlowType, LambdaConfigType, PreTokenGenerationLambdaVersionType,
    PreTokenGenerationVersionConfigType, SchemaAttributeType, VerifiedAttributeType,
};
use serde_json::{Value, json};

use crate::support::*;

/// The trigger process.
pub struct Lambda {
    child: Child,
    pub url: String,
}

impl Lambda {
    pub fn start() -> Lambda {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/lambdas/cognito_triggers.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .arg("0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 cognito_triggers.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().rsplit(' ').next().unwrap().to_owned();
        Lambda {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Steer what the function answers for a trigger source (or its prefix, or `*`).
    pub async fn control(&self, trigger: &str, mut rule: Value) {
        rule["trigger"] = json!(trigger);
        let r = reqwest::Client::new()
            .post(format!("{}/_control", self.url))
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// Every event received whose triggerSource starts with `prefix`, in order.
    pub async fn events(&self, prefix: &str) -> Vec<Value> {
        let all: Vec<Value> = reqwest::get(format!("{}/_received", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        all.into_iter()
            .filter(|e| {
                e["triggerSource"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(prefix))
            })
            .collect()
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn arn(function: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{function}")
}

/// fake-cognito with three functions: `triggers` (timeout 10 s, so Cognito's 5 s applies),
/// `short` (1 s) on the trigger process, and `down` where nothing listens.
pub struct Stack {
    pub lambda: Lambda,
    pub server: Server,
    pub sdk: Client,
    _dir: tempfile::TempDir,
}

impl Stack {
    pub async fn start() -> Stack {
        let lambda = Lambda::start();
        let dir = tempfile::tempdir().unwrap();
        let triggers = format!("triggers={},10", lambda.url);
        let short = format!("short={},1", lambda.url);
        let server = Server::start_at(
            &dir.path().join("state.json"),
            &[
                "--lambda",
                &triggers,
                "--lambda",
                &short,
                "--lambda",
                "down=http://127.0.0.1:9",
            ],
            &[],
        );
        let sdk = server.sdk().await;
        Stack {
            lambda,
            server,
            sdk,
            _dir: dir,
        }
    }

    /// A pool (email auto-verified) with `config` and a client allowing every flow.
    pub async fn pool(&self, config: LambdaConfigType) -> (String, String) {
        let pool = self
            .sdk
            .create_user_pool()
            .pool_name("triggers")
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .schema(
                SchemaAttributeType::builder()
                    .name("account_id")
                    .attribute_data_type(AttributeDataType::String)
                    .mutable(true)
                    .build(),
            )
            .lambda_config(config)
            .send()
            .await
            .unwrap();
        let pool_id = pool.user_pool().unwrap().id().unwrap().to_owned();
        let client = self
            .sdk
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("app")
            .set_explicit_auth_flows(Some(flows(&[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_CUSTOM_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ])))
            .send()
            .await
            .unwrap();
        let client_id = client.user_pool_client().unwrap().client_id().unwrap();
        (pool_id, client_id.to_owned())
    }

    pub async fn codes(&self, username: &str) -> Vec<Value> {
        let v = self
            .server
            .get_json(&format!("/_fake/codes?username={username}"))
            .await;
        v["results"].as_array().cloned().unwrap_or_default()
    }
}

/// The common fields every event carries.
pub fn assert_envelope(e: &Value, source: &str, pool_id: &str, client_id: &str, user: &str) {
    assert_eq!(e["version"], "1", "{e}");
    assert_eq!(e["triggerSource"], source, "{e}");
    assert_eq!(e["region"], "us-east-1", "{e}");
    assert_eq!(e["userPoolId"], pool_id, "{e}");
    assert_eq!(e["userName"], user, "{e}");
    assert_eq!(e["callerContext"]["clientId"], client_id, "{e}");
    let sdk = e["callerContext"]["awsSdkVersion"].as_str().unwrap();
    assert!(sdk.starts_with("aws-sdk-rust-"), "{sdk}");
}

async fn sign_up(s: &Stack, client_id: &str, user: &str) -> Result<bool, String> {
    s.sdk
        .sign_up()
        .client_id(client_id)
        .username(user)
        .password(PASSWORD)
        .user_attributes(attr("email", &format!("{user}@example.com")))
        .validation_data(attr("captcha", "ok"))
        .client_metadata("source", "it")
        .send()
        .await
        .map(|r| r.user_confirmed())
        .map_err(|e| {
            use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
            format!("{}: {}", e.code().unwrap_or(""), e.message().unwrap_or(""))
        })
}

#[tokio::test]
async fn pre_sign_up_event_auto_confirm_and_post_confirmation() {
    let s = Stack::start().await;
    let (pool_id, client_id) = s
        .pool(
            LambdaConfigType::builder()
                .pre_sign_up(arn("triggers"))
                .post_confirmation(arn("triggers"))
                .build(),
        )
        .await;
    s.lambda
        .control(
            "PreSignUp",
            json!({"respond": {"autoConfirmUser": true, "autoVerifyEmail": true}}),
        )
        .await;
    assert_eq!(sign_up(&s, &client_id, "bob").await, Ok(true));
    let pre = s.lambda.events("PreSignUp").await;
    assert_eq!(pre.len(), 1);
    let e = &pre[0];
    assert_envelope(e, "PreSignUp_SignUp", &pool_id, &client_id, "bob");
    assert_eq!(
        e["request"],
        json!({
            "userAttributes": {"email": "bob@example.com"},
            "validationData": {"captcha": "ok"},
            "clientMetadata": {"source": "it"},
        })
    );
    assert_eq!(
        e["response"],
        json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false})
    );
    let user = s
        .sdk
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(user.user_status().unwrap().as_str(), "CONFIRMED");
    let verified = user
        .user_attributes()
        .iter()
        .find(|a| a.name() == "email_verified")
        .and_then(|a| a.value());
    assert_eq!(verified, Some("true"));
    assert!(s.codes("bob").await.is_empty(), "auto-confirmed: no code");
    let post = s.lambda.events("PostConfirmation").await;
    assert_eq!(post.len(), 1);
    let e = &post[0];
    assert_envelope(
        e,
        "PostConfirmation_ConfirmSignUp",
        &pool_id,
        &client_id,
        "bob",
    );
    let attrs = &e["request"]["userAttributes"];
    assert_eq!(attrs["cognito:user_status"], "CONFIRMED");
    assert_eq!(attrs["email_verified"], "true");
    assert!(attrs["sub"].as_str().is_some_and(|s| s.len() == 36), "{e}");
    assert_eq!(e["request"]["clientMetadata"], json!({"source": "it"}));
    assert_eq!(e["response"], json!({}));
}

#[tokio::test]
async fn custom_messages_land_in_fake_codes_and_confirmations_run_post_confirmation() {
    let s = Stack::start().await;
    let (pool_id, client_id) = s
        .pool(
            LambdaConfigType::builder()
                .custom_message(arn("triggers"))
                .post_confirmation(arn("triggers"))
                .build(),
        )
        .await;
    s.lambda
        .control(
            "CustomMessage",
            json!({"respond": {"emailSubject": "Welcome", "emailMessage": "Your code is {####}",
                               "smsMessage": "code {####}"}}),
        )
        .await;
    assert_eq!(sign_up(&s, &client_id, "carol").await, Ok(false));
    let msgs = s.lambda.events("CustomMessage").await;
    assert_eq!(msgs.len(), 1);
    let e = &msgs[0];
    assert_envelope(e, "CustomMessage_SignUp", &pool_id, &client_id, "carol");
    assert_eq!(e["request"]["codeParameter"], "{####}");
    assert_eq!(e["request"]["linkParameter"], "{##Click Here##}");
    assert_eq!(e["request"]["usernameParameter"], Value::Null);
    assert_eq!(
        e["request"]["userAttributes"]["cognito:user_status"],
        "UNCONFIRMED"
    );
    assert_eq!(e["request"]["userAttributes"]["email"], "carol@example.com");
    assert_eq!(
        e["response"],
        json!({"smsMessage": null, "emailMessage": null, "emailSubject": null})
    );
    let codes = s.codes("carol").await;
    let code = codes[0]["code"].as_str().unwrap().to_owned();
    assert_eq!(
        codes[0]["message"],
        json!({"emailSubject": "Welcome", "emailMessage": format!("Your code is {code}"),
               "smsMessage": format!("code {code}")})
    );
    s.sdk
        .resend_confirmation_code()
        .client_id(&client_id)
        .username("carol")
        .send()
        .await
        .unwrap();
    let msgs = s.lambda.events("CustomMessage").await;
    assert_eq!(msgs[1]["triggerSource"], "CustomMessage_ResendCode");
    let code = s.codes("carol").await[0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    s.sdk
        .confirm_sign_up()
        .client_id(&client_id)
        .username("carol")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    let post = s.lambda.events("PostConfirmation").await;
    assert_eq!(post.len(), 1);
    assert_envelope(
        &post[0],
        "PostConfirmation_ConfirmSignUp",
        &pool_id,
        &client_id,
        "carol",
    );
    // email is now verified, so forgot-password can send a code: CustomMessage_ForgotPassword.
    s.sdk
        .forgot_password()
        .client_id(&client_id)
        .username("carol")
        .send()
        .await
        .unwrap();
    let msgs = s.lambda.events("CustomMessage").await;
    assert_eq!(msgs[2]["triggerSource"], "CustomMessage_ForgotPassword");
    let codes = s.codes("carol").await;
    let reset = codes
        .iter()
        .find(|c| c["kind"] == "forgot_password")
        .unwrap();
    let code = reset["code"].as_str().unwrap();
    assert_eq!(
        reset["message"]["emailMessage"],
        format!("Your code is {code}")
    );
    s.sdk
        .confirm_forgot_password()
        .client_id(&client_id)
        .username("carol")
        .confirmation_code(code)
        .password("N3w-Passw0rd!")
        .send()
        .await
        .unwrap();
    let post = s.lambda.events("PostConfirmation").await;
    assert_eq!(post.len(), 2);
    assert_eq!(
        post[1]["triggerSource"],
        "PostConfirmation_ConfirmForgotPassword"
    );
}

#[tokio::test]
async fn admin_create_user_runs_pre_sign_up_and_the_invitation_message() {
    let s = Stack::start().await;
    let (pool_id, _) = s
        .pool(
            LambdaConfigType::builder()
                .pre_sign_up(arn("triggers"))
                .custom_message(arn("triggers"))
                .build(),
        )
        .await;
    s.lambda
        .control(
            "CustomMessage",
            json!({"respond": {"emailSubject": "Hi", "emailMessage": "User {username}, password {####}"}}),
        )
        .await;
    s.sdk
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username("dave")
        .user_attributes(attr("email", "dave@example.com"))
        .send()
        .await
        .unwrap();
    let pre = s.lambda.events("PreSignUp").await;
    assert_envelope(
        &pre[0],
        "PreSignUp_AdminCreateUser",
        &pool_id,
        "CLIENT_ID_NOT_APPLICABLE",
        "dave",
    );
    assert_eq!(pre[0]["request"]["validationData"], Value::Null);
    let msg = s.lambda.events("CustomMessage").await;
    assert_envelope(
        &msg[0],
        "CustomMessage_AdminCreateUser",
        &pool_id,
        "CLIENT_ID_NOT_APPLICABLE",
        "dave",
    );
    assert_eq!(msg[0]["request"]["usernameParameter"], "{username}");
    let codes = s.codes("dave").await;
    assert_eq!(codes[0]["kind"], "invitation");
    assert_eq!(
        codes[0]["message"]["emailMessage"],
        "User dave, password {####}"
    );
}

#[tokio::test]
async fn failing_triggers_answer_cognitos_errors_and_change_nothing() {
    let s = Stack::start().await;
    let (pool_id, client_id) = s
        .pool(
            LambdaConfigType::builder()
                .pre_sign_up(arn("triggers"))
                .build(),
        )
        .await;
    s.lambda
        .control("PreSignUp", json!({"fail": "no sign-ups today"}))
        .await;
    assert_eq!(
        sign_up(&s, &client_id, "erin").await,
        Err("UserLambdaValidationException: PreSignUp failed with error no sign-ups today.".into())
    );
    s.lambda.control("PreSignUp", json!({"text": true})).await;
    assert_eq!(
        sign_up(&s, &client_id, "erin").await,
        Err("InvalidLambdaResponseException: Unrecognizable lambda output".into())
    );
    s.lambda
        .control("PreSignUp", json!({"respond": {"autoConfirmUser": "yes"}}))
        .await;
    assert!(
        sign_up(&s, &client_id, "erin")
            .await
            .unwrap_err()
            .starts_with("InvalidLambdaResponseException")
    );
    // Past Cognito's own 5 s (the function's timeout is 10 s): a socket timeout.
    s.lambda.control("PreSignUp", json!({"sleep": 6})).await;
    assert_eq!(
        sign_up(&s, &client_id, "erin").await,
        Err("UnexpectedLambdaException: PreSignUp invocation failed due to error Socket timeout while invoking Lambda function.".into())
    );
    let users = s
        .sdk
        .list_users()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    assert!(users.users().is_empty(), "no failed sign-up created a user");
    // The function's own 1 s timeout: its timeout message, as a failure of the function.
    let (_, short_client) = s
        .pool(
            LambdaConfigType::builder()
                .pre_sign_up(arn("short"))
                .build(),
        )
        .await;
    s.lambda.control("PreSignUp", json!({"sleep": 2})).await;
    let e = sign_up(&s, &short_client, "erin").await.unwrap_err();
    assert!(
        e.starts_with("UserLambdaValidationException: PreSignUp failed with error ")
            && e.ends_with("Task timed out after 1.00 seconds."),
        "{e}"
    );
    for (function, why) in [
        ("down", "ServiceException"),
        ("missing", "ResourceNotFoundException"),
    ] {
        let (_, c) = s
            .pool(
                LambdaConfigType::builder()
                    .pre_sign_up(arn(function))
                    .build(),
            )
            .await;
        assert_eq!(
            sign_up(&s, &c, "erin").await,
            Err(format!(
                "UnexpectedLambdaException: PreSignUp invocation failed due to error {why}."
            ))
        );
    }
}

#[tokio::test]
async fn lambda_config_is_validated_described_and_reset_by_update() {
    let s = Stack::start().await;
    let bad = s
        .sdk
        .create_user_pool()
        .pool_name("bad")
        .lambda_config(LambdaConfigType::builder().pre_sign_up("arn:nope").build())
        .send()
        .await;
    assert_eq!(code(bad), "InvalidParameterException");
    let bad = s
        .sdk
        .create_user_pool()
        .pool_name("bad")
        .lambda_config(
            LambdaConfigType::builder()
                .pre_sign_up("arn:aws:lambda:us-east-1:acct:function:pre-sign-up")
                .build(),
        )
        .send()
        .await;
    assert_eq!(code(bad), "InvalidParameterException");
    let v2 = PreTokenGenerationVersionConfigType::builder()
        .lambda_version(PreTokenGenerationLambdaVersionType::V20)
        .lambda_arn(arn("triggers"))
        .build()
        .unwrap();
    let (pool_id, _) = s
        .pool(
            LambdaConfigType::builder()
                .pre_token_generation_config(v2)
                .user_migration(arn("triggers"))
                .build(),
        )
        .await;
    let d = s
        .sdk
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    let lc = d.user_pool().unwrap().lambda_config().unwrap();
    assert_eq!(lc.pre_token_generation(), Some(arn("triggers").as_str()));
    assert_eq!(
        lc.pre_token_generation_config().unwrap().lambda_version(),
        &PreTokenGenerationLambdaVersionType::V20
    );
    assert_eq!(lc.user_migration(), Some(arn("triggers").as_str()));
    s.sdk
        .update_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    let d = s
        .sdk
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    let lc = d.user_pool().unwrap().lambda_config().unwrap();
    assert_eq!(
        lc.user_migration(),
        None,
        "UpdateUserPool without LambdaConfig clears it"
    );
}

#[tokio::test]
async fn user_migration_creates_unknown_users_on_sign_in_and_forgot_password() {
    let s = Stack::start().await;
    let (pool_id, client_id) = s
        .pool(
            LambdaConfigType::builder()
                .user_migration(arn("triggers"))
                .build(),
        )
        .await;
    s.lambda
        .control(
            "UserMigration",
            json!({"respond": {"userAttributes": {"email": "old@example.com", "email_verified": "true"},
                               "finalUserStatus": "CONFIRMED", "messageAction": "SUPPRESS"}}),
        )
        .await;
    let login = || {
        s.sdk
            .initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "legacy")
            .auth_parameters("PASSWORD", "Legacy-Passw0rd!")
            .client_metadata("from", "it")
            .send()
    };
    let r = login().await.unwrap();
    let id = claims(r.authentication_result().unwrap().id_token().unwrap());
    assert_eq!(id["email"], "old@example.com");
    assert_eq!(id["cognito:username"], "legacy");
    let events = s.lambda.events("UserMigration").await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_envelope(
        e,
        "UserMigration_Authentication",
        &pool_id,
        &client_id,
        "legacy",
    );
    assert_eq!(
        e["request"],
        json!({"password": "Legacy-Passw0rd!", "validationData": {"from": "it"}})
    );
    assert_eq!(
        e["response"],
        json!({"userAttributes": null, "finalUserStatus": null, "messageAction": null,
               "desiredDeliveryMediums": null, "forceAliasCreation": null, "enableSMSMFA": null})
    );
    login().await.unwrap();
    assert_eq!(
        s.lambda.events("UserMigration").await.len(),
        1,
        "a migrated user signs in as any other"
    );
    // Forgot password for another unknown user: migrated as RESET_REQUIRED, code sent.
    s.lambda
        .control(
            "UserMigration",
            json!({"respond": {"userAttributes": {"email": "old2@example.com", "email_verified": "true"}}}),
        )
        .await;
    s.sdk
        .forgot_password()
        .client_id(&client_id)
        .username("legacy2")
        .send()
        .await
        .unwrap();
    let events = s.lambda.events("UserMigration").await;
    assert_eq!(events[1]["triggerSource"], "UserMigration_ForgotPassword");
    let u = s
        .sdk
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username("legacy2")
        .send()
        .await
        .unwrap();
    assert_eq!(u.user_status().unwrap().as_str(), "RESET_REQUIRED");
    assert_eq!(s.codes("legacy2").await[0]["kind"], "forgot_password");
    // A function that says "no such user" fails the sign-in with its message.
    s.lambda
        .control(
            "UserMigration",
            json!({"fail": "User not found in the old system"}),
        )
        .await;
    let e = s
        .sdk
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "nobody")
        .auth_parameters("PASSWORD", "Whatever-1!")
        .send()
        .await
        .unwrap_err();
    use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
    assert_eq!(e.code(), Some("UserLambdaValidationException"));
    assert_eq!(
        e.message(),
        Some("UserMigration failed with error User not found in the old system.")
    );
}
