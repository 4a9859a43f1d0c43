//! Helpers for the in-process hosted-UI tests: a pool with a domain, a Google IdP, user `alice`
//! and a hosted-UI client; raw requests keeping status, headers and body; URL parameters.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::local::{Local, PASSWORD};

pub const CB: &str = "https://app.example/cb";
pub const BYE: &str = "https://app.example/bye";
/// RFC 7636 appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Res {
    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
            .to_owned()
    }

    /// The `name=value` part of the Set-Cookie header.
    pub fn cookie(&self) -> Option<String> {
        let v = self.headers.get(header::SET_COOKIE)?.to_str().ok()?;
        v.split(';').next().map(str::to_owned)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn dec(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap();
            out.push(h);
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A parameter of a URL's query or fragment.
pub fn param(url: &str, name: &str) -> Option<String> {
    let tail = url.split_once(['?', '#']).map(|(_, t)| t)?;
    tail.split(['&', '#'])
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| dec(v))
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub async fn send(l: &Local, req: Request<Body>) -> Res {
    let res = l.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn get(l: &Local, path: &str, cookie: Option<&str>) -> Res {
    let mut b = Request::get(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(l, b.body(Body::empty()).unwrap()).await
}

pub async fn post(
    l: &Local,
    path: &str,
    fields: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Res {
    let mut b =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        use base64::Engine;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        b = b.header(header::AUTHORIZATION, format!("Basic {auth}"));
    }
    send(l, b.body(Body::from(form_body(fields))).unwrap()).await
}

/// A pool with domain `myapp`, a Google IdP, user `alice`, and a hosted-UI client.
pub struct Ui {
    pub l: Local,
    pub pool_id: String,
    pub client_id: String,
}

impl Ui {
    /// `client` members override the default code + implicit client.
    pub async fn start(client: Value) -> Ui {
        Ui::start_on(Local::start().await, json!({}), client).await
    }

    /// The same on `l`, the pool created with `pool` members added (a `LambdaConfig`).
    pub async fn start_on(l: Local, pool: Value, client: Value) -> Ui {
        let (pool_id, _) = l.pool(pool).await;
        l.ok(
            "CreateUserPoolDomain",
            json!({"UserPoolId": pool_id, "Domain": "myapp"}),
        )
        .await;
        l.ok(
            "CreateIdentityProvider",
            json!({"UserPoolId": pool_id, "ProviderName": "Google", "ProviderType": "Google",
                   "ProviderDetails": {"client_id": "g", "client_secret": "s", "authorize_scopes": "email"},
                   "AttributeMapping": {"email": "email", "given_name": "given_name"}}),
        )
        .await;
        let mut body = json!({"UserPoolId": pool_id, "ClientName": "web",
            "AllowedOAuthFlows": ["code", "implicit"], "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthScopes": ["openid", "email", "profile", "aws.cognito.signin.user.admin"],
            "CallbackURLs": [CB], "LogoutURLs": [BYE],
            "SupportedIdentityProviders": ["COGNITO", "Google"],
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]});
        if let (Some(b), Some(c)) = (body.as_object_mut(), client.as_object()) {
            b.extend(c.clone());
        }
        let c = l.ok("CreateUserPoolClient", body).await;
        let client_id = c["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
        l.user(
            &pool_id,
            "alice",
            json!([{"Name": "email", "Value": "alice@example.com"},
                   {"Name": "given_name", "Value": "Alice"}]),
        )
        .await;
        Ui {
            l,
            pool_id,
            client_id,
        }
    }

    /// The authorize parameters of a code + PKCE request, `extra` added or replacing.
    pub fn params<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut p: Vec<(&str, &str)> = vec![
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "st-42"),
            ("nonce", "n-0S6"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            p.retain(|(n, _)| n != k);
            if !v.is_empty() {
                p.push((k, v));
            }
        }
        p
    }

    pub fn authorize(&self, base: &str, extra: &[(&str, &str)]) -> String {
        format!("{base}/oauth2/authorize?{}", form_body(&self.params(extra)))
    }

    /// Sign in through the login form; the response (a redirect to the callback when it worked).
    pub async fn sign_in(&self, extra: &[(&str, &str)], user: &str, pw: &str) -> Res {
        let mut fields = self.params(extra);
        fields.push(("username", user));
        fields.push(("password", pw));
        post(&self.l, "/login", &fields, None).await
    }

    /// A code for alice (and the session cookie).
    pub async fn code(&self, extra: &[(&str, &str)]) -> (String, String) {
        let r = self.sign_in(extra, "alice", PASSWORD).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        let loc = r.location();
        assert!(loc.starts_with(CB), "{loc}");
        (param(&loc, "code").unwrap(), r.cookie().unwrap())
    }

    /// Redeem `code` as the public client.
    pub async fn redeem(&self, code: &str, verifier: &str) -> Res {
        let id = self.client_id.as_str();
        self.redeem_as(code, verifier, None, &[("client_id", id)])
            .await
    }

    /// Redeem `code` with HTTP Basic credentials and/or `extra` form members.
    pub async fn redeem_as(
        &self,
        code: &str,
        verifier: &str,
        basic: Option<(&str, &str)>,
        extra: &[(&str, &str)],
    ) -> Res {
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
        ];
        fields.extend_from_slice(extra);
        post(&self.l, "/oauth2/token", &fields, basic).await
    }
}
