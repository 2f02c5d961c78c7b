//! Outgoing mail. Every message is written to `public.mail_outbox` in the transaction of
//! the change that causes it; with `SMTP_URL` the job worker sends it (`mail_delivery`),
//! without it stays there, readable by operators.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema_platform::mail_outbox;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = mail_outbox, check_for_backend(diesel::pg::Pg))]
pub struct Mail {
    pub id: i64,
    pub tenant_id: Option<i64>,
    #[serde(rename = "to")]
    pub to_email: String,
    pub subject: String,
    #[serde(rename = "text")]
    pub body_text: String,
    pub links: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Delivery tries so far (with `SMTP_URL` set).
    pub attempts: i32,
    /// Why the last try failed, or why the mail was given up.
    pub last_error: Option<String>,
    /// Set when the mail was given up (permanent refusal, too many tries, expired).
    pub failed_at: Option<DateTime<Utc>>,
}

pub struct OutgoingMail<'a> {
    pub tenant_id: Option<i64>,
    pub to: &'a str,
    pub subject: String,
    pub text: String,
    pub links: Vec<String>,
}

pub fn enqueue(conn: &mut PgConnection, mail: OutgoingMail<'_>) -> AppResult<i64> {
    Ok(diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::tenant_id.eq(mail.tenant_id),
            mail_outbox::to_email.eq(mail.to),
            mail_outbox::subject.eq(&mail.subject),
            mail_outbox::body_text.eq(&mail.text),
            mail_outbox::links.eq(serde_json::json!(mail.links)),
        ))
        .returning(mail_outbox::id)
        .get_result(conn)?)
}

/// Newest first; `to` filters by recipient.
pub fn list(conn: &mut PgConnection, to: Option<&str>, offset: i64, limit: i64) -> AppResult<(Vec<Mail>, i64)> {
    let mut q = mail_outbox::table.into_boxed();
    let mut count = mail_outbox::table.into_boxed();
    if let Some(to) = to {
        q = q.filter(mail_outbox::to_email.eq(to.to_lowercase()));
        count = count.filter(mail_outbox::to_email.eq(to.to_lowercase()));
    }
    let items = q.order(mail_outbox::id.desc()).offset(offset).limit(limit).select(Mail::as_select()).load(conn)?;
    Ok((items, count.count().get_result(conn)?))
}
