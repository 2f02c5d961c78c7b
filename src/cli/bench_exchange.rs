//! `tradeport bench exchange [--products N]`: the 1C import benchmark (issue 8,
//! docs/BENCHMARKS.md "1C catalog import"). Generates a CommerceML 2.07 package with
//! `scripts/gen_commerceml.py` when the directory lacks one of N products, recreates its own
//! database (`tradeport_bench_exchange`), onboards one tenant, imports import.xml then
//! offers.xml through `exchange::cml_import::import_file` (as the exchange job does), then
//! offers.xml again (nothing to change), and prints one JSON line: wall time per file, the
//! counts, and the process's peak RSS (VmHWM, the figure getrusage's ru_maxrss reports).

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use diesel::prelude::*;
use serde_json::json;

use super::bench::{bench_settings, recreate_database};
use super::operator::describe;
use crate::app::AppState;
use crate::config::Settings;
use crate::db::migrate::migrate_platform;
use crate::exchange::cml_import::import_file;
use crate::platform::onboarding::{self, OnboardContext, OnboardRequest};

/// Peak resident set of this process in MB (`VmHWM` of /proc/self/status).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// Generates the package unless `dir` holds one made for `products` already.
fn ensure_package(dir: &Path, products: usize) -> anyhow::Result<()> {
    let marker = dir.join(format!(".products-{products}"));
    if marker.exists() && dir.join("import.xml").exists() && dir.join("offers.xml").exists() {
        return Ok(());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen_commerceml.py");
    let status = std::process::Command::new("python3")
        .arg(&script)
        .args(["--products", &products.to_string(), "--out"])
        .arg(dir)
        .status()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !status.success() {
        bail!("{} failed", script.display());
    }
    std::fs::write(&marker, b"").context("cannot write the package marker")?;
    Ok(())
}

pub fn run(settings: &Settings, database: &str, products: usize, dir: &Path) -> anyhow::Result<()> {
    ensure_package(dir, products)?;
    let url = recreate_database(settings, database)?;
    let (s, _) = bench_settings(settings, database)?;
    let mut conn = PgConnection::establish(&url).map_err(|e| anyhow!("cannot connect to the bench database: {e}"))?;
    migrate_platform(&mut conn).map_err(|e| anyhow!("{e}"))?;
    let platform_url = settings.platform_url();
    let ctx = OnboardContext { platform_url: &platform_url, actor_account_id: None, fail_at: None };
    let req = OnboardRequest {
        slug: "exchange-bench".into(),
        name: "Обмен с 1С, бенч".into(),
        admin_email: "bench-admin@exchange.bench".into(),
        admin_password: Some("bench-admin-password".into()),
        ..Default::default()
    };
    let tenant =
        onboarding::onboard(&mut conn, &req, None, &ctx).map_err(|e| anyhow!("cannot onboard: {}", describe(e)))?;
    drop(conn);
    let state = AppState::build(s, None)?;
    let rss_before = peak_rss_mb();
    let files = ["import.xml", "offers.xml", "offers.xml"];
    let mut runs = Vec::new();
    actix_web::rt::System::new().block_on(async {
        for (i, name) in files.iter().enumerate() {
            let started = Instant::now();
            let report = import_file(&state, tenant.id, &tenant.schema, name, &dir.join(name), dir)
                .await
                .map_err(|e| anyhow!("{name}: {e}"))?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!("bench: {name}{}: {secs:.1} s, {}", if i == 2 { " (again)" } else { "" }, report.summary());
            runs.push(json!({"file": name, "again": i == 2, "seconds": (secs * 10.0).round() / 10.0,
                "counts": report.counts, "warnings": report.warnings.len(), "peak_rss_mb": peak_rss_mb().round()}));
        }
        anyhow::Ok(())
    })?;
    let first_two: f64 = runs.iter().take(2).filter_map(|r| r["seconds"].as_f64()).sum();
    println!(
        "{}",
        json!({"bench": "exchange", "products": products, "price_types": 5, "warehouses": 10,
               "files": runs, "import_and_offers_seconds": (first_two * 10.0).round() / 10.0,
               "rss_before_import_mb": rss_before.round(), "peak_rss_mb": peak_rss_mb().round(),
               "profile": if cfg!(debug_assertions) { "debug" } else { "release" }})
    );
    Ok(())
}
