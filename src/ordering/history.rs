//! Order history: the list with filters (period, status, number, SKU), for one company or
//! for the supplier's staff, and repeating an order into a new cart at today's prices.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::carts;
use super::lines::{check_qty, orderable};
use super::orders::Order;
use super::Actor;
use crate::db::schema_tenant::{order_lines, orders};
use crate::error::{AppError, AppResult, FieldErrors};

pub const STATUSES: &[&str] = &[
    "awaiting_approval",
    "on_hold",
    "new",
    "confirmed",
    "in_production",
    "assembled",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
];

/// Parsed list filters; every bad one is reported at once.
#[derive(Debug, Default)]
pub struct Filters {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub number: Option<String>,
    pub sku: Option<String>,
    pub company: Option<i64>,
    pub page: i64,
    pub per_page: i64,
}

impl Filters {
    pub fn parse(pairs: &[(String, String)]) -> AppResult<Filters> {
        let mut f = Filters { page: 1, per_page: 20, ..Filters::default() };
        let mut errors = FieldErrors::new();
        for (k, v) in pairs {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            match k.as_str() {
                "status" if STATUSES.contains(&v) => f.status = Some(v.to_owned()),
                "status" => {
                    errors.insert("status".into(), format!("must be one of {}", STATUSES.join(", ")));
                }
                "kind" if super::orders::KINDS.contains(&v) => f.kind = Some(v.to_owned()),
                "kind" => {
                    errors.insert("kind".into(), "must be order or preorder".into());
                }
                "from" | "to" => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                    Ok(d) if k == "from" => f.from = Some(d),
                    Ok(d) => f.to = Some(d),
                    Err(_) => {
                        errors.insert(k.clone(), "must be a date like 2026-01-31".into());
                    }
                },
                "number" if v.chars().count() <= 40 => f.number = Some(v.to_owned()),
                "sku" if v.chars().count() <= 64 => f.sku = Some(v.to_owned()),
                "number" | "sku" => {
                    errors.insert(k.clone(), "is too long".into());
                }
                "company" | "customer" => match v.parse() {
                    Ok(id) => f.company = Some(id),
                    Err(_) => {
                        errors.insert(k.clone(), "must be a customer id".into());
                    }
                },
                "page" => match v.parse::<i64>() {
                    Ok(p) if (1..=100_000).contains(&p) => f.page = p,
                    _ => {
                        errors.insert("page".into(), "must be a page number from 1".into());
                    }
                },
                "per_page" => match v.parse::<i64>() {
                    Ok(p) if (1..=100).contains(&p) => f.per_page = p,
                    _ => {
                        errors.insert("per_page".into(), "must be between 1 and 100".into());
                    }
                },
                _ => {}
            }
        }
        if let (Some(a), Some(b)) = (f.from, f.to) {
            if a > b {
                errors.insert("to".into(), "must not be before from".into());
            }
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

fn filtered<'a>(company: Option<i64>, f: &'a Filters) -> orders::BoxedQuery<'a, diesel::pg::Pg> {
    let mut q = orders::table.into_boxed();
    if let Some(c) = company.or(f.company) {
        q = q.filter(orders::company_id.eq(c));
    }
    if let Some(s) = &f.status {
        q = q.filter(orders::status.eq(s));
    }
    if let Some(k) = &f.kind {
        q = q.filter(orders::kind.eq(k));
    }
    if let Some(d) = f.from {
        q = q.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("created_at >= ").bind::<diesel::sql_types::Date, _>(d),
        );
    }
    if let Some(d) = f.to {
        q = q.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("created_at < (")
                .bind::<diesel::sql_types::Date, _>(d)
                .sql(" + 1)"),
        );
    }
    if let Some(n) = &f.number {
        q = q.filter(orders::number.ilike(format!("%{}%", crate::db::escape_like(n))));
    }
    if let Some(sku) = &f.sku {
        q = q.filter(
            orders::id.eq_any(
                order_lines::table
                    .filter(order_lines::sku.ilike(crate::db::escape_like(sku)))
                    .select(order_lines::order_id),
            ),
        );
    }
    q
}

/// Orders as a list page (newest first). `company`: the buyer's company; `None` for staff.
pub fn list(conn: &mut PgConnection, company: Option<i64>, pairs: &[(String, String)]) -> AppResult<Value> {
    let f = Filters::parse(pairs)?;
    let total: i64 = filtered(company, &f).count().get_result(conn)?;
    let rows: Vec<Order> = filtered(company, &f)
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(f.per_page)
        .offset((f.page - 1) * f.per_page)
        .select(Order::as_select())
        .load(conn)?;
    Ok(
        json!({"items": rows.iter().map(Order::summary).collect::<Vec<_>>(), "total": total, "page": f.page, "per_page": f.per_page}),
    )
}

/// Every order matching the filters (for the XLSX export), at most `limit`.
pub fn all(
    conn: &mut PgConnection,
    company: Option<i64>,
    pairs: &[(String, String)],
    limit: i64,
) -> AppResult<Vec<Order>> {
    let f = Filters::parse(pairs)?;
    Ok(filtered(company, &f)
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(limit)
        .select(Order::as_select())
        .load(conn)?)
}

/// A new cart with the order's lines at today's prices; the lines that cannot be ordered
/// any more are answered with their reason.
pub fn repeat(conn: &mut PgConnection, actor: &Actor, number: &str, locale: &str) -> AppResult<(i64, Vec<Value>)> {
    let o = super::orders::find_for(conn, actor.company.id, number)?;
    let lines: Vec<(i64, String, rust_decimal::Decimal)> = order_lines::table
        .filter(order_lines::order_id.eq(o.id))
        .order(order_lines::line_no)
        .select((order_lines::product_id, order_lines::sku, order_lines::qty))
        .load(conn)?;
    let name = if locale == "ru" {
        format!("Повтор заказа {}", o.number)
    } else {
        format!("Repeat of order {}", o.number)
    };
    let cart = carts::create(conn, actor, &name)?;
    let mut skipped = Vec::new();
    for (pid, sku, qty) in lines {
        let p = crate::catalog::products::by_ids(conn, &[pid])?.pop();
        let reason = match &p {
            None => Some("is no longer sold".to_owned()),
            Some(p) => orderable(p).and_then(|_| check_qty(p, qty)).err().map(|(_, m)| m),
        };
        match (p, reason) {
            (Some(p), None) => carts::add_in(conn, cart.id, &p.sku, qty)?,
            (_, Some(reason)) => {
                skipped.push(json!({"sku": sku, "qty": crate::money::format_qty(qty), "reason": reason}))
            }
            (None, None) => {}
        }
    }
    Ok((cart.id, skipped))
}
