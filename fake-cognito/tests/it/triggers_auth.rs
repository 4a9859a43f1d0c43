//! The sign-in triggers against the real binary and the real trigger process: Pre/Post
//! authentication, PreTokenGeneration V1_0 and V2_0 (claims, groups, scopes; on sign-in and
//! refresh), and a three-round CUSTOM_AUTH quiz through InitiateAuth/RespondToAuthChallenge and
//! the admin variants.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, LambdaConfigType, PreTokenGenerationLambdaVersionType,
    PreTokenGenerationVersionConfigType,
};
use serde_json::{Value, json};

use crate::support::*;
use crate::triggers::{Stack, arn, assert_envelope};

async fn password_login(
    s: &Stack,
    client_id: &str,
) -> Result<aws_sdk_cognitoidentityprovider::types::AuthenticationResultType, String> {
    s.sdk
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .client_metadata("device", "test")
        .send()
        .await
        .map(|r| r.authentication_result().unwrap().clone())
        .map_err(|e| format!("{}: {}", e.code().unwrap_or(""), e.message().unwrap_or("")))
}

#[tokio::test]
async fn pre_and_post_authentication_see_the_sign_in_and_can_refuse_it() {
    let s = Stack::start().await;
    let (pool_id, client_id) = s
        .pool(
            LambdaConfigType::builder()
                .pre_authentication(arn("triggers"))
                .post_authentication(arn("triggers"))
                .build(),
        )
        .await;
    create_user(&s.sdk, &pool_id, "alice").await;
    password_login(&s, &client_id).await.unwrap();
    let pre = s.lambda.events("PreAuthentication").await;
    assert_eq!(pre.len(), 1);
    let e = &pre[0];
    assert_envelope(
        e,
        "PreAuthentication_Authentication",
        &pool_id,
        &client_id,
        "alice",
    );
    assert_eq!(e["request"]["validationData"], json!({"device": "test"}));
    assert_eq!(e["request"]["userNotFound"], false);
    assert_eq!(e["request"]["userAttributes"]["email"], "alice@example.com");
    assert_eq!(
        e["request"]["userAttributes"]["cognito:user_status"],
        "CONFIRMED"
    );
    assert_eq!(e["response"], json!({}));
    let post = s.lambda.events("PostAuthentication").await;
    assert_eq!(post.len(), 1);
    let e = &post[0];
    assert_envelope(
        e,
        "PostAuthentication_Authentication",
        &pool_id,
        &client_id,
        "alice",
    );
    assert_eq!(e["request"]["newDeviceUsed"], false);
    assert_eq!(e["request"]["clientMetadata"], json!({"device": "test"}));

    s.lambda
        .control("PreAuthentication", json!({"fail": "locked out"}))
        .await;
    assert_eq!(
        password_login(&s, &client_id).await.unwrap_err(),
        "UserLambdaValidationException: PreAuthentication failed with error locked out."
    );
    s.lambda.control("PreAuthentication", json!({})).await;
    s.lambda
        .control("PostAuthentication", json!({"fail": "audit down"}))
        .await;
    assert_eq!(
        password_login(&s, &client_id).await.unwrap_err(),
        "UserLambdaValidationException: PostAuthentication failed with error audit down."
    );
}

