//! Every sign-in flow through the SDK, including SRP with an independent client-side
//! implementation (num-bigint + RustCrypto sha2/hmac, not the server's aws-lc code).

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, MessageActionType, PreventUserExistenceErrorTypes,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use crate::support::*;

const N_HEX: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";

/// pycognito's `pad_hex` on the hex string of a number, as bytes.
fn pad_hex(hex_str: &str) -> Vec<u8> {
    let mut h = hex_str.to_owned();
    if h.len() % 2 == 1 {
        h.insert(0, '0');
    } else if "89abcdefABCDEF".contains(&h[..1]) {
        h.insert_str(0, "00");
    }
    hex::decode(h).unwrap()
}

fn sha(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn cognito_timestamp() -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day padding:none] [hour]:[minute]:[second] UTC [year]"
    );
    time::OffsetDateTime::now_utc().format(&fmt).unwrap()
}

/// Client side of Cognito's SRP: returns the ChallengeResponses for PASSWORD_VERIFIER.
async fn srp_login(
    c: &Client,
    pool_id: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<String, String> {
    let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap();
    let g = BigUint::from(2u32);
    let k = BigUint::from_bytes_be(&sha(&[&pad_hex(N_HEX), &[2u8]]));
    let a = BigUint::from_bytes_be(&rand::random::<[u8; 128]>()) % &n;
    let big_a = g.modpow(&a, &n);
    let r = c
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("SRP_A", big_a.to_str_radix(16))
        .send()
        .await
        .map_err(|e| code::<_, ()>(Err(e)))?;
    assert_eq!(
        r.challenge_name(),
        Some(&ChallengeNameType::PasswordVerifier)
    );
    let p = r.challenge_parameters().unwrap();
    let user_id = p["USER_ID_FOR_SRP"].clone();
    let salt_hex = &p["SALT"];
    let big_b = BigUint::parse_bytes(p["SRP_B"].as_bytes(), 16).unwrap();
    let block = STANDARD.decode(&p["SECRET_BLOCK"]).unwrap();
    let pool_name = pool_id.split('_').nth(1).unwrap();

    let u = BigUint::from_bytes_be(&sha(&[
        &pad_hex(&big_a.to_str_radix(16)),
        &pad_hex(&big_b.to_str_radix(16)),
    ]));
    let inner = sha(&[format!("{pool_name}{user_id}:{password}").as_bytes()]);
    let x = BigUint::from_bytes_be(&sha(&[&pad_hex(salt_hex), &inner]));
    let kgx = (&k * g.modpow(&x, &n)) % &n;
    let base = ((&big_b + &n) - kgx) % &n;
    let s = base.modpow(&(&a + &u * &x), &n);
    let prk = hmac(
        &pad_hex(&u.to_str_radix(16)),
        &[&pad_hex(&s.to_str_radix(16))],
    );
    let key = hmac(&prk, &[b"Caldera Derived Key\x01"]);
    let ts = cognito_timestamp();
    let sig = hmac(
        &key[..16],
        &[
            pool_name.as_bytes(),
            user_id.as_bytes(),
            &block,
            ts.as_bytes(),
        ],
    );
    let r = c
        .respond_to_auth_challenge()
        .client_id(client_id)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", &user_id)
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", &p["SECRET_BLOCK"])
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", STANDARD.encode(sig))
        .challenge_responses("TIMESTAMP", ts)
        .send()
        .await
        .map_err(|e| code::<_, ()>(Err(e)))?;
    Ok(r.authentication_result()
        .and_then(|a| a.access_token())
        .unwrap()
        .to_owned())
}

#[tokio::test]
async fn srp_login_proves_the_password() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;
    let access = srp_login(&c, &f.pool_id, &f.client_id, "alice", PASSWORD)
        .await
        .unwrap();
    let me = c.get_user().access_token(&access).send().await.unwrap();
    assert_eq!(me.username(), "alice");
    let wrong = srp_login(&c, &f.pool_id, &f.client_id, "alice", "Wrong-Horse-9!").await;
    assert_eq!(wrong.unwrap_err(), "NotAuthorizedException");
    let unknown = srp_login(&c, &f.pool_id, &f.client_id, "nobody", PASSWORD).await;
    assert_eq!(unknown.unwrap_err(), "UserNotFoundException");
}

