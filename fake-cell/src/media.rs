//! Media URLs fetched as Marqo fetches them before it embeds anything (current Marqo's
//! `core/inference/image_download.py` and `infer_modality`; the add handler's and the search's
//! `vectorise_jobs` messages, unchanged since 2.13): an image
//! in an add request's tensor fields or in the query of a model that sees images is downloaded
//! (Marqo's `TIMEOUT_SECONDS`, 3 s for the whole request, redirects followed, `Marqobot/1.0`
//! plus the request's download headers), and one that gives no image fails its document or its
//! search in Marqo's words. Only the first bytes are kept, enough to tell an image from
//! anything else: the fake vector still comes from the URL's words (`engine::embed`).
//!
//! `--no-media-downloads` turns it off for a machine without the network the URLs need: every
//! URL is then taken as an image, as fake-cell did before.

use std::collections::HashMap;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::{Map, Value, json};

use crate::engine::python::{self, str_repr};
use crate::engine::settings::Settings;
use crate::engine::settings::registry;
use crate::engine::store::{self, DocRecord};
use crate::error::{CellError, CellResult};

/// Marqo's `TIMEOUT_SECONDS` for one image download, the whole request.
const TIMEOUT: Duration = Duration::from_secs(3);
/// The bytes kept of a download: enough for every signature [`is_image`] reads.
const HEAD_BYTES: usize = 16;
/// Where Marqo's "not a local file or a valid url" message sends the reader.
const IMAGES_DOCS: &str =
    "https://docs.marqo.ai/2.23/other-resources/guides/advanced-usage/images/";

/// Extra request headers of a download (`imageDownloadHeaders` / `mediaDownloadHeaders`).
pub type Headers = Vec<(String, String)>;

pub struct Fetcher {
    client: Option<reqwest::Client>,
}

/// What a URL turned out to be: Marqo's `infer_modality` for the ones it cannot tell by name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Modality {
    Image,
    Other,
}

impl Fetcher {
    /// A fetcher that downloads (`enabled`) or takes every URL as an image without looking.
    pub fn new(enabled: bool) -> Fetcher {
        // No idle connections are kept: a pooled connection's task would live on the runtime
        // of the index that opened it, and every index has its own, stopped when it is deleted.
        let client = enabled
            .then(|| {
                reqwest::Client::builder()
                    .timeout(TIMEOUT)
                    .user_agent("Marqobot/1.0")
                    .pool_max_idle_per_host(0)
                    .build()
                    .ok()
            })
            .flatten();
        Fetcher { client }
    }

