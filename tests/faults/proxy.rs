//! A loopback TCP proxy that injects faults between the app and a service (PostgreSQL,
//! Redis, Meilisearch): `pass`, `down` (new connections are accepted and reset at once, so
//! clients see "connection refused/reset" straight away), `reset_peer` (every open connection
//! is reset with an RST) and `latency` (each chunk the service sends back is held for a
//! while). It runs on its own thread and runtime, so a test that blocks never stalls it.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

struct Ctl {
    down: AtomicBool,
    latency_ms: AtomicU64,
    reset: watch::Sender<u64>,
    stop: watch::Sender<bool>,
    accepted: AtomicU64,
    refused: AtomicU64,
}

pub struct Proxy {
    pub port: u16,
    ctl: Arc<Ctl>,
}

impl Proxy {
    /// A proxy on a free loopback port forwarding to `upstream`.
    pub fn start(name: &'static str, upstream: SocketAddr) -> Proxy {
        let std_listener = StdListener::bind("127.0.0.1:0").expect("bind proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let port = std_listener.local_addr().expect("proxy addr").port();
        let ctl = Arc::new(Ctl {
            down: AtomicBool::new(false),
            latency_ms: AtomicU64::new(0),
            reset: watch::channel(0).0,
            stop: watch::channel(false).0,
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let c = ctl.clone();
        std::thread::Builder::new()
            .name(format!("proxy-{name}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("proxy runtime");
                rt.block_on(accept_loop(std_listener, upstream, c));
            })
            .expect("proxy thread");
        Proxy { port, ctl }
    }

    /// Everything passes (and no added latency).
    pub fn pass(&self) {
        self.ctl.latency_ms.store(0, Ordering::SeqCst);
        self.ctl.down.store(false, Ordering::SeqCst);
    }

    /// New connections are reset as soon as they arrive.
    pub fn down(&self) {
        self.ctl.down.store(true, Ordering::SeqCst);
    }

    /// Every open connection is reset (RST) now.
    pub fn reset_peer(&self) {
        self.ctl.reset.send_modify(|g| *g += 1);
    }

    /// Each chunk from the service is held this long before it is passed on.
    pub fn latency(&self, d: Duration) {
        self.ctl.latency_ms.store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// (connections accepted, connections refused while down).
    pub fn counts(&self) -> (u64, u64) {
        (self.ctl.accepted.load(Ordering::SeqCst), self.ctl.refused.load(Ordering::SeqCst))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.ctl.stop.send(true);
        self.reset_peer();
    }
}

async fn accept_loop(listener: StdListener, upstream: SocketAddr, ctl: Arc<Ctl>) {
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    let mut stop = ctl.stop.subscribe();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let Ok((client, _)) = accepted else { continue };
        if ctl.down.load(Ordering::SeqCst) {
            ctl.refused.fetch_add(1, Ordering::SeqCst);
            let _ = client.set_zero_linger();
            drop(client);
            continue;
        }
        ctl.accepted.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(pipe(client, upstream, ctl.clone()));
    }
}

async fn pipe(mut client: TcpStream, upstream: SocketAddr, ctl: Arc<Ctl>) {
    let mut reset = ctl.reset.subscribe();
    let mut stop = ctl.stop.subscribe();
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let was_reset = {
        let (mut cr, mut cw) = client.split();
        let (mut sr, mut sw) = server.split();
        let up = async {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        };
        let latency = &ctl.latency_ms;
        let down = async {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match sr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        let ms = latency.load(Ordering::SeqCst);
                        if ms > 0 {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                        }
                        if cw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        };
        tokio::select! {
            _ = up => false,
            _ = down => false,
            _ = reset.changed() => true,
            _ = stop.changed() => true,
        }
    };
    if was_reset {
        let _ = client.set_zero_linger();
        let _ = server.set_zero_linger();
    }
}
