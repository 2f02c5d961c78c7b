//! Catalog options of a tenant (rows of its `settings` table).

use diesel::prelude::*;
use rust_decimal::Decimal;

use super::stock::Display;
use crate::error::AppResult;
use crate::pricing::VatMode;

/// Guests see prices (`true`, the default) or "log in to see prices".
pub const GUEST_PRICES: &str = "guest_prices";
/// `levels` (in stock / low / out / upcoming, the default) or `exact`.
pub const STOCK_DISPLAY: &str = "stock_display";
/// At or below this many units the level is "low" (default 10).
pub const LOW_STOCK_THRESHOLD: &str = "low_stock_threshold";
/// `included` (default) or `excluded`: whether entered prices include VAT.
pub const VAT_MODE: &str = "vat_mode";
/// The tenant's currency (default RUB).
pub const CURRENCY: &str = "currency";
/// Orders on account above the credit limit or with overdue debt: `refuse` (the default:
/// above the limit is refused, overdue debt is not checked) or `hold` (both wait for staff).
pub const CREDIT_CONTROL: &str = "credit_control";

#[derive(Debug, Clone)]
pub struct CatalogSettings {
    pub guest_prices: bool,
    pub stock_display: Display,
    pub low_threshold: Decimal,
    pub vat_mode: VatMode,
    pub currency: String,
    /// `CREDIT_CONTROL` is `hold`.
    pub credit_hold: bool,
}

pub fn load(conn: &mut PgConnection) -> AppResult<CatalogSettings> {
    // One query for all of them.
    use crate::db::schema_tenant::settings;
    let keys = [GUEST_PRICES, STOCK_DISPLAY, LOW_STOCK_THRESHOLD, VAT_MODE, CURRENCY, CREDIT_CONTROL];
    let rows: Vec<(String, serde_json::Value)> =
        settings::table.filter(settings::key.eq_any(keys)).select((settings::key, settings::value)).load(conn)?;
    Ok(CatalogSettings::from_rows(rows.iter().map(|(k, v)| (k.as_str(), v))))
}

impl CatalogSettings {
    /// The settings among all of a tenant's settings (key → value).
    pub fn from_map(map: &serde_json::Map<String, serde_json::Value>) -> CatalogSettings {
        CatalogSettings::from_rows(map.iter().map(|(k, v)| (k.as_str(), v)))
    }

    fn from_rows<'a>(rows: impl Iterator<Item = (&'a str, &'a serde_json::Value)>) -> CatalogSettings {
        let mut s = CatalogSettings {
            guest_prices: true,
            stock_display: Display::Levels,
            low_threshold: Decimal::from(10),
            vat_mode: VatMode::Included,
            currency: "RUB".into(),
            credit_hold: false,
        };
        for (k, v) in rows {
            match k {
                GUEST_PRICES => s.guest_prices = v.as_bool().unwrap_or(true),
                STOCK_DISPLAY => {
                    s.stock_display = if v.as_str() == Some("exact") { Display::Exact } else { Display::Levels }
                }
                LOW_STOCK_THRESHOLD => {
                    s.low_threshold = v.as_i64().map(Decimal::from).unwrap_or(s.low_threshold);
                }
                VAT_MODE => s.vat_mode = v.as_str().and_then(VatMode::parse).unwrap_or(VatMode::Included),
                CURRENCY => s.currency = v.as_str().unwrap_or("RUB").to_owned(),
                CREDIT_CONTROL => s.credit_hold = v.as_str() == Some("hold"),
                _ => {}
            }
        }
        s
    }
}
