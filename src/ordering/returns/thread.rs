//! The thread on a request: messages of the buyer and of staff and the status changes, each
//! message told to the other side (cabinet notification and mail, in the same transaction);
//! and the reminder to staff when the decision deadline nears (a job in the outbox).

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::{Return, REMIND_JOB};
use crate::db::schema_platform::jobs;
use crate::db::schema_tenant::{return_messages, returns, staff};
use crate::error::{AppError, AppResult};
use crate::identity::staff::MANAGE_ORDERS;
use crate::ordering::notify;

/// Who writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buyer,
    Staff,
}

/// A status change in the thread.
pub fn system(conn: &mut PgConnection, id: i64, to_status: &str, body: &str) -> AppResult<()> {
    diesel::insert_into(return_messages::table)
        .values((
            return_messages::return_id.eq(id),
            return_messages::author_kind.eq("system"),
            return_messages::body.eq(body),
            return_messages::to_status.eq(to_status),
        ))
        .execute(conn)?;
    Ok(())
}

/// Active staff who handle orders (they decide on returns).
pub fn staff_accounts(conn: &mut PgConnection) -> AppResult<Vec<i64>> {
    let roles: Vec<&str> = MANAGE_ORDERS.iter().map(|r| r.as_str()).collect();
    Ok(staff::table
        .filter(staff::status.eq("active"))
        .filter(staff::role.eq_any(roles))
        .select(staff::account_id)
        .load(conn)?)
}

pub fn tell_staff(conn: &mut PgConnection, r: &Return, title: &str, text: &str) -> AppResult<()> {
    let to = staff_accounts(conn)?;
    let text = if text.is_empty() { title } else { text };
    notify::tell_link(conn, &to, r.company_id, "return", &format!("/admin/returns/{}", r.number), title, text)
}

pub fn tell_buyer(conn: &mut PgConnection, r: &Return, title: &str, text: &str) -> AppResult<()> {
    let text = if text.is_empty() { title } else { text };
    notify::tell_link(
        conn,
        &[r.account_id],
        r.company_id,
        "return",
        &format!("/account/returns/{}", r.number),
        title,
        text,
    )
}

/// A message from the buyer or staff; the other side is told.
pub fn post(conn: &mut PgConnection, r: &Return, side: Side, account: i64, body: &str) -> AppResult<i64> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 4000 {
        return Err(AppError::field("body", "write a message of at most 4,000 characters"));
    }
    let id = diesel::insert_into(return_messages::table)
        .values((
            return_messages::return_id.eq(r.id),
            return_messages::author_kind.eq(if side == Side::Buyer { "buyer" } else { "staff" }),
            return_messages::account_id.eq(account),
            return_messages::body.eq(body),
        ))
        .returning(return_messages::id)
        .get_result(conn)?;
    diesel::update(returns::table.find(r.id)).set(returns::updated_at.eq(diesel::dsl::now)).execute(conn)?;
    let title = format!("Сообщение по возврату {0} / A message on return {0}", r.number);
    match side {
        Side::Buyer => tell_staff(conn, r, &title, body)?,
        Side::Staff => tell_buyer(conn, r, &title, body)?,
    }
    Ok(id)
}

/// Queues the reminder a day before the decision is due (at once when less is left).
pub fn schedule_reminder(conn: &mut PgConnection, r: &Return) -> AppResult<()> {
    let tenant =
        notify::tenant_id(conn)?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no tenant for this schema")))?;
    let at = (r.decide_by - Duration::days(1)).max(Utc::now());
    diesel::insert_into(jobs::table)
        .values((
            jobs::queue.eq("orders"),
            jobs::kind.eq(REMIND_JOB),
            jobs::tenant_id.eq(tenant),
            jobs::payload.eq(json!({"return_id": r.id})),
            jobs::run_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The reminder job: staff are told once, if the request still waits for a decision.
pub fn remind(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    let Some(r) = returns::table.find(id).for_update().select(Return::as_select()).first(conn).optional()? else {
        return Ok(());
    };
    let reminded: Option<chrono::DateTime<Utc>> = returns::table.find(id).select(returns::reminded_at).first(conn)?;
    if r.status != "requested" || reminded.is_some() {
        return Ok(());
    }
    diesel::update(returns::table.find(id)).set(returns::reminded_at.eq(diesel::dsl::now)).execute(conn)?;
    let due = r.decide_by.format("%d.%m.%Y %H:%M UTC");
    let title = format!("Решите по возврату {0} до {due} / Decide on return {0} by {due}", r.number);
    tell_staff(conn, &r, &title, "")
}
