//! A scripted hostile HTTP/1.1 server on `127.0.0.1:0`, written by hand over
//! `TcpStream` so that it can misbehave in ways a real framework would refuse to:
//! lie about `Content-Length`, trickle a body one byte at a time, stream 50 MB, send a
//! chunked body that never ends, drop the connection after reading a request, hang
//! forever, or write arbitrary bytes.
//!
//! Each path has a queue of [`Action`]s, played in order; when a queue runs dry the
//! path's `then` action repeats (default: the server-wide fallback, a 404). Every
//! request is recorded with its method, path, headers, body and arrival time, so tests
//! assert on what the client sent, how often, and with which spacing.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How a response body is produced.
#[derive(Clone, Debug)]
pub enum Body {
    /// These bytes.
    Bytes(Vec<u8>),
    /// These bytes, one at a time with `every` between them.
    Trickle { bytes: Vec<u8>, every: Duration },
    /// `len` bytes of filler streamed from a 64 KiB buffer (never allocated whole), with
    /// a `Content-Length` when `declared`, chunked otherwise.
    Huge { len: u64, declared: bool },
    /// A chunked body that sends one byte every `every` and never ends.
    EndlessChunked { every: Duration },
}

/// What `Content-Length` header to send for a [`Body::Bytes`].
#[derive(Clone, Copy, Debug)]
pub enum Length {
    /// The true length.
    True,
    /// None at all: the body ends when the connection closes.
    Omit,
    /// This (false) value.
    Lie(u64),
}

/// One scripted HTTP response.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub length: Length,
    /// Waited before the status line is written.
    pub delay: Duration,
}

impl Response {
    /// A response with a JSON body.
    pub fn json(status: u16, value: Value) -> Self {
        Self::raw_body(status, value.to_string().into_bytes())
            .header("content-type", "application/json")
    }

