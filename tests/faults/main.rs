//! The fault suite (SECURITY.md T11–T15, T19): the real `tradeport` binary on its own database,
//! with PostgreSQL, Redis and Meilisearch reached through fault-injecting proxies, a worker
//! killed at random, a server stopped with SIGTERM. Each test prints one JSON figure line.
//! Out of the default run (minutes each, real processes): `bench/faults.sh`, or
//! `cargo test --test faults -- --ignored --nocapture --test-threads 1`.

mod checkout;
mod harness;
mod meili;
mod proxy;
mod receiver;
mod smtp;
mod store;
mod t11_postgres;
mod t12_sigterm;
mod t13_redis;
mod t14_meili;
mod t15_worker;
mod t19_import;

/// The harness itself, quickly and in the default run: the proxy passes, refuses and
/// resets connections as the faults need.
#[test]
fn the_proxy_passes_refuses_and_resets() {
    harness::run(async {
        use std::time::Duration;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("echo");
        let addr = echo.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut c, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = c.read(&mut buf).await {
                        if n == 0 || c.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let p = proxy::Proxy::start("echo", addr);
        let target = format!("127.0.0.1:{}", p.port);
        let mut c = tokio::net::TcpStream::connect(&target).await.expect("connect");
        c.write_all(b"ping").await.expect("write");
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"ping");
        // Latency holds the answer.
        p.latency(Duration::from_millis(300));
        let t = std::time::Instant::now();
        c.write_all(b"slow").await.expect("write");
        c.read_exact(&mut buf).await.expect("read");
        assert!(t.elapsed() >= Duration::from_millis(290), "{:?}", t.elapsed());
        // reset_peer kills the open connection.
        p.pass();
        p.reset_peer();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let r = async {
            c.write_all(b"more").await?;
            c.read_exact(&mut buf).await
        };
        assert!(tokio::time::timeout(Duration::from_secs(2), r).await.expect("no hang").is_err(), "reset");
        // down: new connections are reset at once; pass: they work again.
        p.down();
        let r = async {
            let mut d = tokio::net::TcpStream::connect(&target).await?;
            d.write_all(b"x").await?;
            d.read_exact(&mut buf[..1]).await
        };
        assert!(tokio::time::timeout(Duration::from_secs(2), r).await.expect("no hang").is_err(), "refused");
        p.pass();
        let mut e = tokio::net::TcpStream::connect(&target).await.expect("connect");
        e.write_all(b"back").await.expect("write");
        e.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"back");
        assert_eq!(p.counts(), (2, 1));
    });
}
