//! Authorization codes: what the login page hands the redirect_uri and `/oauth2/token` redeems.
//! A code is bound to its client, redirect_uri, PKCE challenge, scopes and nonce; it is single use
//! and expires after five minutes (AWS's lifetime) on the movable clock. Codes live in the app's
//! bounded, expiring session map, so they need no store of their own and are never persisted.

use std::time::Duration;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::app::{AppState, Session};

/// AWS: an authorization code is good for five minutes.
pub const CODE_TTL: Duration = Duration::from_secs(300);

/// Session-map keys of codes start with this, apart from challenge sessions.
const PREFIX: &str = "code:";

/// RFC 7636 `code_challenge_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    S256,
    Plain,
}

impl Method {
    /// RFC 7636: absent means `plain`.
    pub fn parse(s: Option<&str>) -> Option<Method> {
        match s {
            None | Some("plain") => Some(Method::Plain),
            Some("S256") => Some(Method::S256),
            Some(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pkce {
    pub method: Method,
    pub challenge: String,
}

impl Pkce {
    /// Whether `verifier` answers the challenge (RFC 7636 §4.6).
    pub fn verifies(&self, verifier: &str) -> bool {
        let expected = match self.method {
            Method::Plain => verifier.to_owned(),
            Method::S256 => URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())),
        };
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        well_formed
            && verify_slices_are_equal(expected.as_bytes(), self.challenge.as_bytes()).is_ok()
    }
}

/// What a code stands for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub pool_id: String,
    pub client_id: String,
    pub user_key: String,
    pub sub: String,
    pub redirect_uri: String,
    pub pkce: Option<Pkce>,
    pub scope: String,
    pub nonce: Option<String>,
    /// When the user actually authenticated (unix seconds): a cookie sign-in keeps the first.
    pub auth_time: i64,
}

/// Hand out a new code for `grant`.
pub fn issue(app: &AppState, grant: Grant) -> String {
    let code = uuid::Uuid::new_v4().to_string();
    app.sessions.insert(
        format!("{PREFIX}{code}"),
        CODE_TTL,
        Session::AuthCode(Box::new(grant)),
    );
    code
}

/// Take a live code (gone afterwards, whatever the caller decides).
pub fn redeem(app: &AppState, code: &str) -> Option<Grant> {
    match app.sessions.take(&format!("{PREFIX}{code}"))? {
        Session::AuthCode(g) => Some(*g),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let p = Pkce {
            method: Method::S256,
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        };
        assert!(p.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!p.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"));
    }

    #[test]
    fn plain_compares_and_checks_the_verifier_shape() {
        let v = "a".repeat(43);
        let p = Pkce {
            method: Method::Plain,
            challenge: v.clone(),
        };
        assert!(p.verifies(&v));
        assert!(!p.verifies(&"a".repeat(44)));
        let short = Pkce {
            method: Method::Plain,
            challenge: "short".into(),
        };
        assert!(!short.verifies("short"));
        assert_eq!(Method::parse(Some("S512")), None);
    }
}
