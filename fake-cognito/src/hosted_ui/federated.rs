//! Federated sign-in, simulated locally: instead of sending the user to Google, a SAML IdP or an
//! OIDC provider, the hosted UI shows a stand-in page for the provider (`/fake-idp/<name>`) where
//! the tester picks an earlier federated user or types one (the IdP's user id and attributes).
//! Its answer comes back to `/oauth2/idpresponse`, Cognito's own IdP callback path, and the user
//! is created or updated as Cognito does: username `<Provider>_<id>`, status EXTERNAL_PROVIDER,
//! an `identities` attribute (the ID token's `identities` claim), and the IdP's attributes mapped
//! through the provider's AttributeMapping. No network call is ever made.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::finish::{encode, signed_in};
use super::page::{self, banner, esc, form, input};
use super::request::{self, AuthorizeRequest};
use super::site::Site;
use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::model::User;
use crate::users::attributes::known_attribute;
use crate::users::user_record;

/// Where the authorize request goes for `provider`.
pub fn stand_in_url(site: &Site, provider: &str, req: &AuthorizeRequest) -> String {
    format!(
        "{}/fake-idp/{}?{}",
        site.base,
        encode(provider),
        req.query()
    )
}

/// The provider's stored description, if the client may use it.
fn enabled(req: &AuthorizeRequest, provider: &str) -> Option<Value> {
    if !req
        .client
        .supported_identity_providers
        .iter()
        .any(|p| p == provider)
    {
        return None;
    }
    req.meta.identity_providers.get(provider).cloned()
}

fn not_enabled(provider: &str) -> Response {
    page::error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("The identity provider {provider} is not enabled for this client."),
    )
}

pub async fn page(
    State(app): State<AppState>,
    site: Site,
    Path(path): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let provider = path.get("provider").cloned().unwrap_or_default();
    let req = match request::parse(&app, &site, &q) {
        Ok(r) => r,
        Err(refusal) => return refusal.into_response(),
    };
    if enabled(&req, &provider).is_none() {
        return not_enabled(&provider);
    }
    stand_in(&app, &site, &req, &provider, None)
}

/// The stand-in sign-in page of `provider`: earlier users to pick, or a new one to type.
fn stand_in(
    app: &AppState,
    site: &Site,
    req: &AuthorizeRequest,
    provider: &str,
    error: Option<&str>,
) -> Response {
    let prefix = format!("{provider}_");
    let known: Vec<(String, String)> = {
        let store = app.store.read();
        store.pools.get(&req.meta.id).map_or_else(Vec::new, |p| {
            p.users
                .values()
                .filter(|u| u.status == "EXTERNAL_PROVIDER")
                .filter_map(|u| {
                    let id = u.username.strip_prefix(&prefix)?;
                    let email = u.attributes.get("email").cloned().unwrap_or_default();
                    Some((id.to_owned(), email))
                })
                .take(50)
                .collect()
        })
    };
    let action = format!("{}/oauth2/idpresponse", site.base);
    let mut hidden = req.params.clone();
    hidden.push(("provider".into(), provider.to_owned()));
    let mut body = format!(
        "<h1>Sign in with {p}</h1><p class=\"note\">fake-cognito stand-in for the identity provider \
{p}: no request leaves this machine.</p>{}",
        banner(error),
        p = esc(provider)
    );
    for (id, email) in &known {
        let mut h = hidden.clone();
        h.push(("user_id".into(), id.clone()));
        let label = if email.is_empty() {
            id.clone()
        } else {
            format!("{id} ({email})")
        };
        body.push_str(&form(&action, &h, "", &format!("Continue as {label}")));
    }
    let fields = input("user_id", "User id at the provider", "text", "", "required")
        + &input("email", "E-mail", "email", "", "")
        + "<label for=\"attributes\">More attributes (one <code>name=value</code> per line, \
as the provider names them)</label><textarea id=\"attributes\" name=\"attributes\" rows=\"3\"></textarea>";
    body.push_str("<hr>");
    body.push_str(&form(&action, &hidden, &fields, "Sign in"));
    page::html(StatusCode::OK, &format!("Sign in with {provider}"), &body)
}

