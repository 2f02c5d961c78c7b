//! Tenant manifests (`tenants/<dir>/tenant.toml`): settings, branding, logo and feature
//! flags of a supplier, used by `tradeport demo` and `tenant create --from`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;

use super::onboarding::{Logo, OnboardRequest};
use super::tenants::Branding;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub locales: Option<Vec<String>>,
    #[serde(default)]
    pub default_locale: Option<String>,
    #[serde(default)]
    pub logo: Option<String>,
    #[serde(default)]
    pub branding: Option<Branding>,
    #[serde(default)]
    pub features: BTreeMap<String, bool>,
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    pub admin: ManifestAdmin,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestAdmin {
    pub email: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// Reads `dir/tenant.toml` (and its logo) into an onboarding request.
pub fn load(dir: &Path) -> anyhow::Result<(OnboardRequest, Option<Logo>)> {
    let path = dir.join("tenant.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let m: Manifest = toml::from_str(&text).with_context(|| format!("{} is not a valid manifest", path.display()))?;
    let logo = match &m.logo {
        Some(name) => {
            if name.contains("..") || name.starts_with('/') {
                bail!("logo must be a file name inside {}", dir.display());
            }
            let bytes = std::fs::read(dir.join(name)).with_context(|| format!("cannot read logo {name}"))?;
            Some(Logo::sniff(bytes).map_err(|e| anyhow::anyhow!("logo {name}: {e}"))?)
        }
        None => None,
    };
    let settings = m
        .settings
        .into_iter()
        .map(|(k, v)| Ok((k, serde_json::to_value(v)?)))
        .collect::<Result<BTreeMap<_, _>, serde_json::Error>>()?;
    let req = OnboardRequest {
        slug: m.slug,
        name: m.name,
        mode: m.mode,
        locales: m.locales,
        default_locale: m.default_locale,
        plan: m.plan,
        admin_email: m.admin.email,
        admin_password: m.admin.password,
        admin_name: m.admin.name,
        features: Some(serde_json::to_value(m.features)?),
        branding: m.branding,
        settings,
    };
    Ok((req, logo))
}
