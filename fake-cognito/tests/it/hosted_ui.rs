//! The hosted UI in-process: `/oauth2/authorize` checks (error page vs `error=` redirect with the
//! state), the login page, the session cookie, `/logout`, and the per-domain paths. Shared
//! helpers for `hosted_ui_flows.rs` live here too.

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
        let l = Local::start().await;
        let (pool_id, _) = l.pool(json!({})).await;
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

    pub async fn redeem(&self, code: &str, verifier: &str) -> Res {
        let fields = [
            ("grant_type", "authorization_code"),
            ("client_id", self.client_id.as_str()),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
        ];
        post(&self.l, "/oauth2/token", &fields, None).await
    }
}

#[tokio::test]
async fn authorize_sends_to_the_login_page_which_signs_in_with_a_code() {
    let ui = Ui::start(json!({})).await;
    let r = get(&ui.l, &ui.authorize("", &[]), None).await;
    assert_eq!(r.status, StatusCode::FOUND);
    let login = r.location();
    assert!(login.starts_with("/login?"), "{login}");
    assert_eq!(param(&login, "state").as_deref(), Some("st-42"));
    let page = get(&ui.l, &login, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body.contains("name=\"password\""), "{}", page.body);
    assert!(page.body.contains("Continue with Google"), "{}", page.body);

    let bad = ui.sign_in(&[], "alice", "Wrong-Passw0rd!").await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(
        bad.body.contains("Incorrect username or password."),
        "{}",
        bad.body
    );
    assert!(bad.cookie().is_none());
    let nobody = ui.sign_in(&[], "nobody", PASSWORD).await;
    assert!(nobody.body.contains("Incorrect username or password."));

    let ok = ui.sign_in(&[], "alice", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::FOUND, "{}", ok.body);
    let loc = ok.location();
    assert!(loc.starts_with(&format!("{CB}?code=")), "{loc}");
    assert_eq!(param(&loc, "state").as_deref(), Some("st-42"));
    let cookie = ok.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains(&ui.pool_id),
        "{cookie}"
    );
}

#[tokio::test]
async fn bad_client_or_redirect_uri_is_an_error_page_and_the_rest_go_back_with_state() {
    let ui = Ui::start(json!({"AllowedOAuthFlows": ["code"]})).await;
    let page = get(
        &ui.l,
        &ui.authorize("", &[("client_id", "nosuchclient")]),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("data-error=\"invalid_request\""),
        "{}",
        page.body
    );
    let page = get(
        &ui.l,
        &ui.authorize("", &[("redirect_uri", "https://evil.example/cb")]),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("redirect_mismatch"), "{}", page.body);
    assert!(page.headers.get(header::LOCATION).is_none());

    for (extra, error) in [
        (vec![("response_type", "token")], "unauthorized_client"),
        (
            vec![("response_type", "id_token")],
            "unsupported_response_type",
        ),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("scope", "openid phone")], "invalid_scope"),
        (vec![("code_challenge_method", "S512")], "invalid_request"),
        (vec![("identity_provider", "Facebook")], "invalid_request"),
        (vec![("prompt", "never")], "invalid_request"),
    ] {
        let r = get(&ui.l, &ui.authorize("", &extra), None).await;
        assert_eq!(r.status, StatusCode::FOUND, "{extra:?}: {}", r.body);
        let loc = r.location();
        assert!(loc.starts_with(CB), "{loc}");
        assert_eq!(
            param(&loc, "error").as_deref(),
            Some(error),
            "{extra:?}: {loc}"
        );
        assert_eq!(param(&loc, "state").as_deref(), Some("st-42"));
    }
    // A client without AllowedOAuthFlowsUserPoolClient may use no flow at all.
    let off = Ui::start(json!({"AllowedOAuthFlowsUserPoolClient": false})).await;
    let r = get(&off.l, &off.authorize("", &[]), None).await;
    assert_eq!(
        param(&r.location(), "error").as_deref(),
        Some("unauthorized_client")
    );
}

