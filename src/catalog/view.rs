//! What a buyer (or guest) sees of products: names in their language, availability as the
//! tenant shows it, and their own price with its breakdown.

use std::collections::HashMap;

use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::products::Product;
use super::settings::CatalogSettings;
use super::stock::availability;
use crate::error::AppResult;
use crate::money::{format, format_qty};
use crate::pricing::load::{price_many, Buyer};
use crate::pricing::Breakdown;

/// Who is looking.
pub struct Viewer<'a> {
    pub buyer: Option<&'a Buyer>,
    pub locale: &'a str,
    pub settings: &'a CatalogSettings,
}

impl Viewer<'_> {
    /// Prices are hidden from guests when the tenant says "log in to see prices".
    pub fn sees_prices(&self) -> bool {
        self.buyer.is_some() || self.settings.guest_prices
    }
}

/// The list item of CONTRACT.md: `{sku, name, price, currency, vat_rate, available,
/// stock_status, unit, available_from?}` plus a few display fields.
pub fn item(p: &Product, price: Option<&Breakdown>, v: &Viewer, category_code: Option<&str>) -> Value {
    let a = availability(
        &p.status,
        p.available_from,
        p.stock_available,
        v.settings.stock_display,
        v.settings.low_threshold,
    );
    let mut o = json!({
        "sku": p.sku,
        "name": p.name_in(v.locale),
        "brand": p.brand,
        "category": category_code,
        "price": price.map(|b| format(b.final_price)),
        "base_price": price.map(|b| format(b.base)),
        "currency": v.settings.currency,
        "vat_rate": p.vat_rate,
        "available": a.available,
        "stock_status": a.status,
        "unit": p.unit,
        "min_qty": format_qty(p.min_qty),
        "order_multiple": format_qty(p.order_multiple),
        "status": p.status,
    });
    if let Some(q) = a.quantity {
        o["stock"] = json!(format_qty(q));
    }
    if let Some(d) = p.available_from {
        o["available_from"] = json!(d.to_string());
    }
    if price.is_none() {
        o["price_hidden"] = json!(true);
    }
    o
}

/// Prices a page of products for the viewer (nothing when prices are hidden from them).
pub fn prices(conn: &mut PgConnection, list: &[Product], v: &Viewer) -> AppResult<HashMap<i64, Breakdown>> {
    if !v.sees_prices() {
        return Ok(HashMap::new());
    }
    let items: Vec<(&Product, Decimal)> = list.iter().map(|p| (p, p.min_qty.max(Decimal::ONE))).collect();
    price_many(conn, v.buyer, v.settings.vat_mode, &items)
}