    /// Marqo's `load_image_from_path`: `Ok` for a local file or a URL whose bytes open as an
    /// image; else the reason in `UnidentifiedImageError`'s words.
    pub async fn load_image(&self, path: &str, headers: &Headers) -> Result<(), String> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        if let Ok(bytes) = read_head(path).await {
            return identify(path, &bytes);
        }
        if !valid_url(path) {
            return Err(format!(
                "Input str of {path} is not a local file or a valid url. If you are using Marqo \
                 Cloud, please note that images can only be downloaded from a URL and local files \
                 are not supported. If you are running Marqo in a Docker container, you will need \
                 to use a Docker volume so that your container can access host files. For more \
                 information, please refer to: {IMAGES_DOCS}"
            ));
        }
        let got = get(client, path, headers).await.map_err(|e| {
            format!(
                "Marqo encountered an error when downloading the media url {path}. The original \
                 error is: {}",
                curl_error(path, &e)
            )
        })?;
        if got.status != 200 {
            return Err(format!("media url `{path}` returned {}", got.status));
        }
        identify(path, &got.head)
    }

    /// Marqo's `infer_modality` for a URL it cannot tell by its extension: a sample of the body
    /// (with the request's download headers); the reason (`MediaDownloadError`'s words, with
    /// `requests`' for the failure or its `raise_for_status`) when it cannot be fetched.
    async fn sniff(&self, url: &str, headers: &Headers) -> Result<Modality, String> {
        let Some(client) = &self.client else {
            return Ok(Modality::Image);
        };
        let failed = |why: String| format!("Error downloading media file {url}: {why}");
        let got = get(client, url, headers)
            .await
            .map_err(|e| failed(requests_error(url, &e)))?;
        if got.status >= 400 {
            let side = if got.status < 500 { "Client" } else { "Server" };
            return Err(failed(format!(
                "{} {side} Error: {} for url: {}",
                got.status, got.reason, got.url
            )));
        }
        Ok(if is_image(&got.head) {
            Modality::Image
        } else {
            Modality::Other
        })
    }

    /// The documents of an add request whose media cannot be used: `_id` → Marqo's message
    /// (the first failing field's). At most `threads` downloads run at once, each URL once.
    pub async fn check_add(
        &self,
        records: &[DocRecord],
        s: &Settings,
        headers: &Headers,
        threads: usize,
    ) -> HashMap<String, String> {
        if self.client.is_none() {
            return HashMap::new();
        }
        let wanted = media_of(records, s);
        if wanted.is_empty() {
            return HashMap::new();
        }
        let mut urls: Vec<(String, Need)> = Vec::new();
        for (_, url, need) in &wanted {
            if !urls.iter().any(|(u, _)| u == url) {
                urls.push((url.clone(), *need));
            }
        }
        // Marqo times a batch's downloads as one phase (only when it has media).
        crate::timings::start("image_download.full_time");
        let downloads = urls.into_iter().map(|(url, need)| async move {
            let got = self.fetch(&url, need, headers).await;
            (url, got)
        });
        let results: HashMap<String, Result<(), String>> = stream::iter(downloads)
            .buffer_unordered(threads.max(1))
            .collect()
            .await;
        crate::timings::stop("image_download.full_time");
        let mut failed = HashMap::new();
        for (id, url, _) in &wanted {
            if let Some(Err(msg)) = results.get(url) {
                failed.entry(id.clone()).or_insert_with(|| msg.clone());
            }
        }
        failed
    }

    /// One URL of an add request, as Marqo's add handler treats it.
    async fn fetch(&self, url: &str, need: Need, headers: &Headers) -> Result<(), String> {
        if need == Need::Sniff && self.sniff(url, headers).await? == Modality::Other {
            // Not an image: Marqo embeds it as text.
            return Ok(());
        }
        self.load_image(url, headers).await.map_err(|reason| {
            format!("Could not process the media file found at `{url}`. Reason: {reason}")
        })
    }

    /// The images of a search's or embed's query, for a model that sees images: the query
    /// fails with Marqo's `vectorise_jobs` message when one cannot be used. The download headers
    /// are read from `body` only when there is an image to download.
    pub async fn check_query(&self, s: &Settings, q: &Value, body: &Value) -> CellResult<()> {
        if self.client.is_none() {
            return Ok(());
        }
        // Most queries are words: the URL parse and the model lookup only run for the others.
        let images: Vec<&str> = match q {
            Value::String(t) if t.contains("://") && valid_url(t) => vec![t.as_str()],
            Value::Object(m) => m
                .keys()
                .map(String::as_str)
                .filter(|k| is_image_name(k))
                .collect(),
            _ => Vec::new(),
        };
        let Some(first) = images.first() else {
            return Ok(());
        };
        if !sees_images(s) {
            return Ok(());
        }
        let headers = &body.as_object().map(headers).unwrap_or_default();
        let list = python::repr(&json!(images));
        let fail = |msg: String| {
            CellError::InvalidArgument(format!("Error vectorising content: {list}. Message: {msg}"))
        };
        // `infer_modality` of the job's first item decides how the whole job is embedded.
        if need_of(first) == Some(Need::Sniff)
            && self.sniff(first, headers).await.map_err(fail)? == Modality::Other
        {
            return Ok(());
        }
        for image in &images {
            if let Err(reason) = self.load_image(image, headers).await {
                return Err(fail(format!(
                    "Could not process given image: {list}. Original Error message: {reason}"
                )));
            }
        }
        Ok(())
    }
}

/// How an add request's media string is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Need {
    /// Its name says image (or it is a structured `image_pointer` value): download it.
    Image,
    /// A URL without a media extension: Marqo fetches a sample to infer what it is.
    Sniff,
}

/// Marqo's `infer_modality` for a string: `None` for text, or for a video or audio URL (not
/// downloaded by fake-cell). The extension is the URL path's (`get_url_file_extension`: no
/// query or fragment, none for a dot file).
fn need_of(value: &str) -> Option<Need> {
    let url = reqwest::Url::parse(value)
        .ok()
        .filter(|_| valid_url(value))?;
    let name = url.path().rsplit('/').next().unwrap_or_default();
    let ext = match name.trim_start_matches('.').rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => String::new(),
    };
    match ext.as_str() {
        "jpg" | "jpeg" | "png" | "gif" | "webp" => Some(Need::Image),
        "mp4" | "avi" | "mov" | "mp3" | "wav" | "ogg" => None,
        _ => Some(Need::Sniff),
    }
}

