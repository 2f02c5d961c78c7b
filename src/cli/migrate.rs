//! `tradeport migrate`: platform first (abort on error), then every tenant in parallel.

use anyhow::bail;

use super::database;
use crate::config::Settings;
use crate::db::migrate::{self, MigrationLock};

pub fn run(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = database::connect(&settings.database)?;
    let mut lock =
        MigrationLock::acquire(&mut conn).map_err(|e| anyhow::anyhow!("cannot take the migration lock: {e}"))?;
    let applied = migrate::migrate_platform(lock.conn()).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("public: {} applied", applied.len());
    let workers = settings.database.migrate_workers.max(1);
    let pool = database::pool(&settings.database, workers as u32 + 1)?;
    let reports =
        migrate::migrate_all_tenants(&pool, workers, &|line| println!("{line}")).map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(lock);
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    let applied: usize = reports.iter().filter_map(|r| r.result.as_ref().ok()).sum();
    println!("{} tenants: {} migrations applied, {} failed", reports.len(), applied, failed);
    if failed > 0 {
        bail!("{failed} tenant(s) failed to migrate; see the lines marked FAILED above");
    }
    Ok(())
}
