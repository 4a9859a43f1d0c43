//! The pages of the challenges that can follow a password on the hosted UI: a new password (with
//! the pool's missing required attributes), an MFA code (SMS, e-mail, TOTP) and the choice of
//! factor. Each page posts back to `/login` with the challenge session in hidden fields.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::page::{self, banner, esc, form, input};
use super::request::AuthorizeRequest;
use super::site::Site;

/// Form field → `ChallengeResponses` key, per challenge.
pub fn response_fields(challenge: &str) -> &'static [(&'static str, &'static str)] {
    match challenge {
        "NEW_PASSWORD_REQUIRED" => &[("new_password", "NEW_PASSWORD")],
        "SMS_MFA" => &[("code", "SMS_MFA_CODE")],
        "SOFTWARE_TOKEN_MFA" => &[("code", "SOFTWARE_TOKEN_MFA_CODE")],
        "EMAIL_OTP" => &[("code", "EMAIL_OTP_CODE")],
        "SELECT_MFA_TYPE" => &[("answer", "ANSWER")],
        _ => &[],
    }
}

/// A JSON-array-in-a-string challenge parameter (`requiredAttributes`, `MFAS_CAN_CHOOSE`).
fn string_list(params: &Value, name: &str) -> Vec<String> {
    params[name]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// The fields, title and button of one challenge, or `None` for one the hosted UI cannot show.
fn fields(challenge: &str, params: &Value) -> Option<(&'static str, String, &'static str)> {
    let code_input = || {
        input(
            "code",
            "Code",
            "text",
            "",
            "inputmode=\"numeric\" autocomplete=\"one-time-code\" required",
        )
    };
    Some(match challenge {
        "NEW_PASSWORD_REQUIRED" => {
            let mut f = String::from("<p class=\"note\">Your password must be changed.</p>");
            f.push_str(&input(
                "new_password",
                "New password",
                "password",
                "",
                "autocomplete=\"new-password\" required",
            ));
            for attr in string_list(params, "requiredAttributes") {
                let label = attr.trim_start_matches("userAttributes.");
                f.push_str(&input(&attr, label, "text", "", "required"));
            }
            ("Change password", f, "Send")
        }
        "SMS_MFA" | "EMAIL_OTP" => {
            let to = params["CODE_DELIVERY_DESTINATION"]
                .as_str()
                .unwrap_or("you");
            let f = format!(
                "<p class=\"note\">We sent a code to {}.</p>{}",
                esc(to),
                code_input()
            );
            ("Enter your code", f, "Sign in")
        }
        "SOFTWARE_TOKEN_MFA" => {
            let f = format!(
                "<p class=\"note\">Enter the code from your authenticator app.</p>{}",
                code_input()
            );
            ("Enter your code", f, "Sign in")
        }
        "MFA_SETUP" => {
            let secret = params["SECRET_CODE"].as_str().unwrap_or_default();
            let user = params["USER_ID_FOR_SRP"].as_str().unwrap_or_default();
            let f = format!(
                "<p class=\"note\">Multi-factor authentication is required. Add this key to your \
authenticator app, then enter the code it shows.</p><p><code id=\"secret\">{}</code></p>\
<p class=\"note\">otpauth://totp/{}?secret={}</p>{}",
                esc(secret),
                esc(&super::finish::encode(user)),
                esc(secret),
                code_input()
            );
            ("Set up your authenticator app", f, "Verify")
        }
        "SELECT_MFA_TYPE" => {
            let mut f = String::from("<p class=\"note\">Choose how to receive your code.</p>");
            for (i, o) in string_list(params, "MFAS_CAN_CHOOSE").iter().enumerate() {
                let checked = if i == 0 { " checked" } else { "" };
                f.push_str(&format!(
                    "<label><input type=\"radio\" name=\"answer\" value=\"{v}\"{checked}> {v}</label>",
                    v = esc(o)
                ));
            }
            ("Multi-factor authentication", f, "Continue")
        }
        _ => return None,
    })
}

/// The page of `challenge` (session and parameters carried in hidden fields), `error` shown.
pub fn challenge_page(
    site: &Site,
    req: &AuthorizeRequest,
    challenge: &str,
    session: &str,
    username: &str,
    params: &Value,
    error: Option<&str>,
) -> Response {
    let Some((title, f, submit)) = fields(challenge, params) else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!(
                "The {challenge} step is not offered by fake-cognito's hosted UI; set the user's MFA up through the API first."
            ),
        );
    };
    let mut hidden = req.params.clone();
    for (k, v) in [
        ("challenge", challenge),
        ("session", session),
        ("username", username),
        ("challenge_params", &params.to_string()),
    ] {
        hidden.push((k.to_owned(), v.to_owned()));
    }
    let body = format!(
        "<h1>{}</h1>{}{}",
        esc(title),
        banner(error),
        form(&format!("{}/login", site.base), &hidden, &f, submit)
    );
    page::html(StatusCode::OK, title, &body)
}