#[tokio::test]
async fn pre_token_generation_v1_changes_the_id_token_on_sign_in_and_refresh() {
    let s = Stack::start().await;
    let (pool_id, client_id) = s
        .pool(
            LambdaConfigType::builder()
                .pre_token_generation(arn("triggers"))
                .build(),
        )
        .await;
    create_user(&s.sdk, &pool_id, "alice").await;
    s.sdk
        .create_group()
        .user_pool_id(&pool_id)
        .group_name("admins")
        .role_arn("arn:aws:iam::123456789012:role/admins")
        .precedence(1)
        .send()
        .await
        .unwrap();
    s.sdk
        .admin_add_user_to_group()
        .user_pool_id(&pool_id)
        .username("alice")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    s.lambda
        .control(
            "TokenGeneration",
            json!({"respond": {"claimsOverrideDetails": {
                "claimsToAddOrOverride": {"tier": "gold", "iss": "evil"},
                "claimsToSuppress": ["email"],
                "groupOverrideDetails": {"groupsToOverride": ["readers"],
                                         "iamRolesToOverride": ["arn:aws:iam::123456789012:role/r"],
                                         "preferredRole": "arn:aws:iam::123456789012:role/r"}}}}),
        )
        .await;
    let r = password_login(&s, &client_id).await.unwrap();
    let id = claims(r.id_token().unwrap());
    assert_eq!(id["tier"], "gold");
    assert!(id.get("email").is_none(), "{id}");
    assert_ne!(id["iss"], "evil", "iss is Cognito's own");
    assert_eq!(id["cognito:groups"], json!(["readers"]));
    assert_eq!(
        id["cognito:preferred_role"],
        "arn:aws:iam::123456789012:role/r"
    );
    let access = claims(r.access_token().unwrap());
    assert_eq!(access["cognito:groups"], json!(["readers"]));
    assert!(
        access.get("tier").is_none(),
        "V1_0 changes only the ID token"
    );
    let events = s.lambda.events("TokenGeneration").await;
    let e = &events[0];
    assert_envelope(
        e,
        "TokenGeneration_Authentication",
        &pool_id,
        &client_id,
        "alice",
    );
    assert_eq!(
        e["request"]["groupConfiguration"],
        json!({"groupsToOverride": ["admins"],
               "iamRolesToOverride": ["arn:aws:iam::123456789012:role/admins"],
               "preferredRole": "arn:aws:iam::123456789012:role/admins"})
    );
    assert_eq!(e["request"]["clientMetadata"], json!({"device": "test"}));
    assert!(e["request"].get("scopes").is_none(), "{e}");
    assert_eq!(e["response"], json!({"claimsOverrideDetails": null}));
    let refreshed = s
        .sdk
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", r.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    let id = claims(
        refreshed
            .authentication_result()
            .unwrap()
            .id_token()
            .unwrap(),
    );
    assert_eq!(id["tier"], "gold");
    let events = s.lambda.events("TokenGeneration").await;
    assert_eq!(events[1]["triggerSource"], "TokenGeneration_RefreshTokens");
    // V1_0 claims are strings: anything else is an unusable answer.
    s.lambda
        .control(
            "TokenGeneration",
            json!({"respond": {"claimsOverrideDetails": {"claimsToAddOrOverride": {"n": 1}}}}),
        )
        .await;
    assert_eq!(
        password_login(&s, &client_id).await.unwrap_err(),
        "InvalidLambdaResponseException: Unrecognizable lambda output"
    );
}

#[tokio::test]
async fn pre_token_generation_v2_changes_both_tokens_and_the_scopes() {
    let s = Stack::start().await;
    let v2 = PreTokenGenerationVersionConfigType::builder()
        .lambda_version(PreTokenGenerationLambdaVersionType::V20)
        .lambda_arn(arn("triggers"))
        .build()
        .unwrap();
    let (pool_id, client_id) = s
        .pool(
            LambdaConfigType::builder()
                .pre_token_generation_config(v2)
                .build(),
        )
        .await;
    create_user(&s.sdk, &pool_id, "alice").await;
    s.lambda
        .control(
            "TokenGeneration",
            json!({"respond": {"claimsAndScopeOverrideDetails": {
                "idTokenGeneration": {"claimsToAddOrOverride": {"profile": {"plan": "pro", "seats": 3}},
                                      "claimsToSuppress": ["custom:account_id"]},
                "accessTokenGeneration": {"claimsToAddOrOverride": {"roles": ["a", "b"]},
                                          "claimsToSuppress": ["username"],
                                          "scopesToAdd": ["api/read"],
                                          "scopesToSuppress": ["aws.cognito.signin.user.admin"]}}}}),
        )
        .await;
    let r = password_login(&s, &client_id).await.unwrap();
    let id = claims(r.id_token().unwrap());
    assert_eq!(id["profile"], json!({"plan": "pro", "seats": 3}));
    assert!(id.get("custom:account_id").is_none(), "{id}");
    let access = claims(r.access_token().unwrap());
    assert_eq!(access["roles"], json!(["a", "b"]));
    assert_eq!(access["scope"], "api/read");
    assert_eq!(access["username"], "alice", "username is Cognito's own");
    let e = &s.lambda.events("TokenGeneration").await[0];
    assert_eq!(e["version"], "2");
    assert_eq!(e["triggerSource"], "TokenGeneration_Authentication");
    assert_eq!(
        e["request"]["scopes"],
        json!(["aws.cognito.signin.user.admin"])
    );
    assert_eq!(
        e["response"],
        json!({"claimsAndScopeOverrideDetails": null})
    );
}

