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

    /// The outbox (committed mail) against what arrived, by the `Message-ID` the app gives
    /// each outbox row (`<tp-mail-ID@…>`): committed mail that never arrived (lost), mail that
    /// arrived more than once (duplicates a receiver drops by its id), mail whose row does not
    /// exist (it was written by a change that rolled back), order numbers in mail that no
    /// committed order has. `delivers_by_smtp` is false when nothing arrived and nothing in the
    /// outbox is marked sent: the build keeps mail in the outbox.
    pub fn check(&self, db: &FaultDb, schema: &str) -> Value {
        let got = self.messages();
        let outbox =
            db.rows("SELECT id, sent_at IS NOT NULL AS sent, failed_at IS NOT NULL AS failed FROM public.mail_outbox");
        let sent = outbox.iter().filter(|r| r["sent"] == true).count();
        let failed = outbox.iter().filter(|r| r["failed"] == true).count();
        if got.is_empty() && sent == 0 {
            return json!({"delivers_by_smtp": false, "outbox": outbox.len(), "received": 0, "lost": 0});
        }
        let mut by_id: BTreeMap<i64, usize> = BTreeMap::new();
        let mut without_id = 0;
        for m in &got {
            match message_row(&m.data) {
                Some(id) => *by_id.entry(id).or_insert(0) += 1,
                None => without_id += 1,
            }
        }
        let rows: std::collections::BTreeSet<i64> = outbox.iter().filter_map(|r| r["id"].as_i64()).collect();
        let lost = rows.iter().filter(|id| !by_id.contains_key(id)).count();
        let unknown_rows = by_id.keys().filter(|id| !rows.contains(id)).count();
        let duplicates: usize = by_id.values().map(|n| n - 1).sum();
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
        json!({"delivers_by_smtp": true, "outbox": rows.len(), "sent": sent, "given_up": failed,
               "received": got.len(), "distinct": by_id.len(), "lost": lost, "duplicates_absorbed": duplicates,
               "without_message_id": without_id, "from_rolled_back": unknown_rows + unknown_numbers})
    }
}

/// The outbox row id in a message's `Message-ID: <tp-mail-ID@…>`.
fn message_row(data: &str) -> Option<i64> {
    let head = data.split("\r\n\r\n").next().unwrap_or(data);
    let line = head.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:"))?;
    let rest = &line[line.find("tp-mail-")? + "tp-mail-".len()..];
    rest.split('@').next()?.trim().parse().ok()
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
        } else if ["HELO", "NOOP", "MAIL FROM", "RSET", "RCPT TO"].iter().any(|c| upper.starts_with(c)) {
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
            messages.lock().unwrap_or_else(|e| e.into_inner()).push(Message { data });
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
