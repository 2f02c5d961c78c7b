//! Onboarding a supplier: tenant row, schema, migrations, settings, first admin and the
//! welcome mail, all in one transaction. A failure at any step leaves nothing behind.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Deserialize;

use super::features::{self, Plan};
pub use super::logo::Logo;
use super::mail::{self, OutgoingMail};
use super::slug::Slug;
use super::tenants::{self, Branding, PortalMode, Tenant};
use crate::db::migrate::apply_tenant_migrations;
use crate::db::schema_platform::{audit_log, tenants as tenants_table};
use crate::db::tenant::{create_schema, in_tenant};
use crate::db::TenantSchema;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::accounts::{self, NewAccount};

/// `POST /api/v1/platform/tenants`, the operator form, and `tenant create` all build this.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnboardRequest {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub locales: Option<Vec<String>>,
    #[serde(default)]
    pub default_locale: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    pub admin_email: String,
    #[serde(default)]
    pub admin_password: Option<String>,
    #[serde(default)]
    pub admin_name: Option<String>,
    #[serde(default)]
    pub features: Option<serde_json::Value>,
    #[serde(default)]
    pub branding: Option<Branding>,
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
}

/// A step after which a test may make onboarding fail, to prove it leaves nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailPoint {
    AfterSchema,
    AfterAdmin,
}

/// Everything onboarding needs besides the request.
pub struct OnboardContext<'a> {
    pub platform_url: &'a str,
    pub actor_account_id: Option<i64>,
    pub fail_at: Option<FailPoint>,
}

struct Checked {
    slug: Slug,
    mode: PortalMode,
    plan: Plan,
    locales: Vec<String>,
    default_locale: String,
    overrides: features::Overrides,
    branding: Branding,
}

fn check(req: &OnboardRequest, logo: Option<&Logo>) -> Result<Checked, FieldErrors> {
    let mut errors = FieldErrors::new();
    let slug = Slug::parse(&req.slug).map_err(|e| errors.insert("slug".into(), e)).ok();
    tenants::check_name(&req.name, &mut errors);
    let mode = PortalMode::parse(req.mode.as_deref().unwrap_or("open")).unwrap_or_else(|| {
        errors.insert("mode".into(), "must be open or closed".into());
        PortalMode::Open
    });
    let plan = Plan::parse(req.plan.as_deref().unwrap_or("start")).unwrap_or_else(|| {
        errors.insert("plan".into(), "must be start, business or enterprise".into());
        Plan::Start
    });
    let locales = req.locales.clone().unwrap_or_else(|| vec!["ru".into(), "en".into()]);
    let default_locale = req.default_locale.clone().or_else(|| locales.first().cloned()).unwrap_or_default();
    tenants::check_locales(&locales, &default_locale, &mut errors);
    let overrides = match &req.features {
        Some(v) => features::parse_overrides(v).unwrap_or_else(|e| {
            errors.insert("features".into(), e);
            Default::default()
        }),
        None => Default::default(),
    };
    let branding = req.branding.clone().unwrap_or_default();
    branding.validate(&mut errors);
    let admin = NewAccount {
        email: &req.admin_email,
        name: req.admin_name.as_deref().unwrap_or("Administrator"),
        password: req.admin_password.as_deref(),
        is_operator: false,
    };
    accounts::validate_new(&admin, "admin_", &mut errors);
    for key in req.settings.keys() {
        let ok = !key.is_empty()
            && key.len() <= 64
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if !ok {
            errors.insert(format!("settings.{key}"), "setting names are lowercase letters, digits, '_' and '.'".into());
        }
    }
    if let Some(Err(e)) = logo.map(|l| Logo::sniff(l.bytes.clone())) {
        errors.insert("logo".into(), e);
    }
    match slug {
        Some(slug) if errors.is_empty() => {
            Ok(Checked { slug, mode, plan, locales, default_locale, overrides, branding })
        }
        _ => Err(errors),
    }
}