fn custom_config() -> LambdaConfigType {
    LambdaConfigType::builder()
        .define_auth_challenge(arn("triggers"))
        .create_auth_challenge(arn("triggers"))
        .verify_auth_challenge_response(arn("triggers"))
        .build()
}

#[tokio::test]
async fn custom_auth_runs_three_rounds_then_issues_tokens() {
    let s = Stack::start().await;
    let (pool_id, client_id) = s.pool(custom_config()).await;
    create_user(&s.sdk, &pool_id, "alice").await;
    let r = s
        .sdk
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "alice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.challenge_name(),
        Some(&ChallengeNameType::CustomChallenge)
    );
    let params = r.challenge_parameters().unwrap();
    assert_eq!(
        params.get("question").map(String::as_str),
        Some("question 1")
    );
    assert_eq!(params.get("USERNAME").map(String::as_str), Some("alice"));
    assert!(
        params.get("answer").is_none(),
        "private parameters stay private"
    );
    let mut session = r.session().unwrap().to_owned();
    let mut tokens = None;
    for round in 1..=3 {
        let r = s
            .sdk
            .respond_to_auth_challenge()
            .client_id(&client_id)
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(&session)
            .challenge_responses("USERNAME", "alice")
            .challenge_responses("ANSWER", format!("answer-{round}"))
            .send()
            .await
            .unwrap();
        match r.authentication_result() {
            Some(a) => tokens = Some(a.clone()),
            None => {
                let q = r.challenge_parameters().unwrap().get("question").unwrap();
                assert_eq!(q, &format!("question {}", round + 1));
                session = r.session().unwrap().to_owned();
            }
        }
    }
    let tokens = tokens.expect("tokens after the third correct answer");
    assert_eq!(
        claims(tokens.id_token().unwrap())["cognito:username"],
        "alice"
    );
    let define = s.lambda.events("DefineAuthChallenge").await;
    assert_eq!(define.len(), 4);
    assert_envelope(
        &define[0],
        "DefineAuthChallenge_Authentication",
        &pool_id,
        &client_id,
        "alice",
    );
    assert_eq!(define[0]["request"]["session"], json!([]));
    assert_eq!(define[0]["request"]["userNotFound"], false);
    assert_eq!(
        define[0]["response"],
        json!({"challengeName": null, "issueTokens": null, "failAuthentication": null})
    );
    assert_eq!(
        define[3]["request"]["session"],
        json!([
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "ROUND_1"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "ROUND_2"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "ROUND_3"},
        ])
    );
    let create = s.lambda.events("CreateAuthChallenge").await;
    assert_eq!(create.len(), 3);
    assert_eq!(create[1]["request"]["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(create[1]["request"]["session"].as_array().unwrap().len(), 1);
    assert_eq!(
        create[1]["response"],
        json!({"publicChallengeParameters": null, "privateChallengeParameters": null,
               "challengeMetadata": null})
    );
    let verify = s.lambda.events("VerifyAuthChallengeResponse").await;
    assert_eq!(verify.len(), 3);
    assert_envelope(
        &verify[2],
        "VerifyAuthChallengeResponse_Authentication",
        &pool_id,
        &client_id,
        "alice",
    );
    assert_eq!(
        verify[2]["request"]["privateChallengeParameters"],
        json!({"answer": "answer-3"})
    );
    assert_eq!(verify[2]["request"]["challengeAnswer"], "answer-3");
    assert_eq!(verify[2]["response"], json!({"answerCorrect": null}));
    // The session was single use.
    let again = s
        .sdk
        .respond_to_auth_challenge()
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(&session)
        .challenge_responses("USERNAME", "alice")
        .challenge_responses("ANSWER", "answer-3")
        .send()
        .await;
    assert_eq!(code(again), "NotAuthorizedException");
}

#[tokio::test]
async fn admin_custom_auth_fails_on_a_wrong_answer_and_needs_all_three_triggers() {
    let s = Stack::start().await;
    let (pool_id, client_id) = s.pool(custom_config()).await;
    create_user(&s.sdk, &pool_id, "alice").await;
    let r = s
        .sdk
        .admin_initiate_auth()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "alice")
        .send()
        .await
        .unwrap();
    let session = r.session().unwrap().to_owned();
    let ok = s
        .sdk
        .admin_respond_to_auth_challenge()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(&session)
        .challenge_responses("USERNAME", "alice")
        .challenge_responses("ANSWER", "answer-1")
        .send()
        .await
        .unwrap();
    let wrong = s
        .sdk
        .admin_respond_to_auth_challenge()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(ok.session().unwrap())
        .challenge_responses("USERNAME", "alice")
        .challenge_responses("ANSWER", "wrong")
        .send()
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Some("NotAuthorizedException"));
    assert_eq!(wrong.message(), Some("Incorrect username or password."));
    let define = s.lambda.events("DefineAuthChallenge").await;
    let last: &Value = define.last().unwrap();
    assert_eq!(last["request"]["session"][1]["challengeResult"], false);
    // A pool without the three triggers refuses CUSTOM_AUTH.
    let (pool2, client2) = s
        .pool(
            LambdaConfigType::builder()
                .define_auth_challenge(arn("triggers"))
                .build(),
        )
        .await;
    create_user(&s.sdk, &pool2, "alice").await;
    let e = s
        .sdk
        .initiate_auth()
        .client_id(&client2)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "alice")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterException"));
    assert_eq!(
        e.message(),
        Some("Custom auth lambda trigger is not configured for the user pool.")
    );
}

