//! The store's document settings (rows of its `settings` table), checked like the rest of
//! `PATCH /api/v1/admin/settings`.

use diesel::PgConnection;
use serde_json::Value;

use crate::error::AppResult;
use crate::platform::tenant_settings;

/// `osn` (the general system: VAT payer, УПД status 1, the default) or `usn` (simplified:
/// no VAT, УПД status 2).
pub const TAX_SYSTEM: &str = "tax_system";
/// `upd` (one УПД per shipment, the default) or `separate` (ТОРГ-12 for goods, an act for
/// services, and a счёт-фактура when the store pays VAT).
pub const DOCUMENTS_MODE: &str = "documents_mode";
/// `none` (the default), `file` (file exchange folders) or `http` (an operator's API).
pub const EDO_PROVIDER: &str = "edo_provider";
/// The store's participant id at its EDO operator (ИдОтпр of the file name).
pub const EDO_ID: &str = "edo_id";
/// The operator's API address (HTTP provider).
pub const EDO_HTTP_URL: &str = "edo_http_url";
/// Where the operator's credentials are, by reference: `env:NAME` (never the secret itself).
pub const EDO_HTTP_CREDENTIALS: &str = "edo_http_credentials";

pub const KEYS: &[&str] = &[TAX_SYSTEM, DOCUMENTS_MODE, EDO_PROVIDER, EDO_ID, EDO_HTTP_URL, EDO_HTTP_CREDENTIALS];

/// Checks one setting; `None` when `key` is not a document setting.
pub fn check(key: &str, v: &Value) -> Option<Result<Value, String>> {
    let s = v.as_str().map(str::trim);
    let one_of = |choices: &[&str]| match s {
        Some(x) if choices.contains(&x) => Ok(Value::String(x.to_owned())),
        _ => Err(format!("must be {}", choices.join(" or "))),
    };
    Some(match key {
        TAX_SYSTEM => one_of(&["osn", "usn"]),
        DOCUMENTS_MODE => one_of(&["upd", "separate"]),
        EDO_PROVIDER => one_of(&["none", "file", "http"]),
        EDO_ID => match s {
            Some(x) if x.len() <= 46 && x.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                Ok(Value::String(x.to_owned()))
            }
            _ => Err("must be up to 46 Latin letters, digits or dashes".into()),
        },
        EDO_HTTP_URL => match s {
            Some("") => Ok(Value::String(String::new())),
            Some(x) if (x.starts_with("https://") || x.starts_with("http://")) && x.len() <= 300 => {
                Ok(Value::String(x.to_owned()))
            }
            _ => Err("must be an http(s) address".into()),
        },
        EDO_HTTP_CREDENTIALS => match s {
            Some("") => Ok(Value::String(String::new())),
            Some(x)
                if x.strip_prefix("env:").is_some_and(|n| {
                    !n.is_empty()
                        && n.len() <= 64
                        && n.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                }) =>
            {
                Ok(Value::String(x.to_owned()))
            }
            _ => Err("must name where the credentials are, like env:EDO_TOKEN (never the secret itself)".into()),
        },
        _ => return None,
    })
}

/// The document settings as stored (defaults filled in).
#[derive(Debug, Clone)]
pub struct DocSettings {
    pub vat_payer: bool,
    pub separate: bool,
    pub edo_provider: String,
    pub edo_id: String,
    pub edo_http_url: String,
    pub edo_http_credentials: String,
}

pub fn load(conn: &mut PgConnection) -> AppResult<DocSettings> {
    let get = |conn: &mut PgConnection, k: &str| -> AppResult<String> {
        Ok(tenant_settings::get(conn, k)?.and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
    };
    Ok(DocSettings {
        vat_payer: get(conn, TAX_SYSTEM)? != "usn",
        separate: get(conn, DOCUMENTS_MODE)? == "separate",
        edo_provider: Some(get(conn, EDO_PROVIDER)?).filter(|p| !p.is_empty()).unwrap_or_else(|| "none".into()),
        edo_id: get(conn, EDO_ID)?,
        edo_http_url: get(conn, EDO_HTTP_URL)?,
        edo_http_credentials: get(conn, EDO_HTTP_CREDENTIALS)?,
    })
}

impl DocSettings {
    pub fn json(&self) -> Value {
        serde_json::json!({
            TAX_SYSTEM: if self.vat_payer { "osn" } else { "usn" },
            DOCUMENTS_MODE: if self.separate { "separate" } else { "upd" },
            EDO_PROVIDER: self.edo_provider, EDO_ID: self.edo_id,
            EDO_HTTP_URL: self.edo_http_url, EDO_HTTP_CREDENTIALS: self.edo_http_credentials,
        })
    }
}
