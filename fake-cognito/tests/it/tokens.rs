//! Tokens verify with an independent JWT library against the served JWKS, and `/_fake/validate`
//! rejects every forgery and misuse with the right reason.

use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::*;

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Sign arbitrary claims with the server's own ID-token key (read from its state file), so the
/// claim checks — not the signature — are what rejects the token.
fn forge(state_file: &std::path::Path, kid: &str, claims: &Value) -> String {
    let snap: Value = serde_json::from_slice(&std::fs::read(state_file).unwrap()).unwrap();
    let der = STANDARD
        .decode(snap["keys"]["id_key"].as_str().unwrap())
        .unwrap();
    let pair = KeyPair::from_pkcs8(&der).unwrap();
    let input = format!(
        "{}.{}",
        b64(&json!({"kid": kid, "alg": "RS256"})),
        b64(claims)
    );
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[tokio::test]
async fn tokens_verify_with_jwks_and_forgeries_are_rejected() {
    let s = Server::start();
    let c = s.sdk().await;
    let f = fixture(&c).await;
    let (access, id, _) = login(&c, &f.client_id, "alice", PASSWORD).await;

    // Discovery → JWKS → an independent verifier (jsonwebtoken).
    let disco = s
        .get_json(&format!("/{}/.well-known/openid-configuration", f.pool_id))
        .await;
    let idc = claims(&id);
    assert_eq!(disco["issuer"], idc["iss"]);
    let jwks_path = disco["jwks_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(&s.url)
        .unwrap()
        .to_owned();
    let jwks = s.get_json(&jwks_path).await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for (token, aud) in [(&id, Some(f.client_id.as_str())), (&access, None)] {
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = keys.iter().find(|k| k["kid"] == kid.as_str()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_issuer(&[idc["iss"].as_str().unwrap()]);
        match aud {
            Some(a) => v.set_audience(&[a]),
            None => v.validate_aud = false,
        }
        jsonwebtoken::decode::<Value>(token, &key, &v).unwrap();
    }
    let (code404, _) = {
        let r = s
            .http()
            .get(format!(
                "{}/us-east-1_nosuchpoo/.well-known/jwks.json",
                s.url
            ))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), ())
    };
    assert_eq!(code404, 404);

    // The validation route accepts the real tokens...
    let q = format!("token_use=id&client_id={}", f.client_id);
    let (st, body) = s.validate(&id, &q).await;
    assert_eq!((st, body["valid"].clone()), (200, json!(true)));
    assert_eq!(body["claims"]["cognito:username"], "alice");
    let (st, _) = s
        .validate(
            &access,
            &format!("token_use=access&client_id={}", f.client_id),
        )
        .await;
    assert_eq!(st, 200);

    // ...and rejects each misuse with its reason.
    let parts: Vec<&str> = id.split('.').collect();
    let kid = jsonwebtoken::decode_header(&id).unwrap().kid.unwrap();
    let reason = |t: String, q: String| {
        let s = &s;
        async move {
            let (st, b) = s.validate(&t, &q).await;
            assert_eq!(st, 401, "{b}");
            b["reason"].as_str().unwrap().to_owned()
        }
    };
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": kid})), parts[1]);
    assert_eq!(reason(none, String::new()).await, "bad_signature");
    let hs_input = format!("{}.{}", b64(&json!({"alg": "HS256", "kid": kid})), parts[1]);
    let mut mac = Hmac::<Sha256>::new_from_slice(jwks.to_string().as_bytes()).unwrap();
    mac.update(hs_input.as_bytes());
    let hs = format!(
        "{hs_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(reason(hs, String::new()).await, "bad_signature");
    let unknown_kid = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "kid": "not-our-key"})),
        parts[1],
        parts[2]
    );
    assert_eq!(reason(unknown_kid, String::new()).await, "unknown_kid");
    let mut tampered_claims = idc.clone();
    tampered_claims["cognito:username"] = json!("mallory");
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);
    assert_eq!(reason(tampered, String::new()).await, "bad_signature");
    assert_eq!(reason("garbage".into(), String::new()).await, "malformed");
    assert_eq!(
        reason(id.clone(), "client_id=someotherclient000000000000".into()).await,
        "wrong_client"
    );
    assert_eq!(
        reason(id.clone(), "token_use=access".into()).await,
        "wrong_token_use"
    );
    assert_eq!(
        reason(id.clone(), "pool_id=us-east-1_Other0000".into()).await,
        "wrong_pool"
    );

    let mut expired = idc.clone();
    expired["exp"] = json!(expired["iat"].as_i64().unwrap() - 10);
    assert_eq!(
        reason(forge(&s.state_file, &kid, &expired), String::new()).await,
        "expired"
    );
    let mut aws_iss = idc.clone();
    aws_iss["iss"] = json!(format!(
        "https://cognito-idp.us-east-1.amazonaws.com/{}",
        f.pool_id
    ));
    assert_eq!(
        reason(forge(&s.state_file, &kid, &aws_iss), String::new()).await,
        "wrong_issuer"
    );
    let mut other_pool = idc.clone();
    other_pool["iss"] = json!(format!("{}/us-east-1_Other0000", s.url));
    assert_eq!(
        reason(forge(&s.state_file, &kid, &other_pool), String::new()).await,
        "wrong_pool"
    );

    // The Cognito API refuses an ID token where an access token is required.
    let r = c.get_user().access_token(&id).send().await;
    assert_eq!(code(r), "NotAuthorizedException");
}

#[tokio::test]
async fn aws_issuer_mode_mints_the_aws_form() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_at(&dir.path().join("s.json"), &["--issuer", "aws"], &[]);
    let c = s.sdk().await;
    let f = fixture(&c).await;
    let (_, id, _) = login(&c, &f.client_id, "alice", PASSWORD).await;
    let iss = format!("https://cognito-idp.us-east-1.amazonaws.com/{}", f.pool_id);
    assert_eq!(claims(&id)["iss"], iss.as_str());
    let disco = s
        .get_json(&format!("/{}/.well-known/openid-configuration", f.pool_id))
        .await;
    assert_eq!(disco["issuer"], iss.as_str());
    assert!(disco["jwks_uri"].as_str().unwrap().starts_with(&s.url));
    assert_eq!(s.validate(&id, "token_use=id").await.0, 200);
}
