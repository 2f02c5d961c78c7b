//! `tradeport search reindex [--tenant S]`: rebuilds search indexes (and the marketplace
//! listing) of one tenant or all of them, reporting one line per tenant.

use anyhow::anyhow;
use clap::Subcommand;

use crate::app::AppState;
use crate::config::Settings;
use crate::db::{in_tenant, read_platform};
use crate::platform::tenants;
use crate::search::{marketplace, Scope, SearchEngine};

#[derive(Subcommand, Debug)]
pub enum SearchCommand {
    /// Rebuild the search index of one tenant (`--tenant`) or of every tenant.
    Reindex {
        #[arg(long)]
        tenant: Option<String>,
    },
}

pub fn run(settings: Settings, cmd: SearchCommand) -> anyhow::Result<()> {
    let SearchCommand::Reindex { tenant } = cmd;
    let state = AppState::build(settings, None)?;
    actix_web::rt::System::new().block_on(async move {
        let list = read_platform(&state.pool, move |c| match tenant {
            Some(slug) => Ok(tenants::find_by_slug(c, &slug)?.into_iter().collect::<Vec<_>>()),
            None => tenants::list_all(c),
        })
        .await
        .map_err(|e| anyhow!("{e}"))?;
        if list.is_empty() {
            return Err(anyhow!("no such tenant"));
        }
        let mut failed = 0;
        for t in &list {
            let started = std::time::Instant::now();
            let (id, schema) = (t.id, t.schema.clone());
            let listed =
                read_platform(&state.pool, move |c| in_tenant(c, &schema, |c| marketplace::resync_all(c, id))).await;
            let scope = Scope { tenant_id: t.id, schema: t.schema.clone() };
            match (listed, state.search.reindex(&scope).await) {
                (Ok(m), Ok(n)) => println!(
                    "{}: {n} products indexed ({}), {m} listed on the marketplace ({:.1} s)",
                    t.slug,
                    state.search.name(),
                    started.elapsed().as_secs_f64()
                ),
                (Err(e), _) | (_, Err(e)) => {
                    failed += 1;
                    println!("{}: failed: {e}", t.slug);
                }
            }
        }
        if failed > 0 {
            Err(anyhow!("{failed} of {} tenants failed", list.len()))
        } else {
            Ok(())
        }
    })
}
