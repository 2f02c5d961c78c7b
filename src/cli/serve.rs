//! `tradeport serve`: the web server with the embedded job worker; `tradeport worker`: the job
//! worker alone, with `/healthz`, `/readyz` and `/metrics` on `worker.bind`.
//!
//! SIGTERM or SIGINT starts a graceful shutdown: `/readyz` answers 503 `shutting_down` at once
//! and the worker claims nothing more (jobs it claimed but has not started go back to the
//! queue at once; the one it runs finishes, within `worker.shutdown_timeout_secs`). The web
//! server keeps serving for `server.drain_secs`, so load balancers stop sending requests first;
//! then it closes its listener and in-flight requests get `server.shutdown_timeout_secs` to
//! finish. The process exits 0 (1 if a job was still running at its deadline).

use std::net::TcpListener;
use std::pin::pin;
use std::time::{Duration, Instant};

use actix_web::rt::signal::unix::{signal, SignalKind};
use anyhow::Context;
use futures_util::future::{select, Either};

use crate::app::{build_probe_server, build_server, AppState};
use crate::config::Settings;
use crate::web::Data;

pub fn run(settings: Settings, worker: bool) -> anyhow::Result<()> {
    let bind = settings.server.bind.clone();
    let state = AppState::build(settings, None)?;
    let listener = TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
    let metrics_listener = match state.settings.server.metrics_bind.as_deref() {
        Some(m) => Some(
            TcpListener::bind(m)
                .with_context(|| format!("cannot listen on {m} (server.metrics_bind, for /metrics)"))?,
        ),
        None => None,
    };
    actix_web::rt::System::new().block_on(async move {
        // Handlers first: a signal from here on is a graceful shutdown, never the default kill.
        let mut signals = Signals::install()?;
        let state = Data::new(state);
        let jobs = worker.then(|| actix_web::rt::spawn(crate::jobs::worker::run_forever(state.clone())));
        let server = build_server(state.clone(), listener)?;
        let handle = server.handle();
        let mut server = actix_web::rt::spawn(server);
        // /metrics (and probes) on their own port, out of the Ingress's reach; stopped with the
        // process.
        if let Some(listener) = metrics_listener {
            actix_web::rt::spawn(build_probe_server(state.clone(), listener)?);
        }
        tracing::info!(%bind, worker, metrics_bind = ?state.settings.server.metrics_bind, "tradeport listening");
        let name = match select(pin!(signals.next()), &mut server).await {
            Either::Left((name, _)) => name,
            // The server stopped by itself (it does not, short of an error).
            Either::Right((ended, _)) => return ended.map_err(anyhow::Error::from)?.map_err(anyhow::Error::from),
        };
        let started = Instant::now();
        let settings = &state.settings;
        let drain = Duration::from_secs(settings.server.drain_secs);
        tracing::info!(signal = name, drain_secs = drain.as_secs(), "shutting down: /readyz answers 503, draining");
        state.lifecycle.begin_shutdown();
        // A second signal cuts the drain short.
        select(pin!(actix_web::rt::time::sleep(drain)), pin!(signals.next())).await;
        tracing::info!(
            shutdown_timeout_secs = settings.server.shutdown_timeout_secs,
            "no longer accepting connections; finishing in-flight requests"
        );
        handle.stop(true).await;
        server.await.map_err(anyhow::Error::from)??;
        tracing::info!(secs = started.elapsed().as_secs_f64(), "web server stopped");
        if let Some(jobs) = jobs {
            wait_for_worker(jobs, started, settings.worker.shutdown_timeout_secs).await;
        }
        tracing::info!(secs = started.elapsed().as_secs_f64(), "tradeport stopped");
        Ok::<(), anyhow::Error>(())
    })
}

pub fn worker(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.worker.bind.clone();
    let state = AppState::build(settings, None)?;
    let listener =
        TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind} (worker.bind, for probes)"))?;
    // The address bound (port 0 picks a free one: several workers on one host, tests).
    let bind = listener.local_addr().map(|a| a.to_string()).unwrap_or(bind);
    actix_web::rt::System::new().block_on(async move {
        let mut signals = Signals::install()?;
        let state = Data::new(state);
        let probe = build_probe_server(state.clone(), listener)?;
        let handle = probe.handle();
        let probe = actix_web::rt::spawn(probe);
        let mut jobs = actix_web::rt::spawn(crate::jobs::worker::run_forever(state.clone()));
        tracing::info!(%bind, "tradeport worker running; probes and metrics on {bind}");
        let name = match select(pin!(signals.next()), &mut jobs).await {
            Either::Left((name, _)) => name,
            Either::Right(_) => anyhow::bail!("the job worker stopped unexpectedly"),
        };
        let started = Instant::now();
        tracing::info!(signal = name, "shutting down: /readyz answers 503, no more jobs claimed");
        state.lifecycle.begin_shutdown();
        wait_for_worker(jobs, started, state.settings.worker.shutdown_timeout_secs).await;
        handle.stop(true).await;
        let _ = probe.await;
        tracing::info!(secs = started.elapsed().as_secs_f64(), "tradeport worker stopped");
        Ok(())
    })
}

/// Waits for the worker to finish the job it runs, until `timeout_secs` after `started`; past
/// that the process exits with status 1 (the job's transaction is rolled back with its
/// connection, and the job comes back when its lease ends).
async fn wait_for_worker(jobs: actix_web::rt::task::JoinHandle<()>, started: Instant, timeout_secs: u64) {
    let left = Duration::from_secs(timeout_secs).saturating_sub(started.elapsed());
    match actix_web::rt::time::timeout(left, jobs).await {
        Ok(_) => tracing::info!(secs = started.elapsed().as_secs_f64(), "job worker finished"),
        Err(_) => {
            tracing::error!(
                timeout_secs,
                "a job was still running at worker.shutdown_timeout_secs; exiting without it (it is retried later)"
            );
            std::process::exit(1);
        }
    }
}

/// SIGTERM (Kubernetes, systemd) and SIGINT (Ctrl-C).
struct Signals {
    term: actix_web::rt::signal::unix::Signal,
    int: actix_web::rt::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        let term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        Ok(Signals { term, int })
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        match select(pin!(self.term.recv()), pin!(self.int.recv())).await {
            Either::Left(_) => "SIGTERM",
            Either::Right(_) => "SIGINT",
        }
    }
}
