//! `tradeport serve`: the web server with the embedded job worker. SIGTERM stops accepting,
//! lets in-flight requests finish (`server.shutdown_timeout_secs`), then exits.
//! `tradeport worker`: the job worker alone.

use std::net::TcpListener;

use anyhow::Context;

use crate::app::{build_server, AppState};
use crate::config::Settings;
use crate::web::Data;

pub fn run(settings: Settings, worker: bool) -> anyhow::Result<()> {
    let bind = settings.server.bind.clone();
    let state = AppState::build(settings, None)?;
    let listener = TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!(%bind, worker, "tradeport listening");
    actix_web::rt::System::new().block_on(async move {
        let state = Data::new(state);
        if worker {
            actix_web::rt::spawn(crate::jobs::worker::run_forever(state.clone()));
        }
        let server = build_server(state, listener)?;
        server.await
    })?;
    Ok(())
}

pub fn worker(settings: Settings) -> anyhow::Result<()> {
    let state = Data::new(AppState::build(settings, None)?);
    tracing::info!("tradeport worker running");
    actix_web::rt::System::new().block_on(crate::jobs::worker::run_forever(state));
    Ok(())
}
