//! localstripe for the card payment tests, and a small loopback proxy in front of it that
//! records what the Stripe client sends and injects faults (T17).
//!
//! localstripe (PyPI) is a stateful Stripe emulator; it does not implement Connect (no
//! accounts, and it refuses `application_fee_amount`) nor idempotency keys. The proxy
//! therefore (a) records every request's headers and body as the client sent them, (b) can
//! strip named form fields before forwarding, and (c) answers a request whose
//! `Idempotency-Key` it forwarded before with the answer localstripe gave then, as Stripe
//! does for 24 hours, so "a retry reuses the key" is observable as "one PaymentIntent".

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The localstripe base URL, starting it on loopback if needed; `None` (with the reason
/// printed) only when it cannot be reached or started.
pub fn localstripe() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        let port: u16 = std::env::var("LOCALSTRIPE_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8420);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let up = || std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok();
        if !up() {
            let spawn = |program: &str, args: &[&str]| {
                Command::new(program)
                    .args(args)
                    .args(["--port", &port.to_string()])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
            };
            let started = spawn("localstripe", &[]).or_else(|_| spawn("python3", &["-m", "localstripe"]));
            if let Err(e) = started {
                println!("SKIPPED: localstripe is not running on {addr} and cannot be started ({e}); `pip install localstripe`");
                return None;
            }
            for _ in 0..100 {
                if up() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if up() {
            Some(format!("http://{addr}"))
        } else {
            println!("SKIPPED: localstripe did not start on {addr} within 10 s");
            None
        }
    })
    .clone()
}

/// A request as the client sent it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// What the proxy does with the n-th connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Forward,
    /// Forward, keep localstripe's answer for the key, but never answer the client.
    ForwardThenHang,
    /// Close the connection at once (Stripe unreachable).
    Reset,
}

#[derive(Default)]
struct Shared {
    seen: Vec<Seen>,
    replies: HashMap<String, Vec<u8>>,
    connections: usize,
}

pub struct Proxy {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (`http://host:port`); `faults[i]` for connection i, then
    /// `Forward`; form fields named in `strip` are removed before forwarding.
    pub async fn start(upstream: &str, faults: Vec<Fault>, strip: &'static [&'static str]) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let s = shared.clone();
        tokio::spawn(async move {
            // Bounded: a test makes a handful of requests.
            for _ in 0..200 {
                let Ok((conn, _)) = listener.accept().await else { return };
                let n = {
                    let mut g = s.lock().unwrap_or_else(|e| e.into_inner());
                    g.connections += 1;
                    g.connections - 1
                };
                let fault = faults.get(n).copied().unwrap_or(Fault::Forward);
                tokio::spawn(serve(conn, fault, upstream.clone(), strip, s.clone()));
            }
        });
        Proxy { url, shared }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).seen.clone()
    }
}

async fn read_request(conn: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = conn.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some((head, buf[end + 4..end + 4 + length].to_vec()));
        }
        let n = conn.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn serve(mut conn: TcpStream, fault: Fault, upstream: String, strip: &[&str], s: Arc<Mutex<Shared>>) {
    if fault == Fault::Reset {
        return; // dropped: the client sees the connection closed
    }
    let Some((head, body)) = read_request(&mut conn).await else { return };
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default().to_owned();
    let mut parts = first.split(' ');
    let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())))
        .collect();
    let body = String::from_utf8_lossy(&body).into_owned();
    let key = headers.get("idempotency-key").cloned();
    s.lock().unwrap_or_else(|e| e.into_inner()).seen.push(Seen {
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let cached = key.as_ref().and_then(|k| s.lock().unwrap_or_else(|e| e.into_inner()).replies.get(k).cloned());
    let reply = match cached {
        Some(r) => r,
        None => {
            let kept: Vec<&str> = body
                .split('&')
                .filter(|p| !p.is_empty() && !strip.iter().any(|f| p.split('=').next() == Some(*f)))
                .collect();
            let body = kept.join("&");
            let mut out =
                format!("{first}\r\nHost: {upstream}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
            for (k, v) in &headers {
                if !matches!(k.as_str(), "host" | "connection" | "content-length") {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let Ok(mut up) = TcpStream::connect(&upstream).await else { return };
            if up.write_all(out.as_bytes()).await.is_err() {
                return;
            }
            let mut reply = Vec::new();
            if up.read_to_end(&mut reply).await.is_err() {
                return;
            }
            let ok = reply.starts_with(b"HTTP/1.1 2") || reply.starts_with(b"HTTP/1.0 2");
            if let (Some(k), true) = (key, ok) {
                s.lock().unwrap_or_else(|e| e.into_inner()).replies.insert(k, reply.clone());
            }
            reply
        }
    };
    if fault == Fault::ForwardThenHang {
        // Hold the connection silent until the client gives up.
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    }
    let _ = conn.write_all(&reply).await;
    let _ = conn.shutdown().await;
}

/// A form-encoded call to localstripe (what Stripe.js and the dashboard would do).
pub async fn stripe_call(
    base: &str,
    method: awc::http::Method,
    path: &str,
    form: &[(&str, &str)],
) -> serde_json::Value {
    let client = awc::Client::default();
    let req = client
        .request(method, format!("{base}{path}"))
        .insert_header(("Authorization", "Bearer sk_test_tradeport"))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
    let sent = if form.is_empty() {
        req.send().await
    } else {
        req.send_body(serde_urlencoded::to_string(form).expect("form")).await
    };
    let mut res = sent.expect("localstripe answers");
    let bytes = res.body().limit(4 * 1024 * 1024).await.expect("body");
    serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
}

/// Every PaymentIntent localstripe holds for card payment `attempt` of store `tenant`.
pub async fn intents_for(base: &str, tenant: &str, attempt: i64) -> Vec<String> {
    let (mut found, mut after, attempt) = (Vec::new(), String::new(), attempt.to_string());
    for _ in 0..1000 {
        let mut path = "/v1/payment_intents?limit=100".to_owned();
        if !after.is_empty() {
            path.push_str(&format!("&starting_after={after}"));
        }
        let page = stripe_call(base, awc::http::Method::GET, &path, &[]).await;
        let items = page["data"].as_array().cloned().unwrap_or_default();
        for pi in &items {
            let m = &pi["metadata"];
            if m["tradeport_tenant"] == tenant && m["tradeport_payment"].as_str() == Some(attempt.as_str()) {
                found.push(pi["id"].as_str().unwrap_or_default().to_owned());
            }
        }
        match (page["has_more"].as_bool(), items.last()) {
            (Some(true), Some(last)) => after = last["id"].as_str().unwrap_or_default().to_owned(),
            _ => break,
        }
    }
    found
}
