//! Request bodies read up to a size limit, where a body over the limit still gets its 413.
//!
//! A server that answers early and closes with request bytes unread makes the kernel reset the
//! connection; a client still writing the body (Python's `requests`, reqwest, the AWS SDKs) then
//! sees a broken pipe or a reset instead of the 413 it was sent. So the rest of a too-large body
//! is read and dropped first, up to [`DRAIN_CAP`] bytes and [`DRAIN_TIMEOUT`]; past those the
//! connection is let go as before.

use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody as _};
use futures::StreamExt;

/// Most bytes of a too-large body read and dropped before answering.
pub const DRAIN_CAP: u64 = 256 * 1024 * 1024;
/// Longest time spent dropping a too-large body before answering.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Longer than the limit (the limit, in bytes).
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The connection failed mid-body.
    #[error("cannot read request body: {0}")]
    Read(String),
}

/// The whole body, or [`ReadError::TooLarge`] once it passes `limit` (after draining the rest).
pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes, ReadError> {
    let declared = body.size_hint().exact();
    let mut stream = body.into_data_stream();
    if declared.is_some_and(|n| n > limit as u64) {
        drain(stream, 0).await;
        return Err(ReadError::TooLarge(limit));
    }
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ReadError::Read(e.to_string()))?;
        if buf.len() + chunk.len() > limit {
            drain(stream, (buf.len() + chunk.len()) as u64).await;
            return Err(ReadError::TooLarge(limit));
        }
        if buf.is_empty() && declared == Some(chunk.len() as u64) {
            // The common case: the whole body in one frame, no copy.
            return Ok(chunk);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Read and drop what is left of a body, within [`DRAIN_CAP`] (counting `seen`) and [`DRAIN_TIMEOUT`].
async fn drain(mut stream: axum::body::BodyDataStream, mut seen: u64) {
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while seen <= DRAIN_CAP {
            match stream.next().await {
                Some(Ok(chunk)) => seen += chunk.len() as u64,
                _ => return,
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(parts: &[&'static [u8]]) -> Body {
        let parts: Vec<Result<Bytes, std::io::Error>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Body::from_stream(futures::stream::iter(parts))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_comes_back_whole() {
        let b = read_limited(Body::from("hello"), 5).await.unwrap();
        assert_eq!(&b[..], b"hello");
        let b = read_limited(chunked(&[b"he", b"llo"]), 5).await.unwrap();
        assert_eq!(&b[..], b"hello");
        let b = read_limited(Body::empty(), 0).await.unwrap();
        assert!(b.is_empty());
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_too_large_whether_declared_or_streamed() {
        let e = read_limited(Body::from("hello!"), 5).await.unwrap_err();
        assert!(matches!(e, ReadError::TooLarge(5)), "{e:?}");
        let e = read_limited(chunked(&[b"hel", b"lo", b"!"]), 5)
            .await
            .unwrap_err();
        assert!(matches!(e, ReadError::TooLarge(5)), "{e:?}");
    }

    /// Over real HTTP: a client that writes all of a too-large body before reading (as
    /// `requests` does) gets the 413, where an early answer and close used to reset it.
    #[tokio::test]
    async fn a_client_writing_a_too_large_body_to_the_end_reads_the_413() {
        use axum::http::StatusCode;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let app = axum::Router::new().route(
            "/",
            axum::routing::post(|body: Body| async move {
                match read_limited(body, 1024).await {
                    Ok(_) => StatusCode::OK,
                    Err(_) => StatusCode::PAYLOAD_TOO_LARGE,
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        // Far more than the socket buffers hold, so the write only ends if the server reads.
        let len = 16 * 1024 * 1024;
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: {len}\r\n\r\n");
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(&vec![b' '; len]).await.unwrap();
        let mut answer = [0u8; 12];
        conn.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 413");
    }
}
