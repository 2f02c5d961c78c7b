//! The supplier's view of its buyer companies: list, approve, reject, terms.

use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::companies::Company;
use crate::db::schema_tenant::{companies, staff};
use crate::error::{AppError, AppResult, FieldErrors};

pub const STATUSES: &[&str] = &["active", "pending_approval", "rejected", "blocked"];

pub struct Filter {
    pub status: Option<String>,
    pub q: Option<String>,
    /// A manager sees their assigned customers first.
    pub manager_first: Option<i64>,
}

fn like_pattern(q: &str) -> String {
    format!("%{}%", crate::db::escape_like(q))
}

pub fn list(conn: &mut PgConnection, f: &Filter, offset: i64, limit: i64) -> AppResult<(Vec<Company>, i64)> {
    if let Some(s) = &f.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(AppError::field("status", format!("must be one of {}", STATUSES.join(", "))));
        }
    }
    let build = || {
        let mut q = companies::table.into_boxed();
        if let Some(s) = &f.status {
            q = q.filter(companies::status.eq(s.clone()));
        }
        if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let pattern = like_pattern(text);
            q = q.filter(companies::name.ilike(pattern.clone()).or(companies::inn.like(pattern)));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let mut q = build();
    if let Some(manager) = f.manager_first {
        q = q.order(companies::manager_account_id.eq(manager).desc());
    }
    let items = q
        .then_order_by(companies::status.eq("pending_approval").desc())
        .then_order_by(companies::created_at.desc())
        .offset(offset)
        .limit(limit)
        .select(Company::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// Approves a pending or rejected company.
pub fn approve(conn: &mut PgConnection, id: i64, actor: i64) -> AppResult<Company> {
    let c = decide(conn, id, actor, &["pending_approval", "rejected", "blocked"], "active", None)?;
    let data = serde_json::json!({
        "id": c.id, "name": c.name, "inn": c.inn, "kpp": c.kpp, "price_group": c.price_group,
        "credit_limit": c.credit_limit.to_string(),
    });
    crate::integrations::webhooks::emit(conn, "customer.approved", &data)?;
    Ok(c)
}

/// Rejects a pending company with a reason the buyer will read.
pub fn reject(conn: &mut PgConnection, id: i64, actor: i64, reason: &str) -> AppResult<Company> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::field("reason", "say why, in 1 to 1000 characters"));
    }
    decide(conn, id, actor, &["pending_approval"], "rejected", Some(reason))
}

fn decide(
    conn: &mut PgConnection,
    id: i64,
    actor: i64,
    from: &[&str],
    to: &str,
    reason: Option<&str>,
) -> AppResult<Company> {
    let current: Company = companies::table
        .find(id)
        .select(Company::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("customer"))?;
    if !from.contains(&current.status.as_str()) {
        return Err(AppError::conflict("invalid_status", format!("the customer is {}", current.status)));
    }
    Ok(diesel::update(companies::table.find(id))
        .set((
            companies::status.eq(to),
            companies::reject_reason.eq(reason),
            companies::decided_at.eq(diesel::dsl::now),
            companies::decided_by.eq(actor),
            companies::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Company::as_returning())
        .get_result(conn)?)
}

/// `PATCH /api/v1/admin/customers/{id}`: amounts are decimal strings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    /// A price group code; `""` removes the group.
    pub price_group: Option<String>,
    pub credit_limit: Option<String>,
    pub discount_percent: Option<String>,
    /// A staff account; `0` removes the assignment.
    pub manager_id: Option<i64>,
    pub status: Option<String>,
    /// Days of deferral from shipment, 0 (prepayment) to 365; `null`: the store's default.
    #[serde(default, deserialize_with = "present")]
    pub payment_terms_days: Option<Option<i64>>,
}

/// A field that may be sent as `null` (`Some(None)`) or left out (`None`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

pub fn patch(conn: &mut PgConnection, id: i64, p: &CustomerPatch) -> AppResult<Company> {
    let current = super::companies::find(conn, id)?.ok_or_else(|| AppError::not_found("customer"))?;
    let mut errors = FieldErrors::new();
    let price_group = match p.price_group.as_deref().map(str::trim) {
        Some("") => None,
        Some(code)
            if code.len() <= 40
                && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') =>
        {
            Some(code.to_owned())
        }
        Some(_) => {
            errors.insert("price_group".into(), "a code of lowercase latin letters, digits, '_' and '-'".into());
            None
        }
        None => current.price_group.clone(),
    };
    let parse =
        |v: &Option<String>, field: &str, f: fn(&str) -> Result<Decimal, String>, errors: &mut FieldErrors| match v {
            Some(s) => f(s).map_err(|e| errors.insert(field.into(), e)).ok(),
            None => None,
        };
    let credit =
        parse(&p.credit_limit, "credit_limit", crate::money::parse_amount, &mut errors).unwrap_or(current.credit_limit);
    let discount = parse(&p.discount_percent, "discount_percent", crate::money::parse_percent, &mut errors)
        .unwrap_or(current.discount_percent);
    let manager = match p.manager_id {
        Some(0) => None,
        Some(m) => {
            let is_staff: bool = diesel::select(diesel::dsl::exists(
                staff::table.filter(staff::account_id.eq(m)).filter(staff::status.eq("active")),
            ))
            .get_result(conn)?;
            if !is_staff {
                errors.insert("manager_id".into(), "must be an active staff member of this store".into());
            }
            Some(m)
        }
        None => current.manager_account_id,
    };
    let status = match p.status.as_deref() {
        Some(s @ ("active" | "blocked")) => s.to_owned(),
        Some(_) => {
            errors.insert("status".into(), "use approve/reject for new customers; here only active or blocked".into());
            current.status.clone()
        }
        None => current.status.clone(),
    };
    let terms = match p.payment_terms_days {
        None => current.payment_terms_days,
        Some(None) => None,
        Some(Some(d)) if (0..=365).contains(&d) => i32::try_from(d).ok(),
        Some(Some(_)) => {
            errors.insert("payment_terms_days".into(), "must be 0 (prepayment) to 365 days".into());
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(diesel::update(companies::table.find(id))
        .set((
            companies::price_group.eq(price_group),
            companies::credit_limit.eq(credit),
            companies::discount_percent.eq(discount),
            companies::manager_account_id.eq(manager),
            companies::status.eq(status),
            companies::payment_terms_days.eq(terms),
            companies::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Company::as_returning())
        .get_result(conn)?)
}