#[tokio::test]
async fn sms_mfa_codes_go_through_custom_message() {
    use aws_sdk_cognitoidentityprovider::types::{
        SmsConfigurationType, SmsMfaConfigType, SmsMfaSettingsType, UserPoolMfaType,
    };
    let s = Stack::start().await;
    let (pool_id, client_id) = s
        .pool(
            LambdaConfigType::builder()
                .custom_message(arn("triggers"))
                .build(),
        )
        .await;
    let sms = SmsConfigurationType::builder()
        .sns_caller_arn("arn:aws:iam::123456789012:role/sns")
        .build()
        .unwrap();
    s.sdk
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .sms_mfa_configuration(SmsMfaConfigType::builder().sms_configuration(sms).build())
        .mfa_configuration(UserPoolMfaType::Optional)
        .send()
        .await
        .unwrap();
    create_user(&s.sdk, &pool_id, "alice").await;
    s.sdk
        .admin_update_user_attributes()
        .user_pool_id(&pool_id)
        .username("alice")
        .user_attributes(attr("phone_number", "+15550100123"))
        .send()
        .await
        .unwrap();
    s.sdk
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool_id)
        .username("alice")
        .sms_mfa_settings(
            SmsMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s.lambda
        .control(
            "CustomMessage",
            json!({"respond": {"smsMessage": "Sign-in code {####}"}}),
        )
        .await;
    let r = s
        .sdk
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(r.challenge_name(), Some(&ChallengeNameType::SmsMfa));
    let e = &s.lambda.events("CustomMessage").await[0];
    assert_envelope(
        e,
        "CustomMessage_Authentication",
        &pool_id,
        &client_id,
        "alice",
    );
    assert_eq!(
        e["request"]["userAttributes"]["phone_number"],
        "+15550100123"
    );
    let codes = s.codes("alice").await;
    let sent = codes.iter().find(|c| c["kind"] == "sms_mfa").unwrap();
    let code = sent["code"].as_str().unwrap();
    assert_eq!(
        sent["message"]["smsMessage"],
        format!("Sign-in code {code}")
    );
}
