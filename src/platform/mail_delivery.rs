//! Sending the mail outbox over SMTP (`SMTP_URL`), from the job worker.
//!
//! Mail is written to `public.mail_outbox` in the transaction of the change that causes it, so
//! a rolled-back change sends nothing. The worker leases due rows (`next_attempt_at` moved past
//! the lease, like jobs), sends each and marks it sent. A worker killed between sending and
//! marking sends that mail again after the lease, with the same `Message-ID`
//! (`<tp-mail-ID@base_domain>`), so receivers can drop the duplicate. Temporary failures (4xx,
//! connection refused, timeouts) are retried with back-off; permanent ones (5xx, an address
//! that is not one) and mail older than `mail.max_age_hours` are given up with the reason,
//! which operators see on `/platform/mail`.

use std::time::{Duration, SystemTime};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Int4, Nullable, Text, Timestamptz};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::app::AppState;
use crate::config::Settings;
use crate::db::read_platform;
use crate::error::{AppError, AppResult};

/// Tries before a mail is given up.
pub const MAX_ATTEMPTS: i32 = 8;
/// Mails per batch.
const BATCH: i64 = 50;

#[derive(QueryableByName, Debug)]
struct Due {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    to_email: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Text)]
    body_text: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Int4)]
    attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    tenant_name: Option<String>,
    #[diesel(sql_type = Bool)]
    expired: bool,
}

/// What became of one mail.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Sent,
    Retry(String),
    GiveUp(String),
}

/// Sends the due mail (of one tenant, in tests); returns how many mails were tried. Without
/// `SMTP_URL` mail stays in the outbox and this does nothing.
pub async fn deliver(state: &AppState, tenant: Option<i64>) -> AppResult<usize> {
    let Some(url) = state.settings.smtp.url.as_ref().map(|u| u.expose_secret().to_owned()) else {
        return Ok(0);
    };
    if url.trim().is_empty() {
        return Ok(0);
    }
    let max_age = i32::try_from(state.settings.mail.max_age_hours.max(1)).unwrap_or(i32::MAX);
    // A claimed mail is reserved for its worker as long as a claimed job (`jobs.lease_secs`).
    let lease = state.settings.jobs.lease_secs;
    let due: Vec<Due> = read_platform(&state.pool, move |c| claim(c, tenant, max_age, lease)).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let transport = transport(&url, &state.settings)?;
    let from = sender(&state.settings)?;
    let n = due.len();
    let mut due = due.into_iter();
    while let Some(mail) = due.next() {
        // From SIGTERM on, mails not yet tried go back at once (like unstarted jobs) instead
        // of waiting out their lease.
        if state.lifecycle.is_stopping() {
            let back: Vec<i64> = std::iter::once(mail.id).chain(due.map(|m| m.id)).collect();
            let count = back.len();
            read_platform(&state.pool, move |c| release(c, &back)).await?;
            tracing::info!(mails = count, "shutting down: unsent mails handed back");
            break;
        }
        let outcome = if mail.expired {
            Outcome::GiveUp(format!("expired: not sent within {} h", state.settings.mail.max_age_hours))
        } else {
            send(&transport, &from, &state.settings.server.base_domain, &mail).await
        };
        match &outcome {
            Outcome::Sent => tracing::info!(mail = mail.id, "mail sent"),
            Outcome::Retry(e) => {
                tracing::warn!(mail = mail.id, attempt = mail.attempts, error = %e, "mail not sent; will retry")
            }
            Outcome::GiveUp(e) => tracing::warn!(mail = mail.id, error = %e, "mail given up"),
        }
        let (id, attempts) = (mail.id, mail.attempts);
        read_platform(&state.pool, move |c| record(c, id, attempts, &outcome)).await?;
    }
    Ok(n)
}

