//! The hosted UI in-process: `/oauth2/authorize` checks (error page vs `error=` redirect with the
//! state), the login page, the session cookie, `/logout`, and the per-domain paths.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::hosted_ui_support::{BYE, CB, Ui, enc, get, param, send};
use crate::local::PASSWORD;

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
