//! Tenants as stored in `public.tenants`, their domains, and the operator's changes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::features::{self, Feature, Overrides, Plan};
use crate::db::schema_platform::{tenant_domains, tenants};
use crate::db::TenantSchema;
use crate::error::{AppError, AppResult, FieldErrors};

/// Languages the platform has translations for.
pub const SUPPORTED_LOCALES: &[&str] = &["ru", "en"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortalMode {
    Open,
    Closed,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }
}

impl PortalMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PortalMode::Open => "open",
            PortalMode::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<PortalMode> {
        match s {
            "open" => Some(PortalMode::Open),
            "closed" => Some(PortalMode::Closed),
            _ => None,
        }
    }
}

/// Storefront branding: colours become CSS variables, so they are validated strictly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Branding {
    pub primary_color: String,
    pub accent_color: String,
    pub tagline: String,
}

impl Default for Branding {
    fn default() -> Self {
        Branding { primary_color: "#1f5fa8".into(), accent_color: "#f29f05".into(), tagline: String::new() }
    }
}

impl Branding {
    pub fn validate(&self, errors: &mut FieldErrors) {
        for (field, value) in
            [("branding.primary_color", &self.primary_color), ("branding.accent_color", &self.accent_color)]
        {
            if !is_hex_color(value) {
                errors.insert(field.into(), "must be a colour like #1f5fa8".into());
            }
        }
        if self.tagline.chars().count() > 200 {
            errors.insert("branding.tagline".into(), "must be at most 200 characters".into());
        }
    }
}

pub fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
struct TenantRow {
    id: i64,
    slug: String,
    schema_name: String,
    name: String,
    status: String,
    mode: String,
    locales: Vec<String>,
    default_locale: String,
    plan: String,
    features: serde_json::Value,
    branding: serde_json::Value,
    logo_mime: Option<String>,
    created_at: DateTime<Utc>,
}

/// A tenant as the rest of the code sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    pub id: i64,
    pub slug: String,
    #[serde(skip)]
    pub schema: TenantSchema,
    pub name: String,
    pub status: TenantStatus,
    pub mode: PortalMode,
    pub locales: Vec<String>,
    pub default_locale: String,
    pub plan: Plan,
    #[serde(skip)]
    pub overrides: Overrides,
    pub branding: Branding,
    pub has_logo: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = AppError;

    fn try_from(r: TenantRow) -> AppResult<Tenant> {
        let bad = |what: &str| AppError::Internal(anyhow::anyhow!("tenant {} has an invalid {what}", r.slug));
        Ok(Tenant {
            id: r.id,
            schema: TenantSchema::parse(&r.schema_name).map_err(|_| bad("schema"))?,
            status: match r.status.as_str() {
                "active" => TenantStatus::Active,
                "suspended" => TenantStatus::Suspended,
                _ => return Err(bad("status")),
            },
            mode: PortalMode::parse(&r.mode).ok_or_else(|| bad("mode"))?,
            plan: Plan::parse(&r.plan).ok_or_else(|| bad("plan"))?,
            overrides: features::parse_overrides(&r.features).map_err(|_| bad("feature set"))?,
            branding: serde_json::from_value(r.branding.clone()).map_err(|_| bad("branding"))?,
            has_logo: r.logo_mime.is_some(),
            slug: r.slug,
            name: r.name,
            locales: r.locales,
            default_locale: r.default_locale,
            created_at: r.created_at,
        })
    }
}

impl Tenant {
    pub fn has(&self, feature: Feature) -> bool {
        self.overrides.get(&feature).copied().unwrap_or_else(|| feature.default_for(self.plan))
    }

    pub fn is_active(&self) -> bool {
        self.status == TenantStatus::Active
    }

    /// The API/JSON view: effective features and explicit overrides.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["features"] = serde_json::json!(features::effective(self.plan, &self.overrides)
            .into_iter()
            .map(|(f, on)| (f.as_str(), on))
            .collect::<std::collections::BTreeMap<_, _>>());
        v["feature_overrides"] = features::overrides_to_json(&self.overrides);
        v["path"] = serde_json::json!(format!("/s/{}/", self.slug));
        v
    }
}

pub fn find_by_slug(conn: &mut PgConnection, slug: &str) -> AppResult<Option<Tenant>> {
    tenants::table
        .filter(tenants::slug.eq(slug))
        .select(TenantRow::as_select())
        .first(conn)
        .optional()?
        .map(Tenant::try_from)
        .transpose()
}

