//! Buyer companies of a tenant, their members and addresses.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::inn::{check_inn, check_kpp};
use crate::db::schema_platform::accounts;
use crate::db::schema_tenant::{companies, company_addresses, company_members};
use crate::error::{AppError, AppResult, FieldErrors};

pub const MEMBER_ROLES: &[&str] = &["admin", "buyer", "accountant", "viewer"];

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = companies, check_for_backend(diesel::pg::Pg))]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub inn: String,
    pub kpp: Option<String>,
    pub legal_address: String,
    pub phone: String,
    pub contact_person: String,
    pub status: String,
    pub reject_reason: Option<String>,
    pub price_group: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub credit_limit: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub discount_percent: Decimal,
    pub manager_account_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Days of deferral from shipment; `None`: the store's default (finance).
    pub payment_terms_days: Option<i32>,
}

impl Company {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

/// The company part of a registration or of a staff invitation.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyInput {
    pub name: String,
    pub inn: String,
    #[serde(default)]
    pub kpp: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub delivery_address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub contact_person: Option<String>,
}

fn blank_to_none(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl CompanyInput {
    /// Checks every field; errors are keyed `company.<field>`.
    pub fn validate(&self, errors: &mut FieldErrors) {
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > 300 {
            errors.insert("company.name".into(), "must be 1 to 300 characters".into());
        }
        let inn = self.inn.trim();
        match check_inn(inn) {
            Err(e) => {
                errors.insert("company.inn".into(), e);
            }
            Ok(is_org) => match (is_org, blank_to_none(&self.kpp)) {
                (true, None) => {
                    errors.insert("company.kpp".into(), "KPP is required for organisations".into());
                }
                (true, Some(kpp)) => {
                    if let Err(e) = check_kpp(&kpp) {
                        errors.insert("company.kpp".into(), e);
                    }
                }
                (false, Some(_)) => {
                    errors.insert("company.kpp".into(), "individual entrepreneurs have no KPP".into());
                }
                (false, None) => {}
            },
        }
        for (field, value, max) in [
            ("company.address", &self.address, 500),
            ("company.delivery_address", &self.delivery_address, 500),
            ("company.contact_person", &self.contact_person, 200),
        ] {
            if value.as_deref().is_some_and(|v| v.chars().count() > max) {
                errors.insert(field.into(), format!("must be at most {max} characters"));
            }
        }
        if let Some(phone) = blank_to_none(&self.phone) {
            let ok = phone.len() <= 40 && phone.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c));
            if !ok || phone.chars().filter(char::is_ascii_digit).count() < 5 {
                errors.insert("company.phone".into(), "must be a phone number like +7 495 123-45-67".into());
            }
        }
    }
}

/// Creates a company with its addresses; a company with the same INN and KPP is a 409.
pub fn create(conn: &mut PgConnection, input: &CompanyInput, status: &str) -> AppResult<Company> {
    let company: Company = diesel::insert_into(companies::table)
        .values((
            companies::name.eq(input.name.trim()),
            companies::inn.eq(input.inn.trim()),
            companies::kpp.eq(blank_to_none(&input.kpp)),
            companies::legal_address.eq(blank_to_none(&input.address).unwrap_or_default()),
            companies::phone.eq(blank_to_none(&input.phone).unwrap_or_default()),
            companies::contact_person.eq(blank_to_none(&input.contact_person).unwrap_or_default()),
            companies::status.eq(status),
        ))
        .returning(Company::as_returning())
        .get_result(conn)
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => AppError::conflict(
                "company_exists",
                "this company is already registered with the supplier; ask its administrator to invite you",
            ),
            other => other,
        })?;
    for (kind, value) in [("legal", &input.address), ("delivery", &input.delivery_address)] {
        if let Some(address) = blank_to_none(value) {
            add_address(conn, company.id, kind, &address, true)?;
        }
    }
    Ok(company)
}

pub fn find(conn: &mut PgConnection, id: i64) -> AppResult<Option<Company>> {
    Ok(companies::table.find(id).select(Company::as_select()).first(conn).optional()?)
}

/// A person's place in a company.
#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub company: Company,
    pub role: String,
}

/// Active memberships of an account in this tenant, active companies first.
pub fn memberships(conn: &mut PgConnection, account_id: i64) -> AppResult<Vec<Membership>> {
    let rows: Vec<(Company, String)> = company_members::table
        .inner_join(companies::table)
        .filter(company_members::account_id.eq(account_id))
        .filter(company_members::status.eq("active"))
        .order((companies::status.ne("active"), companies::name.asc()))
        .select((Company::as_select(), company_members::role))
        .load(conn)?;
    Ok(rows.into_iter().map(|(company, role)| Membership { company, role }).collect())
}

pub fn add_member(conn: &mut PgConnection, company_id: i64, account_id: i64, role: &str) -> AppResult<()> {
    if !MEMBER_ROLES.contains(&role) {
        return Err(AppError::field("role", format!("must be one of {}", MEMBER_ROLES.join(", "))));
    }
    diesel::insert_into(company_members::table)
        .values((
            company_members::company_id.eq(company_id),
            company_members::account_id.eq(account_id),
            company_members::role.eq(role),
        ))
        .execute(conn)
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => AppError::conflict("already_member", "this person is already in the company"),
            other => other,
        })?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Member {
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub status: String,
}

