//! `tradeport serve`: the web server. SIGTERM stops accepting, lets in-flight requests
//! finish (`server.shutdown_timeout_secs`), then exits.

use std::net::TcpListener;

use anyhow::Context;

use crate::app::{build_server, AppState};
use crate::config::Settings;
use crate::web::Data;

pub fn run(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.server.bind.clone();
    let state = AppState::build(settings, None)?;
    let listener = TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!(%bind, "tradeport listening");
    actix_web::rt::System::new().block_on(async move {
        let server = build_server(Data::new(state), listener)?;
        server.await
    })?;
    Ok(())
}