pub fn find_by_id(conn: &mut PgConnection, id: i64) -> AppResult<Option<Tenant>> {
    tenants::table.find(id).select(TenantRow::as_select()).first(conn).optional()?.map(Tenant::try_from).transpose()
}

/// The tenant owning a verified custom domain.
pub fn find_by_domain(conn: &mut PgConnection, host: &str) -> AppResult<Option<Tenant>> {
    tenants::table
        .inner_join(tenant_domains::table)
        .filter(tenant_domains::domain.eq(host.to_ascii_lowercase()))
        .filter(tenant_domains::verified_at.is_not_null())
        .select(TenantRow::as_select())
        .first(conn)
        .optional()?
        .map(Tenant::try_from)
        .transpose()
}

pub fn list_all(conn: &mut PgConnection) -> AppResult<Vec<Tenant>> {
    tenants::table
        .order(tenants::id.asc())
        .select(TenantRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Tenant::try_from)
        .collect()
}

/// Open, active suppliers that chose to be listed on the marketplace landing.
pub fn list_marketplace(conn: &mut PgConnection) -> AppResult<Vec<Tenant>> {
    Ok(tenants::table
        .filter(tenants::status.eq("active"))
        .filter(tenants::mode.eq("open"))
        .order(tenants::name.asc())
        .select(TenantRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Tenant::try_from)
        .collect::<AppResult<Vec<_>>>()?
        .into_iter()
        .filter(|t| t.has(Feature::MarketplaceListing))
        .collect())
}

pub fn logo(conn: &mut PgConnection, tenant_id: i64) -> AppResult<Option<(Vec<u8>, String)>> {
    let row: Option<(Option<Vec<u8>>, Option<String>)> =
        tenants::table.find(tenant_id).select((tenants::logo, tenants::logo_mime)).first(conn).optional()?;
    Ok(match row {
        Some((Some(bytes), Some(mime))) => Some((bytes, mime)),
        _ => None,
    })
}

/// An operator's change to a tenant (`PATCH /api/v1/platform/tenants/{slug}`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub status: Option<TenantStatus>,
    pub mode: Option<PortalMode>,
    pub plan: Option<Plan>,
    pub features: Option<serde_json::Value>,
    pub branding: Option<Branding>,
    pub locales: Option<Vec<String>>,
    pub default_locale: Option<String>,
    /// The operator form sends every feature: its overrides replace the stored ones.
    #[serde(skip)]
    pub replace_features: bool,
}

/// Validates locales: a non-empty subset of the supported ones, default among them.
pub fn check_locales(locales: &[String], default: &str, errors: &mut FieldErrors) {
    if locales.is_empty() || locales.iter().any(|l| !SUPPORTED_LOCALES.contains(&l.as_str())) {
        errors.insert("locales".into(), format!("choose from {}", SUPPORTED_LOCALES.join(", ")));
    } else if !locales.iter().any(|l| l == default) {
        errors.insert("default_locale".into(), "must be one of the tenant's locales".into());
    }
}

pub fn check_name(name: &str, errors: &mut FieldErrors) {
    let len = name.trim().chars().count();
    if len == 0 || len > 200 {
        errors.insert("name".into(), "must be 1 to 200 characters".into());
    }
}