pub async fn submit(
    State(app): State<AppState>,
    site: Site,
    form: std::result::Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (req, f) = match request::parse_form(&app, &site, form) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let provider = f.get("provider").cloned().unwrap_or_default();
    let Some(idp) = enabled(&req, &provider) else {
        return not_enabled(&provider);
    };
    let user_id = f.get("user_id").map_or("", |s| s.trim());
    if user_id.is_empty() || user_id.len() > 128 || user_id.chars().any(char::is_control) {
        return stand_in(
            &app,
            &site,
            &req,
            &provider,
            Some("Type the user's id at the provider."),
        );
    }
    let claims = provider_claims(&idp, user_id, &f);
    match upsert(&app, &req, &provider, &idp, user_id, &claims).await {
        Ok((key, user)) if user.enabled => signed_in(&app, &req, &key, &user, None).await,
        Ok(_) => stand_in(&app, &site, &req, &provider, Some("User is disabled.")),
        Err(e @ (CognitoError::Persistence(_) | CognitoError::Internal(_))) => page::from_error(&e),
        Err(e) => stand_in(&app, &site, &req, &provider, Some(&e.to_string())),
    }
}

/// What the IdP would assert: its subject claim (the one `username` maps from), the e-mail and
/// the extra `name=value` lines.
fn provider_claims(
    idp: &Value,
    user_id: &str,
    f: &HashMap<String, String>,
) -> BTreeMap<String, String> {
    let subject = idp["AttributeMapping"]["username"]
        .as_str()
        .unwrap_or("sub");
    let mut claims = BTreeMap::new();
    for line in f.get("attributes").map_or("", String::as_str).lines() {
        if let Some((k, v)) = line.split_once('=')
            && !k.trim().is_empty()
        {
            claims.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    if let Some(email) = f.get("email").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        claims.insert("email".into(), email.to_owned());
    }
    claims.insert(subject.to_owned(), user_id.to_owned());
    claims
}

/// Create `<Provider>_<id>` or refresh its mapped attributes, as each federated sign-in does.
async fn upsert(
    app: &AppState,
    req: &AuthorizeRequest,
    provider: &str,
    idp: &Value,
    user_id: &str,
    claims: &BTreeMap<String, String>,
) -> Result<(String, User)> {
    let meta = &req.meta;
    let username = format!("{provider}_{user_id}");
    let mapped: Vec<(String, String)> = idp["AttributeMapping"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(pool_attr, _)| {
            pool_attr.as_str() != "username" && known_attribute(meta, pool_attr)
        })
        .filter_map(|(pool_attr, idp_attr)| {
            let v = claims.get(idp_attr.as_str()?)?;
            Some((pool_attr.clone(), v.clone()))
        })
        .collect();
    let now_ms = app.clock.now_ms();
    let identities = json!([{
        "userId": user_id, "providerName": provider, "providerType": idp["ProviderType"],
        "issuer": Value::Null, "primary": "true", "dateCreated": now_ms.to_string(),
    }])
    .to_string();
    let sub = app.ids.sub(&meta.id, &username);
    let pool_id = meta.id.clone();
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        let key = pool.meta.user_key(&username);
        let now = app.clock.now_f64();
        let user = pool.users.entry(key.clone()).or_insert_with(|| {
            let attrs = BTreeMap::from([
                ("sub".to_owned(), sub.clone()),
                ("identities".to_owned(), identities),
            ]);
            User::new(username.clone(), sub, attrs, "EXTERNAL_PROVIDER", now)
        });
        if user.status != "EXTERNAL_PROVIDER" {
            return Err(CognitoError::UsernameExists(format!(
                "A user named {username} exists and is not a federated user."
            )));
        }
        for (k, v) in mapped {
            user.attributes.insert(k, v);
        }
        user.modified = now;
        recs.push(user_record(&pool_id, &key, user));
        Ok((key, user.clone()))
    })
    .await
}