    /// A response with a text body of the given content type.
    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Self::raw_body(status, body.as_bytes().to_vec()).header("content-type", content_type)
    }

    /// A response with these body bytes and no content type.
    pub fn raw_body(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Bytes(body),
            length: Length::True,
            delay: Duration::ZERO,
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::raw_body(status, Vec::new()).header("location", location)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    pub fn length(mut self, length: Length) -> Self {
        self.length = length;
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Action {
    /// Answer it.
    Respond(Response),
    /// Read the request, then close the connection without a word.
    Drop,
    /// Read the request, then never answer (until the client gives up).
    Hang,
    /// Write these bytes verbatim, then close.
    Raw(Vec<u8>),
}

impl From<Response> for Action {
    fn from(response: Response) -> Self {
        Action::Respond(response)
    }
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target without its query string (for `CONNECT`: `host:port`).
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Monotonic arrival time (for spacing between polls).
    pub at: Instant,
    /// Wall-clock arrival time (for `Retry-After` dates).
    pub wall: SystemTime,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The whole request as text, for "never sent X" assertions.
    pub fn text(&self) -> String {
        let mut s = format!("{} {}\n", self.method, self.path);
        for (n, v) in &self.headers {
            s.push_str(&format!("{n}: {v}\n"));
        }
        s.push_str(&String::from_utf8_lossy(&self.body));
        s
    }
}

#[derive(Default)]
struct Script {
    queue: VecDeque<Action>,
    then: Option<Action>,
}

struct Shared {
    scripts: Mutex<HashMap<String, Script>>,
    fallback: Mutex<Action>,
    log: Mutex<Vec<Request>>,
    connections: AtomicUsize,
    huge_bytes_sent: AtomicU64,
    changed: tokio::sync::Notify,
}

/// The server. Dropping it stops accepting connections.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub const AUTHORIZE: &str = "/user_management/authorize/device";
pub const AUTHENTICATE: &str = "/user_management/authenticate";

impl Server {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            scripts: Mutex::new(HashMap::new()),
            fallback: Mutex::new(
                Response::json(404, serde_json::json!({"error": "not_found"})).into(),
            ),
            log: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            huge_bytes_sent: AtomicU64::new(0),
            changed: tokio::sync::Notify::new(),
        });
        let accept = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                accept.connections.fetch_add(1, Ordering::SeqCst);
                accept.changed.notify_waiters();
                tokio::spawn(serve(socket, accept.clone()));
            }
        });
        Self { addr, shared, task }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Appends actions to the queue of `path`.
    pub fn on(&self, path: &str, actions: impl IntoIterator<Item = Action>) -> &Self {
        let mut scripts = self.shared.scripts.lock().unwrap();
        scripts
            .entry(path.to_owned())
            .or_default()
            .queue
            .extend(actions);
        self
    }

    /// What `path` answers once its queue is empty, forever.
    pub fn then_always(&self, path: &str, action: impl Into<Action>) -> &Self {
        let mut scripts = self.shared.scripts.lock().unwrap();
        scripts.entry(path.to_owned()).or_default().then = Some(action.into());
        self
    }

    /// What every unscripted path (or `CONNECT` target) answers.
    pub fn fallback(&self, action: impl Into<Action>) -> &Self {
        *self.shared.fallback.lock().unwrap() = action.into();
        self
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Accepted TCP connections, including those that never sent a full request.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Bytes of [`Body::Huge`] written before the client hung up.
    pub fn huge_bytes_sent(&self) -> u64 {
        self.shared.huge_bytes_sent.load(Ordering::SeqCst)
    }

    /// Waits until `n` requests to `path` were recorded (panics after 60 s: a hang).
    pub async fn wait_for(&self, path: &str, n: usize) {
        let wait = async {
            loop {
                let changed = self.shared.changed.notified();
                if self.requests_to(path).len() >= n {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("never saw {n} requests to {path}"));
    }
}

async fn serve(mut socket: TcpStream, shared: Arc<Shared>) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    let action = {
        let mut scripts = shared.scripts.lock().unwrap();
        let scripted = scripts
            .get_mut(&request.path)
            .and_then(|script| script.queue.pop_front().or_else(|| script.then.clone()));
        scripted.unwrap_or_else(|| shared.fallback.lock().unwrap().clone())
    };
    shared.log.lock().unwrap().push(request);
    shared.changed.notify_waiters();
    match action {
        Action::Respond(response) => respond(&mut socket, response, &shared).await,
        Action::Drop => {}
        Action::Hang => {
            // Keep the connection open; end when the client closes it.
            let mut buf = [0u8; 1024];
            while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        Action::Raw(bytes) => {
            let _ = socket.write_all(&bytes).await;
        }
    }
    let _ = socket.shutdown().await;
}

/// Reads one request head (≤ 64 KiB) and its `Content-Length` body (≤ 1 MiB).
async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if data.len() > 64 * 1024 {
            return None;
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let at = Instant::now();
    let wall = SystemTime::now();
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Request {
        method,
        path,
        headers,
        body,
        at,
        wall,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

async fn respond(socket: &mut TcpStream, response: Response, shared: &Shared) {
    tokio::time::sleep(response.delay).await;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("connection: close\r\n");
    match &response.body {
        Body::Bytes(bytes) => match response.length {
            Length::True => head.push_str(&format!("content-length: {}\r\n", bytes.len())),
            Length::Lie(n) => head.push_str(&format!("content-length: {n}\r\n")),
            Length::Omit => {}
        },
        Body::Trickle { bytes, .. } => {
            head.push_str(&format!("content-length: {}\r\n", bytes.len()))
        }
        Body::Huge {
            len,
            declared: true,
        } => head.push_str(&format!("content-length: {len}\r\n")),
        Body::Huge { .. } | Body::EndlessChunked { .. } => {
            head.push_str("transfer-encoding: chunked\r\n")
        }
    }
    head.push_str("\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    match response.body {
        Body::Bytes(bytes) => {
            let _ = socket.write_all(&bytes).await;
        }
        Body::Trickle { bytes, every } => {
            for b in bytes {
                if socket.write_all(&[b]).await.is_err() || socket.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }
        Body::Huge { len, declared } => {
            let block = vec![b'x'; 64 * 1024];
            let mut sent = 0u64;
            while sent < len {
                let n = (len - sent).min(block.len() as u64) as usize;
                let ok = if declared {
                    socket.write_all(&block[..n]).await.is_ok()
                } else {
                    let mut chunk = format!("{n:x}\r\n").into_bytes();
                    chunk.extend_from_slice(&block[..n]);
                    chunk.extend_from_slice(b"\r\n");
                    socket.write_all(&chunk).await.is_ok()
                };
                if !ok {
                    break;
                }
                sent += n as u64;
                shared.huge_bytes_sent.store(sent, Ordering::SeqCst);
            }
            if !declared && sent == len {
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
        }
        Body::EndlessChunked { every } => loop {
            if socket.write_all(b"1\r\n \r\n").await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        },
    }
}
