//! `tradeport demo`: database, migrations, demo suppliers from `tenants/`, an operator,
//! printed URLs and logins, then the server. Safe to run again.

use std::path::PathBuf;

use anyhow::anyhow;

use super::{database, migrate, operator, serve};
use crate::config::Settings;
use crate::platform::{manifest, onboarding, tenants};

pub const OPERATOR_EMAIL: &str = "operator@tradeport.local";
pub const OPERATOR_PASSWORD: &str = "operator-demo";

pub fn run(settings: Settings) -> anyhow::Result<()> {
    if database::ensure_database(&settings.database)? {
        println!("created database");
    }
    migrate::run(&settings)?;
    let mut conn = database::connect(&settings.database)?;
    let url = settings.platform_url();
    let mut logins = vec![format!("  operator      {OPERATOR_EMAIL} / {OPERATOR_PASSWORD}   {url}/platform")];
    for dir in manifest_dirs()? {
        let (req, logo) = manifest::load(&dir)?;
        let existing = tenants::find_by_slug(&mut conn, &req.slug).map_err(|e| anyhow!("{e}"))?;
        if existing.is_none() {
            onboarding::onboard(
                &mut conn,
                &req,
                logo,
                &onboarding::OnboardContext { platform_url: &url, actor_account_id: None, fail_at: None },
            )
            .map_err(|e| anyhow!("cannot load demo tenant {}: {}", req.slug, operator::describe(e)))?;
            println!("loaded demo tenant {}", req.slug);
        }
        logins.push(format!(
            "  {:<13} {} / {}   {url}/s/{}/  (or http://{}.{}:{})",
            req.slug,
            req.admin_email,
            req.admin_password.as_deref().unwrap_or("(existing password)"),
            req.slug,
            req.slug,
            settings.server.base_domain,
            settings.server.bind.rsplit(':').next().unwrap_or("8080"),
        ));
        if let Some(catalog) = crate::catalog::demo::load_file(&dir)? {
            let t = tenants::find_by_slug(&mut conn, &req.slug)
                .map_err(|e| anyhow!("{e}"))?
                .ok_or_else(|| anyhow!("demo tenant {} is missing", req.slug))?;
            let started = std::time::Instant::now();
            let (n, buyers) = crate::db::in_tenant(&mut conn, &t.schema, |c| {
                let n = crate::catalog::demo::seed(c, t.id, &catalog).map_err(crate::error::AppError::Internal)?;
                let buyers =
                    crate::catalog::demo::seed_buyers(c, &catalog).map_err(crate::error::AppError::Internal)?;
                Ok((n, buyers))
            })
            .map_err(|e| anyhow!("cannot load the demo catalog of {}: {e:?}", req.slug))?;
            if n > 0 {
                println!("loaded {n} demo products into {} ({:.1} s)", req.slug, started.elapsed().as_secs_f64());
            }
            for (email, password, group) in buyers {
                logins.push(format!("  {:<13} buyer {email} / {password} (price group {group})", req.slug));
            }
        }
    }
    for (slug, login, password) in DEMO_EXCHANGE {
        if let Some(t) = tenants::find_by_slug(&mut conn, slug).map_err(|e| anyhow!("{e}"))? {
            enable_exchange(&mut conn, &t.schema, login, password)?;
            logins.push(format!("  {slug:<13} 1C exchange {login} / {password}   {url}/s/{slug}/1c/exchange"));
        }
    }
    operator::ensure_operator(&mut conn, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Demo operator")?;
    drop(conn);
    println!("\nTradeport demo is running at {url}/\nLogins:\n{}\n", logins.join("\n"));
    serve::run(settings, true)
}

/// `tenants/*/tenant.toml`, in name order.
fn manifest_dirs() -> anyhow::Result<Vec<PathBuf>> {
    let root = crate::config::resource_path(std::path::Path::new("tenants"));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(|e| anyhow!("cannot read {}: {e}", root.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("tenant.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Demo stores whose 1C exchange is on, with the credentials to enter in 1C.
const DEMO_EXCHANGE: &[(&str, &str, &str)] = &[("okna-profi", "1c-okna-profi", "okna-1c-demo-pass")];

/// Turns the 1C exchange on with these credentials unless staff have set it up already.
fn enable_exchange(
    conn: &mut diesel::PgConnection,
    schema: &crate::db::TenantSchema,
    login: &str,
    password: &str,
) -> anyhow::Result<()> {
    use crate::exchange::onec::ExchangeOptions;
    crate::db::in_tenant(conn, schema, |c| {
        let mut o = ExchangeOptions::load(c)?;
        if o.login.is_empty() && o.password_hash.is_none() {
            o.enabled = true;
            o.login = login.to_owned();
            o.password_hash = Some(crate::identity::password::hash(password)?);
            o.save(c)?;
        }
        Ok(())
    })
    .map_err(|e| anyhow!("cannot set up the demo 1C exchange: {e:?}"))
}