#[tokio::test]
async fn the_cookie_signs_in_again_without_the_form_until_logout() {
    let ui = Ui::start(json!({})).await;
    let (_, cookie) = ui.code(&[]).await;
    let again = get(
        &ui.l,
        &ui.authorize("", &[("state", "second")]),
        Some(&cookie),
    )
    .await;
    let loc = again.location();
    assert!(loc.starts_with(&format!("{CB}?code=")), "{loc}");
    assert_eq!(param(&loc, "state").as_deref(), Some("second"));
    let forced = get(
        &ui.l,
        &ui.authorize("", &[("prompt", "login")]),
        Some(&cookie),
    )
    .await;
    assert!(forced.location().starts_with("/login?"));
    let none = get(&ui.l, &ui.authorize("", &[("prompt", "none")]), None).await;
    assert_eq!(
        param(&none.location(), "error").as_deref(),
        Some("login_required")
    );

    let wrong = get(
        &ui.l,
        &format!(
            "/logout?client_id={}&logout_uri={}",
            ui.client_id,
            enc("https://evil.example/")
        ),
        Some(&cookie),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("redirect_mismatch"));
    let still = get(&ui.l, &ui.authorize("", &[]), Some(&cookie)).await;
    assert!(
        still.location().starts_with(CB),
        "a refused logout keeps the session"
    );

    let out = get(
        &ui.l,
        &format!("/logout?client_id={}&logout_uri={}", ui.client_id, enc(BYE)),
        Some(&cookie),
    )
    .await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(out.location(), BYE);
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = get(&ui.l, &ui.authorize("", &[]), Some(&cookie)).await;
    assert!(
        after.location().starts_with("/login?"),
        "{}",
        after.location()
    );

    // The redirect_uri form of /logout sends the user to sign in again.
    let relogin = get(
        &ui.l,
        &format!(
            "/logout?client_id={}&redirect_uri={}&response_type=code&state=s2",
            ui.client_id,
            enc(CB)
        ),
        None,
    )
    .await;
    let loc = relogin.location();
    assert!(
        loc.starts_with("/login?") && loc.contains("state=s2"),
        "{loc}"
    );
    let missing = get(&ui.l, &format!("/logout?client_id={}", ui.client_id), None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_global_sign_out_or_a_disabled_user_ends_the_cookie_session() {
    let ui = Ui::start(json!({})).await;
    let (_, cookie) = ui.code(&[]).await;
    ui.l.ok(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": ui.pool_id, "Username": "alice"}),
    )
    .await;
    let r = get(&ui.l, &ui.authorize("", &[]), Some(&cookie)).await;
    assert!(r.location().starts_with("/login?"), "{}", r.location());
    let (_, cookie) = ui.code(&[]).await;
    ui.l.ok(
        "AdminDisableUser",
        json!({"UserPoolId": ui.pool_id, "Username": "alice"}),
    )
    .await;
    let r = get(&ui.l, &ui.authorize("", &[]), Some(&cookie)).await;
    assert!(r.location().starts_with("/login?"));
    let page = ui.sign_in(&[], "alice", PASSWORD).await;
    assert!(page.body.contains("User is disabled."), "{}", page.body);
}

#[tokio::test]
async fn domain_paths_and_hosts_serve_the_domains_pool_only() {
    let ui = Ui::start(json!({})).await;
    let r = get(&ui.l, &ui.authorize("/domain/myapp", &[]), None).await;
    assert!(
        r.location().starts_with("/domain/myapp/login?"),
        "{}",
        r.location()
    );
    let page = get(&ui.l, &r.location(), None).await;
    assert!(
        page.body.contains("action=\"/domain/myapp/login\""),
        "{}",
        page.body
    );
    let unknown = get(&ui.l, &ui.authorize("/domain/nosuch", &[]), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let (pool2, _) = ui.l.pool(json!({})).await;
    ui.l.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool2, "Domain": "other"}),
    )
    .await;
    let wrong_pool = get(&ui.l, &ui.authorize("/domain/other", &[]), None).await;
    assert_eq!(
        wrong_pool.status,
        StatusCode::BAD_REQUEST,
        "{}",
        wrong_pool.body
    );

    let req = Request::get(ui.authorize("", &[]))
        .header(header::HOST, "myapp.auth.us-east-1.amazoncognito.com")
        .body(Body::empty())
        .unwrap();
    assert!(send(&ui.l, req).await.location().starts_with("/login?"));
    let req = Request::get(ui.authorize("", &[]))
        .header(header::HOST, "other.auth.us-east-1.amazoncognito.com")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&ui.l, req).await.status, StatusCode::BAD_REQUEST);
    let req = Request::get(ui.authorize("", &[]))
        .header(header::HOST, "nosuch.auth.us-east-1.amazoncognito.com")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&ui.l, req).await.status, StatusCode::NOT_FOUND);

    let d =
        ui.l.ok("DescribeUserPoolDomain", json!({"Domain": "myapp"}))
            .await;
    let url = d["DomainDescription"]["HostedUIUrl"].as_str().unwrap();
    assert!(url.ends_with("/domain/myapp"), "{d}");
}
