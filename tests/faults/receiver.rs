//! A local webhook receiver that counts deliveries by their `Tradeport-Delivery` id (an
//! idempotent consumer: a delivery seen again is a duplicate absorbed, not a second effect).
//! Plain HTTP/1.1 on its own thread; it answers 200 to every well-formed POST.

use std::collections::BTreeMap;
use std::net::TcpListener as StdListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
pub struct Seen {
    /// Delivery id → (times received, the event body).
    pub deliveries: BTreeMap<String, (u32, Value)>,
}

pub struct Receiver {
    pub url: String,
    seen: Arc<Mutex<Seen>>,
    delay_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind receiver");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let delay_ms = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (s, d) = (seen.clone(), delay_ms.clone());
        std::thread::Builder::new()
            .name("webhook-receiver".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("listener");
                    while let Ok((conn, _)) = listener.accept().await {
                        tokio::spawn(serve(conn, s.clone(), d.clone()));
                    }
                });
            })
            .expect("receiver thread");
        Receiver { url: format!("http://127.0.0.1:{port}/hooks"), seen, delay_ms }
    }

    /// Takes this long to answer each delivery (after recording it), like a busy consumer:
    /// a worker killed meanwhile has sent it but not marked it done.
    pub fn set_delay(&self, d: Duration) {
        self.delay_ms.store(d.as_millis() as u64, std::sync::atomic::Ordering::SeqCst);
    }

    /// (distinct deliveries, total requests, events by delivery id).
    pub fn snapshot(&self) -> (usize, u64, BTreeMap<String, (u32, Value)>) {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let total = seen.deliveries.values().map(|(n, _)| u64::from(*n)).sum();
        (seen.deliveries.len(), total, seen.deliveries.clone())
    }
}

async fn serve(mut conn: TcpStream, seen: Arc<Mutex<Seen>>, delay_ms: Arc<std::sync::atomic::AtomicU64>) {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    // Headers.
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        match tokio::time::timeout(Duration::from_secs(30), conn.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let len: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_end + len {
        match tokio::time::timeout(Duration::from_secs(30), conn.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body: Value = serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or(Value::Null);
    if let Some(id) = header("tradeport-delivery") {
        let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
        let e = s.deliveries.entry(id).or_insert((0, body));
        e.0 += 1;
    }
    let ms = delay_ms.load(std::sync::atomic::Ordering::SeqCst);
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    let _ = conn.shutdown().await;
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
