//! An authorize request (`/oauth2/authorize`, and every page after it, which carries the same
//! parameters) checked against the client as AWS does. A bad or unknown `client_id` or a
//! `redirect_uri` that is not one of the client's CallbackURLs gets an error page (there is
//! nowhere safe to send the user); every other problem goes back to the redirect_uri as
//! `error=` with the `state` echoed.

use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::finish::redirect_error;
use super::page;
use super::site::Site;
use crate::app::AppState;
use crate::model::{Client, PoolMeta};
use crate::oauth::codes::{Method, Pkce};

/// The parameters an authorize request may carry, passed on from page to page.
const PARAMS: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "identity_provider",
    "idp_identifier",
    "prompt",
    "login_hint",
    "lang",
];

pub struct AuthorizeRequest {
    pub meta: PoolMeta,
    pub client: Client,
    /// `token` (implicit grant: tokens in the fragment) rather than `code`.
    pub implicit: bool,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub scopes: Vec<String>,
    pub pkce: Option<Pkce>,
    /// The federated IdP asked for (`identity_provider` / `idp_identifier`), not `COGNITO`.
    pub provider: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    /// The parameters as sent (the known ones), for hidden fields and onward links.
    pub params: Vec<(String, String)>,
}

/// Why a request cannot go on: an error page, or an error sent back to the redirect_uri.
pub enum Refusal {
    Page(StatusCode, &'static str, String),
    /// Boxed: a response is large and this is the error side of a `Result`.
    Redirect(Box<Response>),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Page(status, code, msg) => page::error(status, code, &msg),
            Refusal::Redirect(r) => *r,
        }
    }
}

impl AuthorizeRequest {
    /// The parameters again as a query string (for `/login?...` and the IdP stand-in).
    pub fn query(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| format!("{}={}", super::finish::encode(k), super::finish::encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }

    /// An error for the client, at its redirect_uri.
    pub fn refuse(&self, error: &str, description: &str) -> Response {
        redirect_error(
            &self.redirect_uri,
            self.implicit,
            error,
            description,
            self.state.as_deref(),
        )
    }
}

fn page_error(code: &'static str, msg: impl Into<String>) -> Refusal {
    Refusal::Page(StatusCode::BAD_REQUEST, code, msg.into())
}

/// The client and its pool, the client belonging to the site's pool when there is one.
fn client_of(app: &AppState, site: &Site, id: &str) -> Result<(PoolMeta, Client), Refusal> {
    let store = app.store.read();
    let found = store
        .client(id)
        .ok()
        .filter(|(pool, _)| site.pool_id.as_deref().is_none_or(|p| p == pool.meta.id));
    match found {
        Some((pool, client)) => Ok((pool.meta.clone(), client.clone())),
        None => Err(page_error(
            "invalid_request",
            format!("Client {id} does not exist."),
        )),
    }
}

/// The IdP a request names by `identity_provider` or `idp_identifier`, if it is enabled for the
/// client; `Ok(None)` for the pool's own directory.
fn provider(
    meta: &PoolMeta,
    client: &Client,
    q: &HashMap<String, String>,
) -> Result<Option<String>, String> {
    let by_name = q.get("identity_provider").filter(|s| !s.is_empty());
    let name = match (by_name, q.get("idp_identifier").filter(|s| !s.is_empty())) {
        (Some(n), _) => n.clone(),
        (None, Some(ident)) => meta
            .identity_providers
            .iter()
            .find(|(_, idp)| {
                idp.get("IdpIdentifiers")
                    .and_then(Value::as_array)
                    .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(ident)))
            })
            .map(|(n, _)| n.clone())
            .ok_or_else(|| format!("No identity provider has the identifier {ident}."))?,
        (None, None) => return Ok(None),
    };
    if name == "COGNITO"
        && client
            .supported_identity_providers
            .iter()
            .any(|p| p == "COGNITO")
    {
        return Ok(None);
    }
    let enabled = client.supported_identity_providers.contains(&name)
        && meta.identity_providers.contains_key(&name);
    if !enabled {
        return Err(format!(
            "The identity provider {name} is not enabled for this client."
        ));
    }
    Ok(Some(name))
}