pub fn members(conn: &mut PgConnection, company_id: i64) -> AppResult<Vec<Member>> {
    Ok(company_members::table
        .inner_join(accounts::table)
        .filter(company_members::company_id.eq(company_id))
        .order(accounts::name.asc())
        .select((accounts::id, accounts::name, accounts::email, company_members::role, company_members::status))
        .load(conn)?)
}

/// Changes a member's role or status; the last active admin cannot be demoted or disabled.
/// The limit per order of a member (above it, orders wait for the company admin).
pub fn order_limit(
    conn: &mut PgConnection,
    company_id: i64,
    account_id: i64,
) -> AppResult<Option<rust_decimal::Decimal>> {
    Ok(company_members::table
        .find((company_id, account_id))
        .select(company_members::order_limit)
        .first::<Option<rust_decimal::Decimal>>(conn)
        .optional()?
        .flatten())
}

pub fn set_order_limit(
    conn: &mut PgConnection,
    company_id: i64,
    account_id: i64,
    limit: Option<rust_decimal::Decimal>,
) -> AppResult<()> {
    let n = diesel::update(company_members::table.find((company_id, account_id)))
        .set(company_members::order_limit.eq(limit))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("member"));
    }
    Ok(())
}

pub fn update_member(
    conn: &mut PgConnection,
    company_id: i64,
    account_id: i64,
    role: Option<&str>,
    status: Option<&str>,
) -> AppResult<Member> {
    if role.is_some_and(|r| !MEMBER_ROLES.contains(&r)) {
        return Err(AppError::field("role", format!("must be one of {}", MEMBER_ROLES.join(", "))));
    }
    if status.is_some_and(|s| s != "active" && s != "disabled") {
        return Err(AppError::field("status", "must be active or disabled"));
    }
    let current = members(conn, company_id)?;
    let target = current.iter().find(|m| m.account_id == account_id).ok_or_else(|| AppError::not_found("member"))?;
    let loses_admin = target.role == "admin"
        && target.status == "active"
        && (role.is_some_and(|r| r != "admin") || status == Some("disabled"));
    let other_admins =
        current.iter().filter(|m| m.role == "admin" && m.status == "active" && m.account_id != account_id).count();
    if loses_admin && other_admins == 0 {
        return Err(AppError::conflict("last_admin", "a company needs at least one active administrator"));
    }
    diesel::update(company_members::table.find((company_id, account_id)))
        .set((
            company_members::role.eq(role.unwrap_or(&target.role)),
            company_members::status.eq(status.unwrap_or(&target.status)),
        ))
        .execute(conn)?;
    members(conn, company_id)?
        .into_iter()
        .find(|m| m.account_id == account_id)
        .ok_or_else(|| AppError::not_found("member"))
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Address {
    pub id: i64,
    pub kind: String,
    pub address: String,
    pub is_default: bool,
}

pub fn addresses(conn: &mut PgConnection, company_id: i64) -> AppResult<Vec<Address>> {
    Ok(company_addresses::table
        .filter(company_addresses::company_id.eq(company_id))
        .order((company_addresses::kind.asc(), company_addresses::is_default.desc(), company_addresses::id.asc()))
        .select((
            company_addresses::id,
            company_addresses::kind,
            company_addresses::address,
            company_addresses::is_default,
        ))
        .load(conn)?)
}

pub fn add_address(
    conn: &mut PgConnection,
    company_id: i64,
    kind: &str,
    address: &str,
    is_default: bool,
) -> AppResult<Address> {
    let address = address.trim();
    if kind != "legal" && kind != "delivery" {
        return Err(AppError::field("kind", "must be legal or delivery"));
    }
    if address.is_empty() || address.chars().count() > 500 {
        return Err(AppError::field("address", "must be 1 to 500 characters"));
    }
    if is_default {
        diesel::update(company_addresses::table)
            .filter(company_addresses::company_id.eq(company_id))
            .filter(company_addresses::kind.eq(kind))
            .set(company_addresses::is_default.eq(false))
            .execute(conn)?;
    }
    Ok(diesel::insert_into(company_addresses::table)
        .values((
            company_addresses::company_id.eq(company_id),
            company_addresses::kind.eq(kind),
            company_addresses::address.eq(address),
            company_addresses::is_default.eq(is_default),
        ))
        .returning((
            company_addresses::id,
            company_addresses::kind,
            company_addresses::address,
            company_addresses::is_default,
        ))
        .get_result(conn)?)
}

pub fn remove_address(conn: &mut PgConnection, company_id: i64, id: i64) -> AppResult<()> {
    let n = diesel::delete(company_addresses::table)
        .filter(company_addresses::company_id.eq(company_id))
        .filter(company_addresses::id.eq(id))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("address"));
    }
    Ok(())
}