#[tokio::test]
async fn password_flows_secret_hash_flow_switches_and_user_existence() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;

    let (access, id, _) = login(&c, &f.client_id, "alice", PASSWORD).await;
    let idc = claims(&id);
    assert_eq!(idc["token_use"], "id");
    assert_eq!(idc["aud"], f.client_id.as_str());
    assert_eq!(idc["cognito:username"], "alice");
    assert_eq!(idc["email_verified"], true);
    assert_eq!(idc["custom:account_id"], "acc-1");
    assert_eq!(idc["cognito:groups"], serde_json::json!(["admins"]));
    assert_eq!(idc["iss"], format!("{}/{}", s.url, f.pool_id));
    let ac = claims(&access);
    assert_eq!(ac["token_use"], "access");
    assert_eq!(ac["client_id"], f.client_id.as_str());
    assert_eq!(ac["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(ac["origin_jti"], idc["origin_jti"]);
    assert_eq!(
        ac["exp"].as_i64().unwrap() - ac["iat"].as_i64().unwrap(),
        3600
    );
    assert!(ac.get("aud").is_none());

    let wrong = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", "nope")
        .send()
        .await;
    assert_eq!(code(wrong), "NotAuthorizedException");
    let unknown = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "nobody")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await;
    assert_eq!(code(unknown), "UserNotFoundException");

    // Admin flow.
    let admin = c
        .admin_initiate_auth()
        .user_pool_id(&f.pool_id)
        .client_id(&f.client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    assert!(admin.authentication_result().unwrap().id_token().is_some());

    // A secret client with PreventUserExistenceErrors and only the password flow.
    let sc = c
        .create_user_pool_client()
        .user_pool_id(&f.pool_id)
        .client_name("secret")
        .generate_secret(true)
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .set_explicit_auth_flows(Some(flows(&["ALLOW_USER_PASSWORD_AUTH"])))
        .access_token_validity(10)
        .token_validity_units(
            aws_sdk_cognitoidentityprovider::types::TokenValidityUnitsType::builder()
                .access_token(aws_sdk_cognitoidentityprovider::types::TimeUnitsType::Minutes)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sc = sc.user_pool_client().unwrap();
    let (scid, secret) = (sc.client_id().unwrap(), sc.client_secret().unwrap());
    let hash = |user: &str| {
        let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        m.update(user.as_bytes());
        m.update(scid.as_bytes());
        STANDARD.encode(m.finalize().into_bytes())
    };
    let no_hash = c
        .initiate_auth()
        .client_id(scid)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await;
    assert_eq!(code(no_hash), "NotAuthorizedException");
    let bad_hash = c
        .initiate_auth()
        .client_id(scid)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters("SECRET_HASH", hash("bob"))
        .send()
        .await;
    assert_eq!(code(bad_hash), "NotAuthorizedException");
    let ok = c
        .initiate_auth()
        .client_id(scid)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters("SECRET_HASH", hash("alice"))
        .send()
        .await
        .unwrap();
    let ar = ok.authentication_result().unwrap();
    assert_eq!(ar.expires_in(), 600);
    let ac = claims(ar.access_token().unwrap());
    assert_eq!(
        ac["exp"].as_i64().unwrap() - ac["iat"].as_i64().unwrap(),
        600
    );
    let hidden = c
        .initiate_auth()
        .client_id(scid)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "nobody")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters("SECRET_HASH", hash("nobody"))
        .send()
        .await;
    assert_eq!(code(hidden), "NotAuthorizedException");
    let srp_off = c
        .initiate_auth()
        .client_id(scid)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("SRP_A", "abc")
        .auth_parameters("SECRET_HASH", hash("alice"))
        .send()
        .await;
    assert_eq!(code(srp_off), "InvalidParameterException");
    let unknown_client = c
        .initiate_auth()
        .client_id("nosuchclient0000000000000a")
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await;
    assert_eq!(code(unknown_client), "ResourceNotFoundException");
}

#[tokio::test]
async fn new_password_required_then_refresh_then_revocation() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;
    c.admin_create_user()
        .user_pool_id(&f.pool_id)
        .username("erin")
        .temporary_password("Temp-Pass-1!")
        .user_attributes(attr("email", "erin@example.com"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    let r = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "erin")
        .auth_parameters("PASSWORD", "Temp-Pass-1!")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.challenge_name(),
        Some(&ChallengeNameType::NewPasswordRequired)
    );
    let session = r.session().unwrap().to_owned();
    let weak = c
        .respond_to_auth_challenge()
        .client_id(&f.client_id)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(&session)
        .challenge_responses("USERNAME", "erin")
        .challenge_responses("NEW_PASSWORD", "weak")
        .send()
        .await;
    assert_eq!(code(weak), "InvalidPasswordException");
    let done = c
        .respond_to_auth_challenge()
        .client_id(&f.client_id)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(&session)
        .challenge_responses("USERNAME", "erin")
        .challenge_responses("NEW_PASSWORD", "Brand-New-Pass-2!")
        .challenge_responses("userAttributes.given_name", "Erin")
        .send()
        .await
        .unwrap();
    let ar = done.authentication_result().unwrap();
    assert_eq!(claims(ar.id_token().unwrap())["given_name"], "Erin");
    let reused = c
        .respond_to_auth_challenge()
        .client_id(&f.client_id)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(&session)
        .challenge_responses("USERNAME", "erin")
        .challenge_responses("NEW_PASSWORD", "Brand-New-Pass-3!")
        .send()
        .await;
    assert_eq!(code(reused), "NotAuthorizedException");

    // Refresh: same family, fresh group membership, no new refresh token.
    let (access, id, refresh) = login(&c, &f.client_id, "erin", "Brand-New-Pass-2!").await;
    c.admin_add_user_to_group()
        .user_pool_id(&f.pool_id)
        .username("erin")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    let refreshed = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .send()
        .await
        .unwrap();
    let rr = refreshed.authentication_result().unwrap();
    assert!(rr.refresh_token().is_none());
    let new_id = claims(rr.id_token().unwrap());
    assert_eq!(new_id["origin_jti"], claims(&id)["origin_jti"]);
    assert_eq!(new_id["cognito:groups"], serde_json::json!(["admins"]));

    // RevokeToken kills the refresh token and the access tokens of its family.
    let (access2, _, refresh2) = login(&c, &f.client_id, "erin", "Brand-New-Pass-2!").await;
    let bad_type = c
        .revoke_token()
        .client_id(&f.client_id)
        .token(&access2)
        .send()
        .await;
    assert_eq!(code(bad_type), "UnsupportedTokenTypeException");
    c.revoke_token()
        .client_id(&f.client_id)
        .token(&refresh2)
        .send()
        .await
        .unwrap();
    let revoked = c.get_user().access_token(&access2).send().await;
    assert_eq!(code(revoked), "NotAuthorizedException");
    let refresh_revoked = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh2)
        .send()
        .await;
    assert_eq!(code(refresh_revoked), "NotAuthorizedException");
    assert_eq!(s.validate(&access2, "").await.1["reason"], "revoked");
    // The other family is untouched.
    c.get_user().access_token(&access).send().await.unwrap();

    // GlobalSignOut kills every earlier family; a new sign-in works at once.
    c.global_sign_out()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    let after = c.get_user().access_token(&access).send().await;
    assert_eq!(code(after), "NotAuthorizedException");
    let refresh_after = c
        .initiate_auth()
        .client_id(&f.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .send()
        .await;
    assert_eq!(code(refresh_after), "NotAuthorizedException");
    let (fresh, _, _) = login(&c, &f.client_id, "erin", "Brand-New-Pass-2!").await;
    c.get_user().access_token(&fresh).send().await.unwrap();

    // AdminUserGlobalSignOut does the same from the admin side.
    c.admin_user_global_sign_out()
        .user_pool_id(&f.pool_id)
        .username("erin")
        .send()
        .await
        .unwrap();
    let after_admin = c.get_user().access_token(&fresh).send().await;
    assert_eq!(code(after_admin), "NotAuthorizedException");
}

