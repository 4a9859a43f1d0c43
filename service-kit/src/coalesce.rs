//! Response coalescing for servers under load: after a request is read, its response's first
//! write waits one turn of the runtime (`tokio::task::yield_now`, which tokio runs after every
//! other ready task), so a worker answers the requests that are ready together and writes
//! their responses back to back. A client waiting on many connections is then woken once per
//! batch instead of once per response; on two shared cores those wake-ups (IPIs, context
//! switches) cost a distinct search as much as its ANN walk. With one request in flight the
//! turn comes at once: a lone request waits only for the runtime's zero-timeout I/O poll.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A listener whose connections coalesce their responses (see the module doc).
pub struct Coalescing<L>(pub L);

impl<L: Listener> Listener for Coalescing<L> {
    type Io = CoalescedIo<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.0.accept().await;
        (CoalescedIo::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

type Turn = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One connection's stream: a read that brings data arms the turn; the first write after it
/// waits for the turn to come.
pub struct CoalescedIo<S> {
    io: S,
    turn: Option<Turn>,
}

impl<S> CoalescedIo<S> {
    pub fn new(io: S) -> CoalescedIo<S> {
        CoalescedIo { io, turn: None }
    }

    fn wait_turn(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(turn) = &mut self.turn {
            ready!(turn.as_mut().poll(cx));
            self.turn = None;
        }
        Poll::Ready(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for CoalescedIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.turn
                .get_or_insert_with(|| Box::pin(tokio::task::yield_now()));
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CoalescedIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.wait_turn(cx));
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.wait_turn(cx));
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::routing::post;
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, duplex};

    use super::CoalescedIo;

    type Log = Arc<Mutex<Vec<String>>>;

    /// Read one request, note the work, write the answer, note the write.
    async fn answer(mut io: impl AsyncRead + AsyncWrite + Unpin, name: &str, log: Log) {
        let mut req = [0u8; 3];
        io.read_exact(&mut req).await.expect("request");
        log.lock().expect("log").push(format!("{name} worked"));
        io.write_all(b"ok").await.expect("write");
        log.lock().expect("log").push(format!("{name} wrote"));
    }

    /// Two connections whose requests are ready together, on one thread (a current-thread
    /// runtime): the order of the work and the writes.
    async fn order(coalesce: bool) -> Vec<String> {
        let log: Log = Arc::default();
        let mut clients = Vec::new();
        let mut tasks = Vec::new();
        for name in ["a", "b"] {
            let (mut client, server) = duplex(64);
            client.write_all(b"req").await.expect("send");
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                if coalesce {
                    answer(CoalescedIo::new(server), name, log).await;
                } else {
                    answer(server, name, log).await;
                }
            }));
            clients.push(client);
        }
        for t in tasks {
            t.await.expect("task");
        }
        for mut c in clients {
            let mut got = [0u8; 2];
            c.read_exact(&mut got).await.expect("answer");
            assert_eq!(&got, b"ok");
        }
        log.lock().expect("log").clone()
    }

    #[tokio::test]
    async fn ready_requests_are_all_worked_before_their_answers_are_written() {
        assert_eq!(
            order(false).await,
            ["a worked", "a wrote", "b worked", "b wrote"]
        );
        // The batch's answers go out together, in whatever order the runtime wakes them.
        let mut coalesced = order(true).await;
        coalesced[2..].sort();
        assert_eq!(coalesced, ["a worked", "b worked", "a wrote", "b wrote"]);
    }

    type Server = tokio::task::JoinHandle<std::io::Result<()>>;

    /// A coalescing server whose `POST /echo` answers the body it got: its address, the sender
    /// that stops it and its task.
    async fn echo_server() -> (
        std::net::SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        Server,
    ) {
        let router = Router::new().route("/echo", post(|body: String| async move { body }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::serve::serve_coalescing(listener, router, async {
            let _ = stopped.await;
        }));
        (addr, stop, server)
    }

    #[tokio::test]
    async fn pipelined_and_sequential_http_requests_get_their_answers_in_order() {
        let (addr, stop, server) = echo_server().await;
        let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req = |body: &str| {
            format!(
                "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        // Two requests in one write (pipelined), then a third after their answers.
        tcp.write_all(format!("{}{}", req("first"), req("second")).as_bytes())
            .await
            .expect("send");
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        while !seen.contains("second") {
            let n = tcp.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let first = seen.find("first").expect("first answer");
        assert!(first < seen.find("second").expect("second answer"));
        assert_eq!(seen.matches("HTTP/1.1 200 OK").count(), 2, "{seen}");
        tcp.write_all(req("third").as_bytes()).await.expect("send");
        let mut third = String::new();
        while !third.contains("third") {
            let n = tcp.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed early: {third}");
            third.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        drop(tcp);
        let _ = stop.send(());
        server.await.expect("join").expect("serve");
    }

    /// A workspace build can unify axum's `http2` feature in, and then `axum::serve` answers
    /// HTTP/2 with prior knowledge (h2c) too: one connection's requests, concurrent and one
    /// after another, all get their own answers through the coalesced stream.
    #[tokio::test]
    async fn an_h2c_connection_gets_every_answer() {
        use http_body_util::{BodyExt, Full};
        use hyper::body::Bytes;
        use hyper_util::rt::{TokioExecutor, TokioIo};

        let (addr, stop, server) = echo_server().await;
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .expect("h2 handshake");
        let driver = tokio::spawn(conn);
        let ask = |body: String| {
            let mut send = send.clone();
            async move {
                let req = hyper::Request::post(format!("http://{addr}/echo"))
                    .body(Full::new(Bytes::from(body)))
                    .expect("request");
                let res = send.send_request(req).await.expect("answer");
                assert_eq!(res.status(), 200);
                let got = res.into_body().collect().await.expect("body").to_bytes();
                String::from_utf8_lossy(&got).into_owned()
            }
        };
        let together =
            futures::future::join_all((0..8).map(|i| ask(format!("together {i}")))).await;
        for (i, got) in together.iter().enumerate() {
            assert_eq!(got, &format!("together {i}"));
        }
        for i in 0..3 {
            assert_eq!(ask(format!("after {i}")).await, format!("after {i}"));
        }
        drop(send);
        let _ = stop.send(());
        server.await.expect("join").expect("serve");
        driver.abort();
    }
}