/// Applies a patch; unknown slug → 404, invalid values → 422 and nothing changes.
pub fn update(conn: &mut PgConnection, slug: &str, patch: TenantPatch) -> AppResult<Tenant> {
    let current = find_by_slug(conn, slug)?.ok_or_else(|| AppError::not_found("tenant"))?;
    let mut errors = FieldErrors::new();
    if let Some(name) = &patch.name {
        check_name(name, &mut errors);
    }
    let overrides = match &patch.features {
        Some(v) => match features::parse_overrides(v) {
            Ok(mut o) if !patch.replace_features => {
                let mut merged = current.overrides.clone();
                merged.append(&mut o);
                Some(merged)
            }
            Ok(o) => Some(o),
            Err(e) => {
                errors.insert("features".into(), e);
                None
            }
        },
        None => None,
    };
    if let Some(b) = &patch.branding {
        b.validate(&mut errors);
    }
    let locales = patch.locales.clone().unwrap_or_else(|| current.locales.clone());
    let default_locale = patch.default_locale.clone().unwrap_or_else(|| {
        if locales.contains(&current.default_locale) {
            current.default_locale.clone()
        } else {
            locales.first().cloned().unwrap_or_default()
        }
    });
    check_locales(&locales, &default_locale, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    diesel::update(tenants::table.filter(tenants::id.eq(current.id)))
        .set((
            tenants::name.eq(patch.name.as_deref().map(str::trim).unwrap_or(&current.name)),
            tenants::status.eq(patch.status.unwrap_or(current.status).as_str()),
            tenants::mode.eq(patch.mode.unwrap_or(current.mode).as_str()),
            tenants::plan.eq(patch.plan.unwrap_or(current.plan).as_str()),
            tenants::features.eq(features::overrides_to_json(overrides.as_ref().unwrap_or(&current.overrides))),
            tenants::branding
                .eq(serde_json::to_value(patch.branding.as_ref().unwrap_or(&current.branding)).unwrap_or_default()),
            tenants::locales.eq(&locales),
            tenants::default_locale.eq(&default_locale),
            tenants::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    find_by_slug(conn, slug)?.ok_or_else(|| AppError::not_found("tenant"))
}

/// A custom domain of a tenant; it routes once verified.
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Domain {
    pub domain: String,
    pub verified: bool,
}

pub fn list_domains(conn: &mut PgConnection, tenant_id: i64) -> AppResult<Vec<Domain>> {
    Ok(tenant_domains::table
        .filter(tenant_domains::tenant_id.eq(tenant_id))
        .order(tenant_domains::domain.asc())
        .select((tenant_domains::domain, tenant_domains::verified_at.is_not_null()))
        .load(conn)?)
}

/// Checks a host name for use as a custom domain: not ours, not an address.
pub fn check_domain(input: &str, base_domain: &str) -> Result<String, String> {
    let domain = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && domain.parse::<std::net::IpAddr>().is_err();
    if !valid {
        return Err("must be a host name such as shop.example.com".into());
    }
    if domain == base_domain || domain.ends_with(&format!(".{base_domain}")) {
        return Err(format!("addresses under {base_domain} are assigned by slug"));
    }
    Ok(domain)
}

/// Adds a custom domain (409 if any tenant has it already).
pub fn add_domain(
    conn: &mut PgConnection,
    tenant_id: i64,
    domain: &str,
    base_domain: &str,
    verified: bool,
) -> AppResult<Domain> {
    let domain = check_domain(domain, base_domain).map_err(|e| AppError::field("domain", e))?;
    diesel::insert_into(tenant_domains::table)
        .values((
            tenant_domains::tenant_id.eq(tenant_id),
            tenant_domains::domain.eq(&domain),
            tenant_domains::verified_at.eq(verified.then(Utc::now)),
        ))
        .execute(conn)
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => AppError::conflict("domain_taken", format!("{domain} is already in use")),
            other => other,
        })?;
    Ok(Domain { domain, verified })
}

/// Marks a domain verified (the operator checked its DNS points at the platform).
pub fn verify_domain(conn: &mut PgConnection, tenant_id: i64, domain: &str) -> AppResult<()> {
    let n = diesel::update(tenant_domains::table)
        .filter(tenant_domains::tenant_id.eq(tenant_id))
        .filter(tenant_domains::domain.eq(domain.to_ascii_lowercase()))
        .set(tenant_domains::verified_at.eq(diesel::dsl::now))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("domain"));
    }
    Ok(())
}

pub fn remove_domain(conn: &mut PgConnection, tenant_id: i64, domain: &str) -> AppResult<()> {
    let n = diesel::delete(tenant_domains::table)
        .filter(tenant_domains::tenant_id.eq(tenant_id))
        .filter(tenant_domains::domain.eq(domain.to_ascii_lowercase()))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("domain"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_domain;

    #[test]
    fn custom_domains_are_host_names_outside_the_base_domain() {
        assert_eq!(check_domain(" Shop.Example.COM. ", "tradeport.test"), Ok("shop.example.com".into()));
        for bad in [
            "",
            "localhost",
            "127.0.0.1",
            "a..b",
            "-a.com",
            "a_b.com",
            "x.tradeport.test",
            "tradeport.test",
            "a b.com",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(check_domain(bad, "tradeport.test").is_err(), "{bad}");
        }
    }
}