/// `(document id, media string, how)` for every media value an add request embeds: in an
/// unstructured index that treats URLs as images, the URLs of its tensor fields and multimodal
/// subfields; in a structured one, the `image_pointer` fields that are tensor fields or a
/// multimodal field's parts.
fn media_of(records: &[DocRecord], s: &Settings) -> Vec<(String, String, Need)> {
    let mut out = Vec::new();
    if !s.structured && !s.media_urls {
        return out;
    }
    for r in records {
        let mut fields: Vec<&str> = Vec::new();
        for tf in store::tensor_fields_of(r, s) {
            match store::field_kind(r, s, tf) {
                Some("multimodal_combination") => fields.extend(
                    store::multimodal_weights(r, s, tf)
                        .into_iter()
                        .flat_map(|w| w.keys())
                        .map(String::as_str),
                ),
                _ => fields.push(tf),
            }
        }
        for f in fields {
            let Some(Value::String(v)) = r.fields.get(f) else {
                continue;
            };
            let need = if s.structured {
                s.field(f)
                    .filter(|d| d.kind == "image_pointer")
                    .map(|_| Need::Image)
            } else {
                need_of(v)
            };
            if let Some(need) = need
                && !out.iter().any(|(id, url, _)| id == &r.id && url == v)
            {
                out.push((r.id.clone(), v.clone(), need));
            }
        }
    }
    out
}

/// Whether the index's model embeds images (the CLIP families; a LanguageBind model with
/// images among its modalities), as Marqo's query vectorising sends image URLs to it.
fn sees_images(s: &Settings) -> bool {
    let custom = s.json["modelProperties"]["type"].as_str();
    let kind = custom.or_else(|| registry::lookup(&s.model).map(|m| m.kind.as_str()));
    matches!(
        kind,
        Some(
            "clip" | "open_clip" | "multilingual_clip" | "clip_onnx" | "fp16_clip" | "languagebind"
        )
    )
}

/// Marqo's `_is_image` for a weighted query's key: an image extension, or any valid URL.
fn is_image_name(k: &str) -> bool {
    let lower = k.to_ascii_lowercase();
    [".jpg", ".png", ".bmp", ".jpeg"]
        .iter()
        .any(|e| lower.ends_with(e))
        || valid_url(k)
}

/// A URL as Marqo's `validate_url` accepts it: http(s) or ftp with a host.
pub fn valid_url(s: &str) -> bool {
    reqwest::Url::parse(s).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https" | "ftp")
            && u.host_str().is_some_and(|h| !h.is_empty())
    })
}

/// What a GET answered: its status and reason, the URL it ended at, the body's first bytes.
struct Got {
    status: u16,
    reason: &'static str,
    url: String,
    head: Vec<u8>,
}

/// GET `url`, keeping the body's first [`HEAD_BYTES`] (the rest is read and dropped).
async fn get(
    client: &reqwest::Client,
    url: &str,
    headers: &Headers,
) -> Result<Got, reqwest::Error> {
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let mut resp = req.send().await?;
    let status = resp.status();
    let final_url = resp.url().to_string();
    let mut head = Vec::with_capacity(HEAD_BYTES);
    while let Some(chunk) = resp.chunk().await? {
        let room = HEAD_BYTES.saturating_sub(head.len());
        head.extend_from_slice(&chunk[..room.min(chunk.len())]);
    }
    Ok(Got {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or_default(),
        url: final_url,
        head,
    })
}

/// The first bytes of a local file, for Marqo's `os.path.isfile` branch.
async fn read_head(path: &str) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    if path.contains("://") || !tokio::fs::metadata(path).await?.is_file() {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    let mut f = tokio::fs::File::open(path).await?;
    let mut head = vec![0; HEAD_BYTES];
    let n = f.read(&mut head).await?;
    head.truncate(n);
    Ok(head)
}

/// PIL's `Image.open`: `Ok` when the bytes start as an image format it reads.
fn identify(path: &str, head: &[u8]) -> Result<(), String> {
    if is_image(head) {
        return Ok(());
    }
    // PIL names the buffer it could not read; its address is any process's, stable per URL.
    let addr = path.bytes().fold(0x7f3a_0000_0000u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) & 0x7fff_ffff_fff0;
    Err(format!(
        "cannot identify image file <_io.BytesIO object at {addr:#x}>"
    ))
}

/// The signatures of the formats PIL opens that a web server serves.
fn is_image(h: &[u8]) -> bool {
    h.starts_with(b"\x89PNG\r\n\x1a\n")
        || h.starts_with(b"\xff\xd8\xff")
        || h.starts_with(b"GIF87a")
        || h.starts_with(b"GIF89a")
        || h.starts_with(b"BM")
        || (h.starts_with(b"RIFF") && h.get(8..12) == Some(b"WEBP"))
        || h.starts_with(b"II*\0")
        || h.starts_with(b"MM\0*")
        || h.starts_with(b"\0\0\x01\0")
}

