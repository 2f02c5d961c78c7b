//! `tradeport tenant create|list|suspend|resume|export|delete`.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::Subcommand;
use secrecy::ExposeSecret;

use super::database;
use super::operator::describe;
use crate::config::Settings;
use crate::platform::manifest;
use crate::platform::onboarding::{self, OnboardContext, OnboardRequest};
use crate::platform::tenant_lifecycle;
use crate::platform::tenants::{self, TenantPatch, TenantStatus};

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Onboard a supplier: schema, migrations, defaults and its first admin.
    Create {
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        admin_email: Option<String>,
        #[arg(long)]
        admin_password: Option<String>,
        #[arg(long)]
        mode: Option<String>,
        /// Comma-separated, e.g. ru,en; the first is the default language.
        #[arg(long)]
        locales: Option<String>,
        /// A tenant manifest folder (tenants/<dir>); the other flags override it.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// List tenants.
    List,
    /// Suspend a tenant: its storefront answers "temporarily unavailable".
    Suspend { slug: String },
    /// Resume a suspended tenant.
    Resume { slug: String },
    /// Export everything a tenant owns: its schema (pg_dump), its rows in `public` as JSON,
    /// its files and a README (docs/OPERATIONS.md, "Tenant export and deletion").
    Export {
        slug: String,
        /// A new or empty directory, or a file name ending in .tar.gz or .tgz.
        #[arg(long)]
        out: PathBuf,
        /// The pg_dump program (of the server's major version or newer).
        #[arg(long, default_value = "pg_dump")]
        pg_dump: String,
    },
    /// Delete a suspended tenant and all of its data: schema, rows in `public`, accounts that
    /// belong to no other store, files, search indexes. Rerun it to finish an interrupted one.
    Delete {
        slug: String,
        /// The slug again.
        #[arg(long)]
        confirm: Option<String>,
    },
}

pub fn run(settings: &Settings, cmd: TenantCommand) -> anyhow::Result<()> {
    let mut conn = database::connect(&settings.database)?;
    match cmd {
        TenantCommand::Create { slug, name, admin_email, admin_password, mode, locales, from } => {
            let (mut req, logo) = match &from {
                Some(dir) => manifest::load(dir)?,
                None => (OnboardRequest::default(), None),
            };
            if let Some(v) = slug {
                req.slug = v;
            }
            if let Some(v) = name {
                req.name = v;
            }
            if let Some(v) = admin_email {
                req.admin_email = v;
            }
            if admin_password.is_some() {
                req.admin_password = admin_password;
            }
            if mode.is_some() {
                req.mode = mode;
            }
            if let Some(l) = locales {
                let list: Vec<String> = l.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
                req.default_locale = list.first().cloned();
                req.locales = Some(list);
            }
            if req.slug.is_empty() || req.name.is_empty() || req.admin_email.is_empty() {
                return Err(anyhow!(
                    "--slug, --name and --admin-email are required (or --from a manifest that has them)"
                ));
            }
            let url = settings.platform_url();
            let t = onboarding::onboard(
                &mut conn,
                &req,
                logo,
                &OnboardContext { platform_url: &url, actor_account_id: None, fail_at: None },
            )
            .map_err(|e| anyhow!("cannot create tenant {}: {}", req.slug, describe(e)))?;
            println!(
                "tenant {} created: schema {}, {} portal, {}/s/{}/",
                t.slug,
                t.schema,
                t.mode.as_str(),
                url,
                t.slug
            );
        }
        TenantCommand::List => {
            let list = tenants::list_all(&mut conn).map_err(|e| anyhow!("{e}"))?;
            println!("{:<24} {:<10} {:<7} {:<11} {:<8} name", "slug", "status", "mode", "plan", "locales");
            for t in list {
                println!(
                    "{:<24} {:<10} {:<7} {:<11} {:<8} {}",
                    t.slug,
                    t.status.as_str(),
                    t.mode.as_str(),
                    t.plan.as_str(),
                    t.locales.join(","),
                    t.name
                );
            }
        }
        TenantCommand::Suspend { slug } => set_status(&mut conn, &slug, TenantStatus::Suspended)?,
        TenantCommand::Resume { slug } => set_status(&mut conn, &slug, TenantStatus::Active)?,
        TenantCommand::Export { slug, out, pg_dump } => {
            let url = settings.database.url.expose_secret().to_owned();
            let r = tenant_lifecycle::export(
                settings,
                &mut conn,
                &slug,
                &out,
                &tenant_lifecycle::ExportOptions { pg_dump: &pg_dump, database_url: &url },
            )
            .with_context(|| format!("cannot export tenant {slug}"))?;
            println!(
                "tenant {} exported to {}: schema {} ({} tables, {} rows, dump {} bytes), {} row(s) from {} public table(s), {} account(s), {} file(s) ({} bytes)",
                r.slug,
                r.out.display(),
                r.schema,
                r.schema_rows.len(),
                r.schema_rows.values().sum::<i64>(),
                r.dump_bytes,
                r.public_rows.values().sum::<usize>(),
                r.public_rows.len(),
                r.accounts,
                r.files,
                r.file_bytes
            );
        }
        TenantCommand::Delete { slug, confirm } => {
            let Some(confirm) = confirm else {
                return Err(anyhow!(
                    "deleting a tenant removes all of its data for good: repeat its slug with --confirm {slug} (suspend it first)"
                ));
            };
            let r = tenant_lifecycle::delete(settings, &mut conn, &slug, &confirm)
                .with_context(|| format!("cannot delete tenant {slug}"))?;
            println!("{}", r.summary());
        }
    }
    Ok(())
}

fn set_status(conn: &mut diesel::PgConnection, slug: &str, status: TenantStatus) -> anyhow::Result<()> {
    tenants::update(conn, slug, TenantPatch { status: Some(status), ..Default::default() })
        .map_err(|e| anyhow!("{}", describe(e)))
        .with_context(|| format!("cannot change tenant {slug}"))?;
    println!("tenant {slug} is {}", status.as_str());
    Ok(())
}
