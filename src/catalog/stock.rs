//! Warehouses and stock per warehouse. `products.stock_available` (quantity − reserved over
//! all warehouses) is kept by a trigger; orders change stock only by conditional updates.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::db::schema_tenant::{stock, warehouses};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = stock, check_for_backend(diesel::pg::Pg))]
pub struct StockRow {
    pub product_id: i64,
    pub warehouse_id: i64,
    pub quantity: Decimal,
    pub reserved: Decimal,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = warehouses, check_for_backend(diesel::pg::Pg))]
pub struct Warehouse {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub position: i32,
}

pub fn warehouses(conn: &mut PgConnection) -> AppResult<Vec<Warehouse>> {
    Ok(warehouses::table.select(Warehouse::as_select()).order((warehouses::position, warehouses::id)).load(conn)?)
}

pub fn create_warehouse(conn: &mut PgConnection, code: &str, name: &str) -> AppResult<Warehouse> {
    let ok = (1..=40).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        return Err(AppError::field("code", "use 1–40 lowercase latin letters, digits, - or _"));
    }
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(AppError::field("name", "must be 1–200 characters"));
    }
    let taken: i64 = warehouses::table.filter(warehouses::code.eq(code)).count().get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict("warehouse_exists", format!("warehouse {code} already exists")));
    }
    Ok(diesel::insert_into(warehouses::table)
        .values((warehouses::code.eq(code), warehouses::name.eq(name.trim())))
        .returning(Warehouse::as_returning())
        .get_result(conn)?)
}

pub fn for_products(conn: &mut PgConnection, ids: &[i64]) -> AppResult<Vec<StockRow>> {
    Ok(stock::table.filter(stock::product_id.eq_any(ids)).select(StockRow::as_select()).load(conn)?)
}

/// Sets the quantity on hand in one warehouse (what 1C or a stock count says). Reserved
/// stock stays reserved; a quantity below it is refused.
pub fn set(conn: &mut PgConnection, product_id: i64, warehouse_id: i64, quantity: Decimal) -> AppResult<()> {
    if quantity < Decimal::ZERO {
        return Err(AppError::field("stock", "must not be negative"));
    }
    let done = diesel::insert_into(stock::table)
        .values((stock::product_id.eq(product_id), stock::warehouse_id.eq(warehouse_id), stock::quantity.eq(quantity)))
        .on_conflict((stock::product_id, stock::warehouse_id))
        .do_update()
        .set((stock::quantity.eq(quantity), stock::updated_at.eq(diesel::dsl::now)))
        .execute(conn);
    match done {
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::CheckViolation, _)) => {
            Err(AppError::field("stock", "is below the quantity reserved for buyers"))
        }
        other => {
            other?;
            Ok(())
        }
    }
}

/// How stock is shown to buyers (tenant setting `stock_display`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// The exact quantity.
    Exact,
    /// In stock / low / out / upcoming.
    Levels,
}

/// What a buyer is told about a product's availability.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Availability {
    /// `in_stock`, `low`, `out_of_stock`, `upcoming`, `archived`.
    pub status: &'static str,
    /// The quantity, only when the tenant shows exact stock.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_qty")]
    pub quantity: Option<Decimal>,
    pub available: bool,
}

mod opt_qty {
    use rust_decimal::Decimal;
    pub fn serialize<S: serde::Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&crate::money::format_qty(*d)),
            None => s.serialize_none(),
        }
    }
}

pub fn availability(
    status: &str,
    available_from: Option<NaiveDate>,
    on_hand: Decimal,
    display: Display,
    low_threshold: Decimal,
) -> Availability {
    let upcoming = status == "upcoming" && available_from.is_none_or(|d| d > Utc::now().date_naive());
    let s = if status == "archived" {
        "archived"
    } else if upcoming && on_hand <= Decimal::ZERO {
        "upcoming"
    } else if on_hand <= Decimal::ZERO {
        "out_of_stock"
    } else if on_hand <= low_threshold {
        "low"
    } else {
        "in_stock"
    };
    Availability {
        status: s,
        quantity: (display == Display::Exact && status != "archived").then_some(on_hand.max(Decimal::ZERO)),
        available: matches!(s, "in_stock" | "low"),
    }
}