/// Onboards a tenant in one transaction; returns it as stored.
pub fn onboard(
    conn: &mut PgConnection,
    req: &OnboardRequest,
    logo: Option<Logo>,
    ctx: &OnboardContext<'_>,
) -> AppResult<Tenant> {
    let c = check(req, logo.as_ref()).map_err(AppError::Validation)?;
    let schema = TenantSchema::for_slug(&c.slug);
    conn.transaction(|conn| {
        if tenants::find_by_slug(conn, c.slug.as_str())?.is_some() {
            return Err(AppError::conflict("tenant_exists", format!("a tenant with slug '{}' already exists", c.slug)));
        }
        let tenant_id: i64 = diesel::insert_into(tenants_table::table)
            .values((
                tenants_table::slug.eq(c.slug.as_str()),
                tenants_table::schema_name.eq(schema.as_str()),
                tenants_table::name.eq(req.name.trim()),
                tenants_table::mode.eq(c.mode.as_str()),
                tenants_table::plan.eq(c.plan.as_str()),
                tenants_table::locales.eq(&c.locales),
                tenants_table::default_locale.eq(&c.default_locale),
                tenants_table::features.eq(features::overrides_to_json(&c.overrides)),
                tenants_table::branding.eq(serde_json::to_value(&c.branding).unwrap_or_default()),
                tenants_table::logo.eq(logo.as_ref().map(|l| l.bytes.as_slice())),
                tenants_table::logo_mime.eq(logo.as_ref().map(|l| l.mime.as_str())),
            ))
            .returning(tenants_table::id)
            .get_result(conn)
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict { .. } => {
                    AppError::conflict("tenant_exists", format!("a tenant with slug '{}' already exists", c.slug))
                }
                other => other,
            })?;
        create_schema(conn, &schema)?;
        let admin = in_tenant(conn, &schema, |conn| {
            apply_tenant_migrations(conn, &schema)?;
            if ctx.fail_at == Some(FailPoint::AfterSchema) {
                return Err(AppError::Internal(anyhow::anyhow!("injected failure after schema")));
            }
            for (key, value) in &req.settings {
                diesel::sql_query("INSERT INTO settings (key, value) VALUES ($1, $2)")
                    .bind::<diesel::sql_types::Text, _>(key)
                    .bind::<diesel::sql_types::Jsonb, _>(value)
                    .execute(conn)?;
            }
            let admin = find_or_create_admin(conn, req)?;
            diesel::sql_query("INSERT INTO staff (account_id, role) VALUES ($1, 'owner')")
                .bind::<diesel::sql_types::Int8, _>(admin.id)
                .execute(conn)?;
            Ok(admin)
        })?;
        if ctx.fail_at == Some(FailPoint::AfterAdmin) {
            return Err(AppError::Internal(anyhow::anyhow!("injected failure after admin")));
        }
        let store = format!("{}/s/{}/", ctx.platform_url, c.slug);
        mail::enqueue(
            conn,
            OutgoingMail {
                tenant_id: Some(tenant_id),
                to: &admin.email,
                subject: format!("Tradeport: {} is online / магазин {} открыт", req.name.trim(), req.name.trim()),
                text: format!(
                    "Your storefront {name} is ready at {store}\nSign in with {email}.\n\n\
                 Ваш магазин {name} готов: {store}\nВход: {email}.",
                    name = req.name.trim(),
                    email = admin.email
                ),
                links: vec![store.clone()],
            },
        )?;
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::tenant_id.eq(tenant_id),
                audit_log::account_id.eq(ctx.actor_account_id),
                audit_log::action.eq("tenant.onboarded"),
                audit_log::details.eq(serde_json::json!({"slug": c.slug.as_str(), "admin": admin.email})),
            ))
            .execute(conn)?;
        tenants::find_by_slug(conn, c.slug.as_str())?.ok_or_else(|| AppError::not_found("tenant"))
    })
}

/// The supplier's first admin: an existing account joins as owner (its password is never
/// changed); a new account needs a password.
fn find_or_create_admin(conn: &mut PgConnection, req: &OnboardRequest) -> AppResult<accounts::Account> {
    let email = accounts::normalize_email(&req.admin_email).map_err(|e| AppError::field("admin_email", e))?;
    if let Some((account, _)) = accounts::find_by_email(conn, &email)? {
        return Ok(account);
    }
    let Some(password) = req.admin_password.as_deref() else {
        return Err(AppError::field("admin_password", "required when the admin has no Tradeport account yet"));
    };
    accounts::create(
        conn,
        NewAccount {
            email: &email,
            name: req.admin_name.as_deref().unwrap_or("Administrator"),
            password: Some(password),
            is_operator: false,
        },
    )
}
