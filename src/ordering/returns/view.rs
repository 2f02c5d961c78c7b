//! Requests as they are read: a list with filters and one request with its lines, photos,
//! thread and return note.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::Return;
use crate::db::schema_platform::accounts;
use crate::db::schema_tenant::{
    companies, orders, return_documents, return_lines, return_messages, return_photos, returns, warehouses,
};
use crate::error::{AppError, AppResult};
use crate::money::{format, format_qty};

/// A list filter: company (buyers), status, order number; with paging.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub company: Option<i64>,
    pub status: Option<String>,
    pub order: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

impl Filter {
    /// From query pairs (`status`, `order`, `page`, `per_page`), checked.
    pub fn parse(pairs: &[(String, String)], company: Option<i64>) -> AppResult<Filter> {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
        let num = |k: &str, default: i64, max: i64| -> AppResult<i64> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| AppError::field(k, format!("must be a whole number from 1 to {max}"))),
            }
        };
        let status = get("status").map(str::to_owned);
        if let Some(s) = &status {
            if !super::STATUSES.contains(&s.as_str()) {
                return Err(AppError::field("status", "unknown status"));
            }
        }
        Ok(Filter {
            company,
            status,
            order: get("order").map(str::to_owned),
            page: num("page", 1, 100_000)?,
            per_page: num("per_page", 50, 200)?,
        })
    }
}

type ListRow = (i64, String, String, String, Decimal, DateTime<Utc>, DateTime<Utc>, String, String);

