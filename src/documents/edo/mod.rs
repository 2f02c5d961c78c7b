//! Electronic document interchange (EDO). A document goes to the buyer through the store's
//! operator as the FNS XML file; the operator reports it delivered, signed by the buyer, or
//! rejected with a reason. [`EdoProvider`] is what an operator must do for us; [`file`] is a
//! file exchange (an outbox folder we write, an inbox folder of receipts we read) and [`http`]
//! the skeleton of an operator API client. Sending and polling run as jobs (retried with
//! back-off by the queue); states only move forward: sent → delivered → signed, or rejected.

pub mod file;
pub mod http;
pub mod jobs;

use chrono::Utc;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema_tenant::{companies, document_edo, documents};
use crate::error::{AppError, AppResult};

/// A document on its way out.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub file_name: String,
    pub xml: Vec<u8>,
    pub sender_id: String,
    pub receiver_id: String,
}

/// What the operator says about a file we sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The file name we sent (`ON_NSCHFDOPPR_….xml`).
    pub file: String,
    /// `delivered`, `signed` or `rejected`.
    pub status: String,
    #[serde(default)]
    pub reason: String,
}

/// What an EDO operator does for us.
pub trait EdoProvider {
    fn name(&self) -> &'static str;
    /// Hands the file to the operator (idempotent: sending the same name again replaces it).
    fn send(&self, out: &Outgoing) -> AppResult<()>;
    /// Receipts that arrived since the last call; each is handed back to [`EdoProvider::done`]
    /// once applied.
    fn receipts(&self) -> AppResult<Vec<(String, Receipt)>>;
    /// The receipt `key` was applied (or refused): it is not read again.
    fn done(&self, key: &str, applied: bool) -> AppResult<()>;
}

/// Rank of a state: a report never moves a document back.
fn rank(status: &str) -> u8 {
    match status {
        "queued" | "failed" => 0,
        "sent" => 1,
        "delivered" => 2,
        "signed" | "rejected" => 3,
        _ => 0,
    }
}

/// Puts document `id` in the queue for EDO: its XML must exist, the store must have a
/// provider, and it is queued once (a second request answers the current state).
pub fn queue(conn: &mut PgConnection, id: i64, provider: &str) -> AppResult<String> {
    if !matches!(provider, "file" | "http") {
        return Err(AppError::conflict("edo_not_configured", "choose an EDO provider in the store settings first"));
    }
    let name: Option<String> = documents::table.find(id).select(documents::xml_name).first(conn)?;
    let Some(name) = name else {
        return Err(AppError::conflict("no_xml", "only documents with an FNS XML file (the УПД) go through EDO"));
    };
    let existing: Option<String> = document_edo::table.find(id).select(document_edo::status).first(conn).optional()?;
    if let Some(status) = existing {
        if status != "failed" {
            return Ok(status);
        }
    }
    diesel::insert_into(document_edo::table)
        .values((
            document_edo::document_id.eq(id),
            document_edo::provider.eq(provider),
            document_edo::file_name.eq(&name),
            document_edo::status.eq("queued"),
        ))
        .on_conflict(document_edo::document_id)
        .do_update()
        .set((
            document_edo::status.eq("queued"),
            document_edo::last_error.eq(""),
            document_edo::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    jobs::enqueue(conn, jobs::SEND_JOB, Some(id), 0)?;
    Ok("queued".into())
}

/// The file and parties of a queued document.
pub fn outgoing(conn: &mut PgConnection, id: i64) -> AppResult<Option<Outgoing>> {
    let row: Option<(String, Option<Vec<u8>>, i64, String)> = document_edo::table
        .inner_join(documents::table)
        .filter(document_edo::document_id.eq(id))
        .filter(document_edo::status.eq_any(["queued", "sent"]))
        .select((document_edo::file_name, documents::xml, documents::company_id, document_edo::status))
        .first(conn)
        .optional()?;
    let Some((file_name, Some(xml), company, _)) = row else { return Ok(None) };
    let receiver: Option<String> = companies::table.find(company).select(companies::edo_id).first(conn)?;
    let sender = super::settings::load(conn)?.edo_id;
    Ok(Some(Outgoing { file_name, xml, sender_id: sender, receiver_id: receiver.unwrap_or_default() }))
}

/// Records that document `id` went out.
pub fn mark_sent(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    diesel::update(document_edo::table.find(id).filter(document_edo::status.eq("queued")))
        .set((
            document_edo::status.eq("sent"),
            document_edo::sent_at.eq(Utc::now()),
            document_edo::attempts.eq(document_edo::attempts + 1),
            document_edo::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Applies one receipt; false when it names no document of ours or the status is unknown.
pub fn apply(conn: &mut PgConnection, r: &Receipt) -> AppResult<bool> {
    if !matches!(r.status.as_str(), "delivered" | "signed" | "rejected") {
        return Ok(false);
    }
    let row: Option<(i64, String)> = document_edo::table
        .filter(document_edo::file_name.eq(&r.file))
        .select((document_edo::document_id, document_edo::status))
        .for_update()
        .first(conn)
        .optional()?;
    let Some((id, current)) = row else { return Ok(false) };
    if rank(&r.status) > rank(&current) {
        let reason: String = r.reason.chars().take(1000).collect();
        diesel::update(document_edo::table.find(id))
            .set((
                document_edo::status.eq(&r.status),
                document_edo::reason.eq(reason),
                document_edo::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
    }
    Ok(true)
}

/// Documents still waiting for the operator's word.
pub fn open_count(conn: &mut PgConnection) -> AppResult<i64> {
    Ok(document_edo::table
        .filter(document_edo::status.eq_any(["queued", "sent", "delivered"]))
        .count()
        .get_result(conn)?)
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn states_only_move_forward() {
        assert!(rank("delivered") > rank("sent"));
        assert!(rank("signed") > rank("delivered"));
        assert!(rank("rejected") > rank("delivered"));
        assert!(rank("delivered") <= rank("signed"), "a late 'delivered' does not undo 'signed'");
        assert_eq!(rank("signed"), rank("rejected"), "final either way");
    }
}