/// A page's form POST: its fields, and the authorize request they carry, checked again.
pub fn parse_form(
    app: &AppState,
    site: &Site,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<(AuthorizeRequest, HashMap<String, String>), Box<Response>> {
    let Ok(Form(f)) = form else {
        return Err(Box::new(page::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The form could not be read.",
        )));
    };
    match parse(app, site, &f) {
        Ok(req) => Ok((req, f)),
        Err(refusal) => Err(Box::new(refusal.into_response())),
    }
}

/// Check an authorize request. `site` limits the client to the domain's pool.
pub fn parse(
    app: &AppState,
    site: &Site,
    q: &HashMap<String, String>,
) -> Result<AuthorizeRequest, Refusal> {
    let get = |n: &str| q.get(n).filter(|s| !s.is_empty()).cloned();
    let client_id =
        get("client_id").ok_or_else(|| page_error("invalid_request", "client_id is missing."))?;
    let (meta, client) = client_of(app, site, &client_id)?;
    let redirect_uri = get("redirect_uri")
        .ok_or_else(|| page_error("invalid_request", "redirect_uri is missing."))?;
    if !client.callback_urls.contains(&redirect_uri) {
        return Err(page_error(
            "redirect_mismatch",
            "The redirect_uri is not one of the client's callback URLs.",
        ));
    }
    let response_type = get("response_type");
    let mut req = AuthorizeRequest {
        implicit: response_type.as_deref() == Some("token"),
        redirect_uri,
        state: get("state"),
        nonce: get("nonce"),
        scopes: Vec::new(),
        pkce: None,
        provider: None,
        prompt: get("prompt"),
        login_hint: get("login_hint"),
        params: PARAMS
            .iter()
            .filter_map(|n| q.get(*n).map(|v| ((*n).to_owned(), v.clone())))
            .collect(),
        meta,
        client,
    };
    let refuse = |req: &AuthorizeRequest, e: &str, d: &str| {
        Err(Refusal::Redirect(Box::new(req.refuse(e, d))))
    };
    let flow = match response_type.as_deref() {
        None => return refuse(&req, "invalid_request", "response_type is missing."),
        Some("code") => "code",
        Some("token") => "implicit",
        Some(_) => {
            return refuse(
                &req,
                "unsupported_response_type",
                "response_type must be code or token.",
            );
        }
    };
    if !req.client.allowed_oauth_flows_user_pool_client
        || !req.client.allowed_oauth_flows.iter().any(|f| f == flow)
    {
        return refuse(
            &req,
            "unauthorized_client",
            &format!("The client is not allowed the {flow} flow."),
        );
    }
    req.scopes = match get("scope") {
        Some(s) => crate::oauth::scope_list(&s),
        None => req.client.allowed_oauth_scopes.clone(),
    };
    if req.scopes.is_empty()
        || req
            .scopes
            .iter()
            .any(|s| !req.client.allowed_oauth_scopes.contains(s))
    {
        return refuse(
            &req,
            "invalid_scope",
            "A requested scope is not allowed for this client.",
        );
    }
    match (get("code_challenge"), get("code_challenge_method")) {
        (None, Some(_)) => return refuse(&req, "invalid_request", "code_challenge is missing."),
        (None, None) => {}
        (Some(challenge), method) => match Method::parse(method.as_deref()) {
            Some(method) if !req.implicit => req.pkce = Some(Pkce { method, challenge }),
            Some(_) => {
                return refuse(
                    &req,
                    "invalid_request",
                    "PKCE applies to the code flow only.",
                );
            }
            None => {
                return refuse(
                    &req,
                    "invalid_request",
                    "code_challenge_method must be S256 or plain.",
                );
            }
        },
    }
    if let Some(p) = &req.prompt
        && !p
            .split(' ')
            .all(|x| matches!(x, "none" | "login" | "consent" | "select_account"))
    {
        return refuse(
            &req,
            "invalid_request",
            "prompt must be none, login, consent or select_account.",
        );
    }
    req.provider = match provider(&req.meta, &req.client, q) {
        Ok(p) => p,
        Err(msg) => return refuse(&req, "invalid_request", &msg),
    };
    Ok(req)
}
