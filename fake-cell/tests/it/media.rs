//! Images downloaded as Marqo downloads them, in-process and over HTTP, against a real image
//! server on a free local port: an add request's image that is missing, not an image, behind a
//! refused port or without its download header fails its document in Marqo's words and is not
//! written; a URL without an extension is sniffed; a CLIP model's image query and embed content
//! fail with `vectorise_jobs`' message; a text model's query is not downloaded; and
//! `--no-media-downloads` takes every URL as an image unseen.

use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

use crate::in_process::cell_with_index;
use crate::search_params::Target;
use crate::support::CellProc;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

/// An image server on a free port: `/cat.png` and `/photo` are PNGs, `/page` and `/fake.png`
/// HTML, `/missing.png` a 404 (as is any other path), `/auth.png` a PNG only with `x-key: k`. Returns its base URL.
async fn image_server() -> String {
    let png = || async { ([("content-type", "image/png")], PNG) };
    let html = || async { ([("content-type", "text/html")], "<!doctype html><p>hi</p>") };
    let app = axum::Router::new()
        .route("/cat.png", get(png))
        .route("/photo", get(png))
        .route("/page", get(html))
        .route("/fake.png", get(html))
        .route("/missing.png", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/auth.png",
            get(|h: HeaderMap| async move {
                if h.get("x-key").is_some_and(|v| v == "k") {
                    Ok(PNG)
                } else {
                    Err(StatusCode::FORBIDDEN)
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A local port nothing listens on.
async fn refused_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

fn items(r: &Value) -> Vec<(String, u64, String)> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["_id"].as_str().unwrap().to_string(),
                i["status"].as_u64().unwrap(),
                i["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `pics`: a CLIP index that treats URLs as images.
async fn create_image_index(t: &Target) {
    t.create(
        "pics",
        json!({"model": "open_clip/ViT-B-32/laion2b_s34b_b79k", "treatUrlsAndPointersAsImages": true}),
    )
    .await;
}

async fn add_requests(t: &Target, base: &str, dead: u16) {
    create_image_index(t).await;
    let docs = json!([
        {"_id": "ok", "img": format!("{base}/cat.png")},
        {"_id": "sniffed", "img": format!("{base}/photo")},
        {"_id": "page", "img": format!("{base}/page")},
        {"_id": "missing", "img": format!("{base}/missing.png")},
        {"_id": "fake", "img": format!("{base}/fake.png")},
        {"_id": "refused", "img": format!("http://127.0.0.1:{dead}/x.png")},
        {"_id": "refused_sample", "img": format!("http://127.0.0.1:{dead}/x")},
        {"_id": "text", "img": "a red shoe", "other": format!("{base}/missing.png")},
        {"_id": "auth", "img": format!("{base}/auth.png")},
        {"_id": "gone_sample", "img": format!("{base}/gone")},
        {"_id": "query_string", "img": format!("{base}/cat.png?size=2")},
    ]);
    let (s, r) = t
        .req(
            "POST",
            "/indexes/pics/documents",
            json!({"documents": docs, "tensorFields": ["img"]}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["errors"], true);
    let got = items(&r);
    let status: Vec<(&str, u64)> = got.iter().map(|(i, s, _)| (i.as_str(), *s)).collect();
    assert_eq!(
        status,
        [
            ("ok", 200),
            ("sniffed", 200),
            ("page", 200),
            ("missing", 400),
            ("fake", 400),
            ("refused", 400),
            ("refused_sample", 400),
            ("text", 200),
            ("auth", 400),
            ("gone_sample", 400),
            ("query_string", 200),
        ]
    );
    let msg = |id: &str| got.iter().find(|g| g.0 == id).unwrap().2.clone();
    let missing = format!("{base}/missing.png");
    assert_eq!(
        msg("missing"),
        format!(
            "Could not process the media file found at `{missing}`. Reason: media url `{missing}` returned 404"
        )
    );
    assert!(
        msg("fake").contains("Reason: cannot identify image file <_io.BytesIO object at 0x"),
        "{}",
        msg("fake")
    );
    assert_eq!(
        msg("refused"),
        format!(
            "Could not process the media file found at `http://127.0.0.1:{dead}/x.png`. Reason: Marqo \
             encountered an error when downloading the media url http://127.0.0.1:{dead}/x.png. The \
             original error is: (7, 'Failed to connect to 127.0.0.1 port {dead} after 0 ms: Connection refused')"
        )
    );
    assert!(
        msg("refused_sample").starts_with(&format!(
            "Error downloading media file http://127.0.0.1:{dead}/x: HTTPConnectionPool(host='127.0.0.1', \
             port={dead}): Max retries exceeded with url: /x (Caused by NewConnectionError("
        )),
        "{}",
        msg("refused_sample")
    );
    assert!(msg("auth").ends_with("returned 403"), "{}", msg("auth"));
    // A sample that answers an error status is requests' `raise_for_status`.
    let gone = format!("{base}/gone");
    assert_eq!(
        msg("gone_sample"),
        format!("Error downloading media file {gone}: 404 Client Error: Not Found for url: {gone}")
    );
    // Marqo times the downloads as one phase of the add.
    let (_, r) = t
        .req(
            "POST",
            "/indexes/pics/documents?telemetry=true",
            json!({"documents": [{"_id": "ok", "img": format!("{base}/cat.png")}], "tensorFields": ["img"]}),
        )
        .await;
    assert!(
        r["telemetry"]["timesMs"]["image_download.full_time"].is_number(),
        "{r}"
    );
    // A failed document is not written; the others are.
    let (s, _) = t.get("/indexes/pics/documents/missing").await;
    assert_eq!(s, 404);
    let (s, _) = t.get("/indexes/pics/documents/ok").await;
    assert_eq!(s, 200);
    // The request's download headers go with every download.
    let (_, r) = t
        .req(
            "POST",
            "/indexes/pics/documents",
            json!({"documents": [{"_id": "auth", "img": format!("{base}/auth.png")}],
                   "tensorFields": ["img"], "imageDownloadHeaders": {"x-key": "k"}}),
        )
        .await;
    assert_eq!(r["errors"], false, "{r}");
    // A multimodal combination downloads its image parts.
    let (_, r) = t
        .req(
            "POST",
            "/indexes/pics/documents",
            json!({"documents": [{"_id": "combo", "title": "cat", "img": missing}],
                   "tensorFields": ["combo"],
                   "mappings": {"combo": {"type": "multimodal_combination", "weights": {"title": 0.5, "img": 0.5}}}}),
        )
        .await;
    assert_eq!(items(&r)[0].1, 400, "{r}");
}

async fn queries(t: &Target, base: &str) {
    let missing = format!("{base}/missing.png");
    let (s, r) = t
        .req("POST", "/indexes/pics/search", json!({"q": missing}))
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (400, Some("invalid_argument")),
        "{r}"
    );
    assert_eq!(
        r["message"],
        format!(
            "Error vectorising content: ['{missing}']. Message: Could not process given image: \
             ['{missing}']. Original Error message: media url `{missing}` returned 404"
        )
    );
    let (s, r) = t
        .req(
            "POST",
            "/indexes/pics/search",
            json!({"q": {"cat": 1, (missing.clone()): 1}}),
        )
        .await;
    assert_eq!(s, 400, "{r}");
    let r = t
        .search("pics", json!({"q": format!("{base}/cat.png")}))
        .await;
    assert!(!r["hits"].as_array().unwrap().is_empty(), "{r}");
    // A page is no image: embedded as text.
    t.search("pics", json!({"q": format!("{base}/page")})).await;
    let (s, r) = t
        .req("POST", "/indexes/pics/embed", json!({"content": [missing]}))
        .await;
    assert_eq!(s, 400, "{r}");
    // A text model embeds a URL as text: nothing is downloaded.
    t.create("words", json!({})).await;
    t.search("words", json!({"q": missing})).await;
}

async fn structured(t: &Target) {
    t.create(
        "shelf",
        json!({"type": "structured", "model": "open_clip/ViT-B-32/laion2b_s34b_b79k",
               "allFields": [{"name": "pic", "type": "image_pointer"}, {"name": "t", "type": "text"}],
               "tensorFields": ["pic"]}),
    )
    .await;
    let (_, r) = t
        .req(
            "POST",
            "/indexes/shelf/documents",
            json!({"documents": [{"_id": "1", "pic": "not a url", "t": "x"}]}),
        )
        .await;
    let got = items(&r);
    assert_eq!(got[0].1, 400, "{r}");
    assert!(
        got[0].2.starts_with(
            "Could not process the media file found at `not a url`. Reason: Input str of not a url \
             is not a local file or a valid url."
        ),
        "{r}"
    );
}

async fn all(t: &Target) {
    let base = image_server().await;
    let dead = refused_port().await;
    add_requests(t, &base, dead).await;
    queries(t, &base).await;
    structured(t).await;
}

#[tokio::test]
async fn images_download_as_marqo_in_process() {
    let (_dir, cell, app) = cell_with_index("unused").await;
    all(&Target::Router(app)).await;
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn images_download_as_marqo_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    all(&Target::Http(cell.url.clone())).await;
}

#[tokio::test]
async fn no_media_downloads_takes_every_url_as_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open", "--no-media-downloads"]).await;
    let t = Target::Http(cell.url.clone());
    let dead = refused_port().await;
    create_image_index(&t).await;
    let url = format!("http://127.0.0.1:{dead}/x.png");
    let (_, r) = t
        .req(
            "POST",
            "/indexes/pics/documents",
            json!({"documents": [{"_id": "1", "img": url}], "tensorFields": ["img"]}),
        )
        .await;
    assert_eq!(r["errors"], false, "{r}");
    t.search("pics", json!({"q": url})).await;
}
