//! The hosted UI's HTML: a small, dependency-free page per step (sign-in, new password, MFA code,
//! MFA choice, the federated stand-in, errors). These are pages for people, the one place
//! fake-cognito answers HTML; every value is escaped. Forms carry the authorize request's
//! parameters as hidden fields, so each POST is checked again like the original GET.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::CognitoError;

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}\
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px #0002}h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}\
input,textarea{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}\
button{margin-top:1rem;width:100%;padding:.6rem;font-size:1rem;cursor:pointer}\
.error{color:#b00020;background:#fdecee;padding:.5rem;border-radius:4px}\
.note{color:#555;font-size:.9rem}.idp{margin-top:.5rem}hr{margin:1.5rem 0}";

/// HTML-escape text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole page with `status`, never cached or framed.
pub fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{t}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        t = esc(title)
    );
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        Html(doc),
    )
        .into_response()
}

/// AWS's hosted-UI error page: the OAuth error code and what went wrong.
pub fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = format!(
        "<h1>An error was encountered with the requested page.</h1>\
<p class=\"error\" id=\"error\" data-error=\"{c}\">{d}</p><p class=\"note\">error={c}</p>",
        c = esc(code),
        d = esc(description)
    );
    html(status, "Error", &body)
}

/// An internal failure (a write that could not be made durable...) as a page: 4xx for the
/// caller's mistakes, 503 for ours, never 500.
pub fn from_error(e: &CognitoError) -> Response {
    error(e.status(), e.type_name(), &e.to_string())
}

/// A form posting to `action`, with the hidden fields first.
pub fn form(action: &str, hidden: &[(String, String)], fields: &str, submit: &str) -> String {
    let mut out = format!("<form method=\"post\" action=\"{}\">", esc(action));
    for (k, v) in hidden {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        ));
    }
    out.push_str(fields);
    out.push_str(&format!(
        "<button type=\"submit\" name=\"submit\">{}</button></form>",
        esc(submit)
    ));
    out
}

/// A labelled input.
pub fn input(name: &str, label: &str, kind: &str, value: &str, extra: &str) -> String {
    format!(
        "<label for=\"{n}\">{l}</label><input id=\"{n}\" name=\"{n}\" type=\"{k}\" value=\"{v}\" {extra}>",
        n = esc(name),
        l = esc(label),
        k = esc(kind),
        v = esc(value)
    )
}

/// The error banner, if any.
pub fn banner(error: Option<&str>) -> String {
    error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"error\" id=\"error\" role=\"alert\">{}</p>",
            esc(e)
        )
    })
}
