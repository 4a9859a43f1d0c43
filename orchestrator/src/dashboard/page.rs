//! The dashboard page, embedded in the binary (no CDN, works offline).

use axum::response::Html;

pub async fn index() -> Html<&'static str> {
    Html(include_str!("assets/index.html"))
}