pub fn list(conn: &mut PgConnection, f: &Filter) -> AppResult<Value> {
    let query = || {
        let mut q = returns::table.inner_join(orders::table).inner_join(companies::table).into_boxed();
        if let Some(c) = f.company {
            q = q.filter(returns::company_id.eq(c));
        }
        if let Some(s) = &f.status {
            q = q.filter(returns::status.eq(s.clone()));
        }
        if let Some(o) = &f.order {
            q = q.filter(orders::number.eq(o.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<ListRow> = query()
        .order(returns::id.desc())
        .offset((f.page - 1) * f.per_page)
        .limit(f.per_page)
        .select((
            returns::id,
            returns::number,
            returns::status,
            returns::reason,
            returns::amount,
            returns::created_at,
            returns::decide_by,
            orders::number,
            companies::name,
        ))
        .load(conn)?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(_, number, status, reason, amount, at, by, order, company)| {
            let mut v = json!({"number": number, "status": status, "reason": reason, "amount": format(amount),
                "created_at": at, "order": order});
            if f.company.is_none() {
                v["company"] = json!(company);
                v["decide_by"] = json!(by);
            }
            v
        })
        .collect();
    Ok(json!({"items": items, "total": total, "page": f.page, "per_page": f.per_page}))
}

type LineRow = (i32, String, String, String, Decimal, Decimal, String, Decimal, Decimal);
type MsgRow = (i64, String, Option<i64>, String, Option<String>, DateTime<Utc>, Option<String>);

/// One request. Staff also see the company and the decision deadline.
pub fn show(conn: &mut PgConnection, r: &Return, staff: bool) -> AppResult<Value> {
    let order: String = orders::table.find(r.order_id).select(orders::number).first(conn)?;
    let lines: Vec<LineRow> = return_lines::table
        .filter(return_lines::return_id.eq(r.id))
        .order(return_lines::line_no)
        .select((
            return_lines::line_no,
            return_lines::sku,
            return_lines::name,
            return_lines::unit,
            return_lines::qty,
            return_lines::price,
            return_lines::vat_rate,
            return_lines::amount,
            return_lines::vat_amount,
        ))
        .load(conn)?;
    let photos: Vec<(i64, String)> = return_photos::table
        .filter(return_photos::return_id.eq(r.id))
        .order(return_photos::id)
        .select((return_photos::id, return_photos::content_type))
        .load(conn)?;
    let messages: Vec<MsgRow> = return_messages::table
        .left_join(accounts::table.on(accounts::id.nullable().eq(return_messages::account_id)))
        .filter(return_messages::return_id.eq(r.id))
        .order(return_messages::id)
        .select((
            return_messages::id,
            return_messages::author_kind,
            return_messages::account_id,
            return_messages::body,
            return_messages::to_status,
            return_messages::created_at,
            accounts::name.nullable(),
        ))
        .load(conn)?;
    let document: Option<(String, chrono::NaiveDate, Decimal)> = return_documents::table
        .filter(return_documents::return_id.eq(r.id))
        .select((return_documents::number, return_documents::issued_on, return_documents::amount))
        .first(conn)
        .optional()?;
    let warehouse: Option<String> = match r.warehouse_id {
        Some(w) => Some(warehouses::table.find(w).select(warehouses::code).first(conn)?),
        None => None,
    };
    let mut v = json!({
        "number": r.number, "order": order, "status": r.status, "reason": r.reason, "comment": r.comment,
        "decision_note": r.decision_note, "way_back": r.way_back, "warehouse": warehouse,
        "amount": format(r.amount), "created_at": r.created_at,
        "lines": lines.iter().map(|(no, sku, name, unit, qty, price, rate, amount, vat)| json!({
            "line": no, "sku": sku, "name": name, "unit": unit, "qty": format_qty(*qty), "price": format(*price),
            "vat_rate": rate, "amount": format(*amount), "vat_amount": format(*vat)})).collect::<Vec<_>>(),
        "photos": photos.iter().map(|(id, ct)| json!({"id": id, "content_type": ct})).collect::<Vec<_>>(),
        "messages": messages.iter().map(|(id, kind, _, body, to, at, name)| json!({
            "id": id, "author": kind, "name": name, "body": body, "status": to, "at": at})).collect::<Vec<_>>(),
        "document": document.map(|(n, d, a)| json!({"number": n, "date": d, "amount": format(a)})),
        "company": null, "decide_by": null,
    });
    if staff {
        let (company, inn): (String, String) =
            companies::table.find(r.company_id).select((companies::name, companies::inn)).first(conn)?;
        v["company"] = json!({"id": r.company_id, "name": company, "inn": inn});
        v["decide_by"] = json!(r.decide_by);
    }
    Ok(v)
}

/// The stored return note of a request, with its number.
pub fn note(conn: &mut PgConnection, r: &Return) -> AppResult<(String, Vec<u8>)> {
    return_documents::table
        .filter(return_documents::return_id.eq(r.id))
        .select((return_documents::number, return_documents::pdf))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("return note"))
}

/// A photo's storage key and type, checked to belong to the request.
pub fn photo(conn: &mut PgConnection, r: &Return, id: i64) -> AppResult<(String, String)> {
    return_photos::table
        .filter(return_photos::id.eq(id))
        .filter(return_photos::return_id.eq(r.id))
        .select((return_photos::storage_key, return_photos::content_type))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("photo"))
}

/// The order lines a buyer may still return (for the request form).
pub fn returnable(conn: &mut PgConnection, company: i64, number: &str) -> AppResult<Value> {
    use crate::db::schema_tenant::order_lines;
    let o = crate::ordering::orders::find_for(conn, company, number)?;
    let taken = super::create::already_requested(conn, o.id)?;
    let lines: Vec<(i32, String, String, String, Decimal, Decimal)> = order_lines::table
        .filter(order_lines::order_id.eq(o.id))
        .order(order_lines::line_no)
        .select((
            order_lines::line_no,
            order_lines::sku,
            order_lines::name,
            order_lines::unit,
            order_lines::qty,
            order_lines::price,
        ))
        .load(conn)?;
    let items: Vec<Value> = lines
        .iter()
        .map(|(no, sku, name, unit, qty, price)| {
            let already = taken.iter().find(|(n, _)| n == no).map_or(Decimal::ZERO, |(_, q)| *q);
            json!({"line": no, "sku": sku, "name": name, "unit": unit, "qty": format_qty(*qty),
                "price": format(*price), "left": format_qty((*qty - already).max(Decimal::ZERO)),
                "open": *qty > already})
        })
        .collect();
    Ok(json!({"order": o.number, "status": o.status, "lines": items}))
}