/// Claimed mails not tried: due again now, the claim's attempt given back.
fn release(conn: &mut PgConnection, ids: &[i64]) -> AppResult<()> {
    diesel::sql_query(
        "UPDATE public.mail_outbox SET next_attempt_at = now(), attempts = greatest(attempts - 1, 0) \
         WHERE id = ANY($1) AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(ids)
    .execute(conn)?;
    Ok(())
}

fn claim(conn: &mut PgConnection, tenant: Option<i64>, max_age_hours: i32, lease_secs: i64) -> AppResult<Vec<Due>> {
    Ok(diesel::sql_query(
        "WITH due AS ( \
             SELECT id FROM public.mail_outbox \
             WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() \
               AND ($2::bigint IS NULL OR tenant_id = $2) \
             ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED), \
         claimed AS ( \
             UPDATE public.mail_outbox m \
             SET attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => $1) \
             FROM due WHERE m.id = due.id \
             RETURNING m.id, m.tenant_id, m.to_email, m.subject, m.body_text, m.created_at, m.attempts) \
         SELECT c.id, c.to_email, c.subject, c.body_text, c.created_at, c.attempts, t.name AS tenant_name, \
                c.created_at < now() - make_interval(hours => $4) AS expired \
         FROM claimed c LEFT JOIN public.tenants t ON t.id = c.tenant_id ORDER BY c.id",
    )
    .bind::<BigInt, _>(lease_secs.max(1))
    .bind::<Nullable<BigInt>, _>(tenant)
    .bind::<BigInt, _>(BATCH)
    .bind::<Int4, _>(max_age_hours)
    .load(conn)?)
}

fn record(conn: &mut PgConnection, id: i64, attempts: i32, outcome: &Outcome) -> AppResult<()> {
    match outcome {
        Outcome::Sent => diesel::sql_query(
            "UPDATE public.mail_outbox SET sent_at = now(), last_error = NULL WHERE id = $1 AND sent_at IS NULL",
        )
        .bind::<BigInt, _>(id)
        .execute(conn)?,
        Outcome::Retry(e) if attempts < MAX_ATTEMPTS => diesel::sql_query(
            "UPDATE public.mail_outbox SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3) \
             WHERE id = $1 AND sent_at IS NULL",
        )
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(clip(e))
        .bind::<BigInt, _>(backoff_secs(attempts))
        .execute(conn)?,
        Outcome::Retry(e) | Outcome::GiveUp(e) => diesel::sql_query(
            "UPDATE public.mail_outbox SET last_error = $2, failed_at = now() WHERE id = $1 AND sent_at IS NULL",
        )
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(clip(e))
        .execute(conn)?,
    };
    Ok(())
}

/// 1, 2, 4 … minutes after the n-th failed try, at most an hour (8 tries span about 3 hours).
fn backoff_secs(attempts: i32) -> i64 {
    (60 * 2_i64.pow(attempts.clamp(1, 7) as u32 - 1)).min(3600)
}

fn clip(s: &str) -> String {
    s.chars().take(1000).collect()
}

fn transport(url: &str, settings: &Settings) -> AppResult<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("SMTP_URL is not a usable SMTP address: {e}")))?;
    Ok(builder
        .hello_name(ClientId::Domain(settings.server.base_domain.clone()))
        .timeout(Some(Duration::from_secs(settings.mail.timeout_secs.max(1))))
        .build())
}

/// The configured sender address (`mail.from`, default `no-reply@<base_domain>`).
fn sender(settings: &Settings) -> AppResult<Address> {
    let raw = match &settings.mail.from {
        Some(f) if !f.trim().is_empty() => f.trim().to_owned(),
        _ => format!("no-reply@{}", settings.server.base_domain),
    };
    // "Name <address>" or a bare address; the display name is the store's anyway.
    let address = match raw.parse::<Mailbox>() {
        Ok(m) => m.email,
        Err(_) => raw
            .parse::<Address>()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("mail.from {raw:?} is not an e-mail address: {e}")))?,
    };
    Ok(address)
}

async fn send(transport: &AsyncSmtpTransport<Tokio1Executor>, from: &Address, domain: &str, mail: &Due) -> Outcome {
    let to = match mail.to_email.parse::<Address>() {
        Ok(a) => Mailbox::new(None, a),
        Err(e) => return Outcome::GiveUp(format!("the recipient {:?} is not an e-mail address: {e}", mail.to_email)),
    };
    let name = mail.tenant_name.clone().unwrap_or_else(|| "Tradeport".to_owned());
    let created: SystemTime = mail.created_at.into();
    let message = Message::builder()
        .from(Mailbox::new(Some(name), from.clone()))
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<tp-mail-{}@{}>", mail.id, domain)))
        .date(created)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body_text.clone());
    let message = match message {
        Ok(m) => m,
        Err(e) => return Outcome::GiveUp(format!("the message cannot be built: {e}")),
    };
    match transport.send(message).await {
        Ok(_) => Outcome::Sent,
        Err(e) if e.is_permanent() => Outcome::GiveUp(format!("refused by the mail server: {e}")),
        Err(e) => Outcome::Retry(format!("{e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_to_an_hour() {
        let waits: Vec<i64> = (1..=8).map(backoff_secs).collect();
        assert_eq!(waits, vec![60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}
