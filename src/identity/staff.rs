//! Supplier staff of a tenant and what each role may do.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema_platform::accounts;
use crate::db::schema_tenant::staff;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Owner,
    Admin,
    Manager,
    Warehouse,
    Accountant,
    ContentEditor,
}

impl StaffRole {
    pub const ALL: &'static [StaffRole] = &[
        StaffRole::Owner,
        StaffRole::Admin,
        StaffRole::Manager,
        StaffRole::Warehouse,
        StaffRole::Accountant,
        StaffRole::ContentEditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Owner => "owner",
            StaffRole::Admin => "admin",
            StaffRole::Manager => "manager",
            StaffRole::Warehouse => "warehouse",
            StaffRole::Accountant => "accountant",
            StaffRole::ContentEditor => "content_editor",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        StaffRole::ALL.iter().copied().find(|r| r.as_str() == s)
    }
}

/// Who may see and manage customers, and who may manage staff.
pub const SEE_CUSTOMERS: &[StaffRole] =
    &[StaffRole::Owner, StaffRole::Admin, StaffRole::Manager, StaffRole::Accountant];
pub const MANAGE_CUSTOMERS: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin, StaffRole::Manager];
pub const MANAGE_STAFF: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin];
/// Every staff role sees the catalog; these edit products, categories and attributes…
pub const MANAGE_CATALOG: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin, StaffRole::ContentEditor];
/// …these set prices, price groups, contract prices and promotions…
pub const MANAGE_PRICES: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin, StaffRole::Manager];
/// …and these set stock.
pub const MANAGE_STOCK: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin, StaffRole::Warehouse];
/// Who sees orders (accountants for invoices, the warehouse to assemble them).
pub const SEE_ORDERS: &[StaffRole] =
    &[StaffRole::Owner, StaffRole::Admin, StaffRole::Manager, StaffRole::Warehouse, StaffRole::Accountant];
/// Who changes orders' status and notes (the warehouse marks them assembled and shipped).
pub const MANAGE_ORDERS: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin, StaffRole::Manager, StaffRole::Warehouse];

/// Who sees customers' balances, payments and ledgers…
pub const SEE_FINANCE: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin, StaffRole::Manager, StaffRole::Accountant];
/// …and who registers and reverses payments.
pub const MANAGE_FINANCE: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin, StaffRole::Accountant];

/// The account's active staff role in this tenant.
pub fn role_of(conn: &mut PgConnection, account_id: i64) -> AppResult<Option<StaffRole>> {
    let role: Option<String> = staff::table
        .filter(staff::account_id.eq(account_id))
        .filter(staff::status.eq("active"))
        .select(staff::role)
        .first(conn)
        .optional()?;
    Ok(role.as_deref().and_then(StaffRole::parse))
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct StaffMember {
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub status: String,
}

pub fn list(conn: &mut PgConnection) -> AppResult<Vec<StaffMember>> {
    Ok(staff::table
        .inner_join(accounts::table)
        .order((staff::status.asc(), accounts::name.asc()))
        .select((accounts::id, accounts::name, accounts::email, staff::role, staff::status))
        .load(conn)?)
}

/// E-mails of active staff with one of `roles` (for notifications).
pub fn emails(conn: &mut PgConnection, roles: &[StaffRole]) -> AppResult<Vec<String>> {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Ok(staff::table
        .inner_join(accounts::table)
        .filter(staff::status.eq("active"))
        .filter(staff::role.eq_any(names))
        .select(accounts::email)
        .load(conn)?)
}

pub fn add(conn: &mut PgConnection, account_id: i64, role: StaffRole) -> AppResult<()> {
    diesel::insert_into(staff::table)
        .values((staff::account_id.eq(account_id), staff::role.eq(role.as_str())))
        .execute(conn)
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => AppError::conflict("already_staff", "this person is already on the staff"),
            other => other,
        })?;
    Ok(())
}

/// Changes a staff member's role or status. Only owners touch owners; the last active
/// owner stays.
pub fn update(
    conn: &mut PgConnection,
    actor: StaffRole,
    account_id: i64,
    role: Option<StaffRole>,
    status: Option<&str>,
) -> AppResult<StaffMember> {
    if status.is_some_and(|s| s != "active" && s != "disabled") {
        return Err(AppError::field("status", "must be active or disabled"));
    }
    let all = list(conn)?;
    let target = all.iter().find(|m| m.account_id == account_id).ok_or_else(|| AppError::not_found("staff member"))?;
    let touches_owner = target.role == "owner" || role == Some(StaffRole::Owner);
    if touches_owner && actor != StaffRole::Owner {
        return Err(AppError::forbidden("only an owner can change owners"));
    }
    let loses_owner =
        target.role == "owner" && (role.is_some_and(|r| r != StaffRole::Owner) || status == Some("disabled"));
    let owners = all.iter().filter(|m| m.role == "owner" && m.status == "active" && m.account_id != account_id).count();
    if loses_owner && owners == 0 {
        return Err(AppError::conflict("last_owner", "the store needs at least one active owner"));
    }
    diesel::update(staff::table.find(account_id))
        .set((
            staff::role.eq(role.map(|r| r.as_str()).unwrap_or(&target.role)),
            staff::status.eq(status.unwrap_or(&target.status)),
            staff::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    list(conn)?.into_iter().find(|m| m.account_id == account_id).ok_or_else(|| AppError::not_found("staff member"))
}
