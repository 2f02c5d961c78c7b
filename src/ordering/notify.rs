//! What people are told about orders: a notification in the cabinet and an e-mail, both
//! written in the transaction of the change (so none is lost or sent for a rolled-back one).

use diesel::prelude::*;

use super::Actor;
use crate::db::schema_platform::accounts;
use crate::db::schema_tenant::{company_members, notifications};
use crate::error::AppResult;
use crate::platform::mail::{self, OutgoingMail};

pub fn tenant_id(conn: &mut PgConnection) -> AppResult<Option<i64>> {
    use crate::db::schema_platform::tenants;
    let schema: String =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("current_setting('app.tenant_id')"))
            .get_result(conn)?;
    Ok(tenants::table.filter(tenants::schema_name.eq(schema)).select(tenants::id).first(conn).optional()?)
}

/// Tells `accounts` (cabinet and mail) that order `number` changed.
pub fn tell(
    conn: &mut PgConnection,
    to: &[i64],
    company: i64,
    kind: &str,
    number: &str,
    title: &str,
    text: &str,
) -> AppResult<()> {
    tell_link(conn, to, company, kind, &format!("/orders/{number}"), title, text)
}

/// Tells `accounts` (cabinet and mail) something, with a link inside the store.
pub fn tell_link(
    conn: &mut PgConnection,
    to: &[i64],
    company: i64,
    kind: &str,
    link: &str,
    title: &str,
    text: &str,
) -> AppResult<()> {
    let tenant = tenant_id(conn)?;
    let link = link.to_owned();
    for account in to {
        diesel::insert_into(notifications::table)
            .values((
                notifications::account_id.eq(account),
                notifications::company_id.eq(company),
                notifications::kind.eq(kind),
                notifications::title.eq(title),
                notifications::link.eq(&link),
            ))
            .execute(conn)?;
        let email: Option<String> = accounts::table.find(account).select(accounts::email).first(conn).optional()?;
        if let Some(email) = email {
            mail::enqueue(
                conn,
                OutgoingMail {
                    tenant_id: tenant,
                    to: &email,
                    subject: title.to_owned(),
                    text: text.to_owned(),
                    links: vec![link.clone()],
                },
            )?;
        }
    }
    Ok(())
}

/// The company's active admins.
pub fn company_admins(conn: &mut PgConnection, company: i64) -> AppResult<Vec<i64>> {
    Ok(company_members::table
        .filter(company_members::company_id.eq(company))
        .filter(company_members::role.eq("admin"))
        .filter(company_members::status.eq("active"))
        .select(company_members::account_id)
        .load(conn)?)
}

/// The title and text telling the buyer that order `number` is placed (both languages).
pub fn placed_texts(number: &str, total: &str, currency: &str) -> (String, String) {
    (
        format!("Заказ {number} принят / Order {number} placed"),
        format!("Заказ {number} на сумму {total} {currency} принят. / Order {number}, {total} {currency}, is placed."),
    )
}

/// Tells the company's admins that order `number` is above the buyer's limit and awaits
/// their approval (the buyer was told by `place_order` itself).
pub fn awaiting_approval(
    conn: &mut PgConnection,
    actor: &Actor,
    number: &str,
    total: &str,
    currency: &str,
) -> AppResult<()> {
    let admins = company_admins(conn, actor.company.id)?;
    let title = format!("Заказ {number} ждёт вашего одобрения / Order {number} awaits your approval");
    let text = format!(
        "Заказ {number} на сумму {total} {currency} превышает лимит сотрудника и ждёт одобрения. / \
         Order {number}, {total} {currency}, is above the buyer's limit and awaits approval."
    );
    tell(conn, &admins, actor.company.id, "order_approval", number, &title, &text)
}

/// The person's cabinet notifications in this store, newest first, and how many are unread.
pub fn list(conn: &mut PgConnection, account: i64, limit: i64) -> AppResult<serde_json::Value> {
    type Row = (i64, String, String, String, Option<chrono::DateTime<chrono::Utc>>, chrono::DateTime<chrono::Utc>);
    let rows: Vec<Row> = notifications::table
        .filter(notifications::account_id.eq(account))
        .order(notifications::id.desc())
        .limit(limit)
        .select((
            notifications::id,
            notifications::kind,
            notifications::title,
            notifications::link,
            notifications::read_at,
            notifications::created_at,
        ))
        .load(conn)?;
    let unread: i64 = notifications::table
        .filter(notifications::account_id.eq(account))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|(id, kind, title, link, read, at)| {
            serde_json::json!({"id": id, "kind": kind, "title": title, "link": link, "read": read.is_some(), "created_at": at,
                "when": at.format("%d.%m.%Y %H:%M").to_string()})
        })
        .collect();
    Ok(serde_json::json!({"items": items, "total": items.len(), "unread": unread, "page": 1, "per_page": limit}))
}

/// Marks the person's notifications read (all when `ids` is empty); answers how many.
pub fn mark_read(conn: &mut PgConnection, account: i64, ids: &[i64]) -> AppResult<usize> {
    let base =
        notifications::table.filter(notifications::account_id.eq(account)).filter(notifications::read_at.is_null());
    let n = if ids.is_empty() {
        diesel::update(base).set(notifications::read_at.eq(diesel::dsl::now)).execute(conn)?
    } else {
        diesel::update(base.filter(notifications::id.eq_any(ids)))
            .set(notifications::read_at.eq(diesel::dsl::now))
            .execute(conn)?
    };
    Ok(n)
}
