//! A local SMTP sink (enough of RFC 5321 for a client that sends mail: greeting, EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT) that keeps every message. T15 gives its address as
//! `SMTP_URL`; a build that delivers mail by SMTP sends the outbox there, a build that keeps
//! mail in the outbox sends nothing, and the test reports which it saw.

use std::collections::BTreeMap;
use std::net::TcpListener as StdListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::FaultDb;

#[derive(Clone, Debug)]
pub struct Message {
    pub to: Vec<String>,
    pub data: String,
}

pub struct Sink {
    pub url: String,
    messages: Arc<Mutex<Vec<Message>>>,
}

impl Sink {
    pub fn start() -> Sink {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind smtp");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let m = messages.clone();
        std::thread::Builder::new()
            .name("smtp-sink".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("listener");
                    while let Ok((conn, _)) = listener.accept().await {
                        tokio::spawn(session(conn, m.clone()));
                    }
                });
            })
            .expect("smtp thread");
        Sink { url: format!("smtp://127.0.0.1:{port}"), messages }
    }

    pub fn messages(&self) -> Vec<Message> {
        self.messages.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The outbox (committed mail) against what arrived: per recipient, messages missing and
    /// messages beyond the outbox's; order numbers mentioned that no committed order has
    /// (mail of a rolled-back order). `delivers_by_smtp` is false when nothing arrived and
    /// nothing in the outbox is marked sent: the build keeps mail in the outbox.
    pub fn check(&self, db: &FaultDb, schema: &str) -> Value {
        let got = self.messages();
        let outbox =
            db.rows("SELECT to_email, count(*) AS n, count(sent_at) AS sent FROM public.mail_outbox GROUP BY to_email");
        let sent: i64 = outbox.iter().map(|r| r["sent"].as_i64().unwrap_or(0)).sum();
        let committed: i64 = outbox.iter().map(|r| r["n"].as_i64().unwrap_or(0)).sum();
        if got.is_empty() && sent == 0 {
            return json!({"delivers_by_smtp": false, "outbox": committed, "received": 0, "lost": 0});
        }
        let mut received: BTreeMap<String, i64> = BTreeMap::new();
        for m in &got {
            for to in &m.to {
                *received.entry(to.to_lowercase()).or_insert(0) += 1;
            }
        }
        let mut lost = 0;
        let mut extra = 0;
        for r in &outbox {
            let to = r["to_email"].as_str().unwrap_or("").to_lowercase();
            let want = r["n"].as_i64().unwrap_or(0);
            let have = received.remove(&to).unwrap_or(0);
            lost += (want - have).max(0);
            extra += (have - want).max(0);
        }
        extra += received.values().sum::<i64>();
        let numbers: std::collections::BTreeSet<String> = db
            .rows(&format!("SELECT number FROM {schema}.orders"))
            .iter()
            .filter_map(|r| r["number"].as_str().map(str::to_owned))
            .collect();
        let unknown_numbers = got
            .iter()
            .flat_map(|m| order_numbers(&decoded(&m.data)))
            .filter(|n| !numbers.contains(n))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        json!({"delivers_by_smtp": true, "outbox": committed, "received": got.len(), "lost": lost,
               "beyond_outbox": extra, "mail_of_unknown_orders": unknown_numbers})
    }
}

/// The message text with base64 parts and encoded words decoded (best effort).
fn decoded(data: &str) -> String {
    let mut out = data.to_owned();
    let b64 = base64::engine::general_purpose::STANDARD;
    for token in data.split(|c: char| c.is_whitespace() || c == '?') {
        if token.len() >= 8 {
            if let Ok(bytes) = b64.decode(token) {
                out.push('\n');
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    let joined: String = data.lines().map(str::trim).collect();
    if let Ok(bytes) = b64.decode(joined.trim()) {
        out.push_str(&String::from_utf8_lossy(&bytes));
    }
    out
}

/// `Z-000123`-style order numbers in a text.
fn order_numbers(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut v = Vec::new();
    for i in 0..b.len().saturating_sub(7) {
        if b[i] == b'Z' && b[i + 1] == b'-' && b[i + 2..i + 8].iter().all(u8::is_ascii_digit) {
            v.push(text[i..i + 8].to_owned());
        }
    }
    v
}

async fn session(conn: TcpStream, messages: Arc<Mutex<Vec<Message>>>) {
    let (r, mut w) = conn.into_split();
    let mut lines = BufReader::new(r);
    let mut to = Vec::new();
    if w.write_all(b"220 faults-sink ESMTP\r\n").await.is_err() {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        match tokio::time::timeout(Duration::from_secs(60), lines.read_line(&mut line)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) => {}
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-faults-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 OK\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") || upper.starts_with("MAIL FROM") {
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO") {
            let addr = cmd.split_once(':').map(|(_, a)| a).unwrap_or("");
            let addr = addr.split_whitespace().next().unwrap_or("").trim_matches(|c| c == '<' || c == '>');
            to.push(addr.to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            if w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.is_err() {
                return;
            }
            let mut data = String::new();
            loop {
                line.clear();
                match lines.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
            }
            messages.lock().unwrap_or_else(|e| e.into_inner()).push(Message { to: std::mem::take(&mut to), data });
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = w.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"502 not implemented\r\n"
        };
        if w.write_all(reply).await.is_err() {
            return;
        }
    }
}