/// The host and port of `url`, as the error messages name them.
fn host_port(url: &str) -> (String, u16) {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| {
            (
                u.host_str().unwrap_or_default().to_string(),
                u.port_or_known_default().unwrap_or(80),
            )
        })
        .unwrap_or_default()
}

/// What failed under a reqwest error, as the OS said it.
fn io_kind(e: &reqwest::Error) -> Option<std::io::ErrorKind> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
}

fn is_dns(e: &reqwest::Error) -> bool {
    let text = format!("{e:?}").to_ascii_lowercase();
    text.contains("dns") || text.contains("resolve") || text.contains("lookup")
}

/// A download failure as pycurl reports it: `(code, 'message')`.
fn curl_error(url: &str, e: &reqwest::Error) -> String {
    let (host, port) = host_port(url);
    if e.is_timeout() {
        let ms = TIMEOUT.as_millis();
        return format!(
            "(28, 'Operation timed out after {ms} milliseconds with 0 bytes received')"
        );
    }
    if e.is_connect() && is_dns(e) {
        return format!("(6, 'Could not resolve host: {host}')");
    }
    if e.is_connect() && io_kind(e) == Some(std::io::ErrorKind::ConnectionRefused) {
        return format!(
            "(7, 'Failed to connect to {host} port {port} after 0 ms: Connection refused')"
        );
    }
    if e.is_connect() {
        return format!("(7, 'Failed to connect to {host} port {port} after 0 ms: {e}')");
    }
    "(56, 'Failure when receiving data from the peer')".to_string()
}

/// A sample fetch's failure as `requests` words it.
fn requests_error(url: &str, e: &reqwest::Error) -> String {
    let (host, port) = host_port(url);
    let scheme = if url.starts_with("https") {
        "HTTPS"
    } else {
        "HTTP"
    };
    let path = reqwest::Url::parse(url)
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        })
        .unwrap_or_default();
    let pool = format!(
        "{scheme}ConnectionPool(host={}, port={port})",
        str_repr(&host)
    );
    if e.is_timeout() {
        return format!("{pool}: Read timed out. (read timeout=3)");
    }
    let cause = if is_dns(e) {
        format!(
            "NameResolutionError(\"<urllib3.connection.{scheme}Connection object>: Failed to \
             resolve '{host}' ([Errno -2] Name or service not known)\")"
        )
    } else if io_kind(e) == Some(std::io::ErrorKind::ConnectionRefused) {
        format!(
            "NewConnectionError('<urllib3.connection.{scheme}Connection object>: Failed to \
             establish a new connection: [Errno 111] Connection refused')"
        )
    } else {
        format!(
            "ProtocolError('Connection aborted.', {})",
            str_repr(&e.to_string())
        )
    };
    format!("{pool}: Max retries exceeded with url: {path} (Caused by {cause})")
}

/// The download headers of a request body: `mediaDownloadHeaders`, else the image ones.
pub fn headers(body: &Map<String, Value>) -> Headers {
    [
        "mediaDownloadHeaders",
        "imageDownloadHeaders",
        "image_download_headers",
    ]
    .iter()
    .find_map(|k| body.get(*k).and_then(Value::as_object))
    .map(|m| {
        m.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modality_by_name_as_infer_modality() {
        assert_eq!(need_of("https://x.org/a/cat.PNG"), Some(Need::Image));
        assert_eq!(need_of("https://x.org/a/cat.png?size=2"), Some(Need::Image));
        assert_eq!(need_of("https://x.org/a/.png"), Some(Need::Sniff));
        assert_eq!(need_of("https://x.org/a.b/photo"), Some(Need::Sniff));
        assert_eq!(need_of("https://x.org/clip.mp4"), None);
        assert_eq!(need_of("https://x.org/photo"), Some(Need::Sniff));
        assert_eq!(need_of("a red shoe"), None);
        assert_eq!(need_of("cat.png"), None);
    }

    #[test]
    fn image_signatures() {
        assert!(is_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(is_image(b"\xff\xd8\xff\xe0\0\x10JFIF"));
        assert!(is_image(b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(!is_image(b"<!doctype html>"));
        assert!(!is_image(b""));
        let msg = identify("http://x/y.png", b"<html>").unwrap_err();
        assert!(
            msg.starts_with("cannot identify image file <_io.BytesIO object at 0x"),
            "{msg}"
        );
    }

    #[test]
    fn weighted_query_keys_that_are_images() {
        assert!(is_image_name("cat.JPG"));
        assert!(is_image_name("https://x.org/page"));
        assert!(!is_image_name("a red shoe"));
    }
}