#[tokio::test]
async fn email_sign_in_pool_uses_the_sub_as_internal_username() {
    use aws_sdk_cognitoidentityprovider::types::UsernameAttributeType;
    let s = Server::start();
    let c = s.sdk().await;
    let pool = c
        .create_user_pool()
        .pool_name("email-pool")
        .username_attributes(UsernameAttributeType::Email)
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
    let not_email = c
        .sign_up()
        .client_id(&client_id)
        .username("frank")
        .password(PASSWORD)
        .send()
        .await;
    assert_eq!(code(not_email), "InvalidParameterException");
    let r = c
        .sign_up()
        .client_id(&client_id)
        .username("frank@example.com")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    let sub = r.user_sub().to_owned();
    c.admin_confirm_sign_up()
        .user_pool_id(&pool_id)
        .username("frank@example.com")
        .send()
        .await
        .unwrap();
    let (_, id, _) = login(&c, &client_id, "frank@example.com", PASSWORD).await;
    let idc = claims(&id);
    assert_eq!(idc["cognito:username"], sub.as_str());
    assert_eq!(idc["email"], "frank@example.com");
    let access = srp_login(&c, &pool_id, &client_id, "frank@example.com", PASSWORD)
        .await
        .unwrap();
    assert_eq!(claims(&access)["username"], sub.as_str());
    let dup = c
        .sign_up()
        .client_id(&client_id)
        .username("frank@example.com")
        .password(PASSWORD)
        .send()
        .await;
    assert_eq!(code(dup), "UsernameExistsException");
}
