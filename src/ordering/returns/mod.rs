//! Returns and service requests (feature `returns`). A buyer asks to send back lines of a
//! delivered order (quantity, reason, comment, photos); staff approve or reject with a reason
//! and set the way back, then receive the goods: stock goes back to a warehouse (or to the
//! defect warehouse, where it is held and never sold), the ledger gets a `return` credit of
//! the lines as priced on the order, and a return note (PDF) is issued and kept unchanged.
//! Both sides see the status and write in the request's thread; each message tells the
//! other side. Every function runs inside the caller's tenant transaction.

pub mod create;
pub mod decide;
pub mod note_pdf;
pub mod thread;
pub mod view;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::db::schema_tenant::returns;
use crate::error::{AppError, AppResult};
use crate::platform::tenant_settings;

/// Reasons a buyer may give.
pub const REASONS: &[&str] = &["defect", "wrong_item", "surplus", "warranty"];
/// Ways the goods come back.
pub const WAYS_BACK: &[&str] = &["pickup", "carrier", "drop_off"];
/// Every status, in the order a request goes through them.
pub const STATUSES: &[&str] = &["requested", "approved", "rejected", "in_transit", "received", "credited", "cancelled"];
/// Setting: days after delivery a return may be requested (default 14).
pub const WINDOW_DAYS: &str = "return_window_days";
/// Setting: days staff have to decide on a request (default 3).
pub const DECISION_DAYS: &str = "return_decision_days";
/// Code of the warehouse defective goods go to (created on first use).
pub const DEFECT_WAREHOUSE: &str = "defect";
/// The job reminding staff that a decision is due.
pub const REMIND_JOB: &str = "return.remind";
/// At most this many photos per request, each at most this large.
pub const MAX_PHOTOS: usize = 6;
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = returns, check_for_backend(diesel::pg::Pg))]
pub struct Return {
    pub id: i64,
    pub number: String,
    pub order_id: i64,
    pub company_id: i64,
    pub account_id: i64,
    pub status: String,
    pub reason: String,
    pub comment: String,
    pub decision_note: String,
    pub way_back: Option<String>,
    pub warehouse_id: Option<i64>,
    pub amount: Decimal,
    pub decide_by: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The store's return window and decision time, in days.
pub fn terms(conn: &mut PgConnection) -> AppResult<(i64, i64)> {
    let days = |c: &mut PgConnection, key: &str, default: i64| -> AppResult<i64> {
        Ok(tenant_settings::get(c, key)?.and_then(|v| v.as_i64()).unwrap_or(default))
    };
    Ok((days(conn, WINDOW_DAYS, 14)?.clamp(0, 3650), days(conn, DECISION_DAYS, 3)?.clamp(1, 365)))
}

/// Checks a value for the `return_window_days` / `return_decision_days` settings.
pub fn check_setting(key: &str, v: &serde_json::Value) -> Result<serde_json::Value, String> {
    match (key, v.as_i64()) {
        (WINDOW_DAYS, Some(n)) if (0..=3650).contains(&n) => Ok(v.clone()),
        (WINDOW_DAYS, _) => Err("must be 0 to 3650 days".into()),
        (_, Some(n)) if (1..=365).contains(&n) => Ok(v.clone()),
        _ => Err("must be 1 to 365 days".into()),
    }
}

/// The request `number` of `company` (another company's is the same 404), locked when `lock`.
pub fn find_for(conn: &mut PgConnection, company: Option<i64>, number: &str, lock: bool) -> AppResult<Return> {
    let found: Option<Return> = returns::table
        .filter(returns::number.eq(number))
        .select(Return::as_select())
        .first(conn)
        .optional()?
        .filter(|r| company.is_none_or(|c| r.company_id == c));
    let r = found.ok_or_else(|| AppError::not_found("return request"))?;
    if lock {
        // Locked, then read again: the status another transaction committed is the one seen.
        return Ok(returns::table.find(r.id).for_update().select(Return::as_select()).first(conn)?);
    }
    Ok(r)
}

/// Russian names of statuses, reasons and ways back, for mail and documents.
pub fn ru(s: &str) -> &'static str {
    match s {
        "requested" => "запрошен",
        "approved" => "одобрен",
        "rejected" => "отклонён",
        "in_transit" => "в пути",
        "received" => "получен",
        "credited" => "зачтён",
        "cancelled" => "отменён",
        "defect" => "брак",
        "wrong_item" => "не тот товар",
        "surplus" => "излишек",
        "warranty" => "гарантийное обслуживание",
        "pickup" => "забор у покупателя",
        "carrier" => "транспортная компания",
        "drop_off" => "привезёт покупатель",
        _ => "",
    }
}
