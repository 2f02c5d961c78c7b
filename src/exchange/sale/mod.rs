//! The 1C order exchange (`type=sale`, issue 8): orders out to 1C (`mode=query`, confirmed
//! by `mode=success`), and what 1C sends back (`mode=file`/`import`): 1C numbers and dates,
//! statuses, shipments and payments of our orders, payment documents and opening balances
//! by the counterparty's INN, and counterparties that create or update buyer companies.
//!
//! Which orders go out: every order not yet confirmed as exported, or whose *state* (status,
//! total, invoice payment; [`state::STATE`]) differs from the one 1C has. The state 1C has is
//! set on `success` (what the pending batch sent) and also when 1C itself changed the order,
//! so 1C's own changes are not sent back to it (no ping-pong).

mod apply;
mod companies;
mod export;
mod load;
mod money;
mod state;
mod status;

use std::path::Path;

use diesel::PgConnection;

use crate::db::TenantSchema;
use crate::error::AppResult;
use crate::exchange::commerceml;
use crate::exchange::report::{AnswerEncoding, ImportError, ImportReport};

pub use state::number_in_1c;

/// The most orders one `mode=query` answer carries; the rest go in the next exchange.
pub const QUERY_LIMIT: i64 = 500;

/// mode=query: the CommerceML document of the orders 1C has not confirmed yet, in `encoding`
/// (declaration, bytes and the caller's Content-Type charset agree). Records them as the pending batch.
pub fn query(conn: &mut PgConnection, encoding: AnswerEncoding) -> AppResult<Vec<u8>> {
    let ids = state::pending_candidates(conn, QUERY_LIMIT)?;
    let orders = load::orders(conn, &ids)?;
    let text = export::document(&orders, encoding.charset(), &load::site(conn)?)?;
    state::mark_pending(conn, &ids)?;
    Ok(encoding.encode(&text))
}

/// mode=success: the pending batch is exported; returns how many orders were marked.
pub fn success(conn: &mut PgConnection) -> AppResult<u64> {
    state::confirm_pending(conn)
}

/// A file 1C sent with type=sale (orders/documents with statuses, payments; contragents).
pub async fn import_file(
    state: &crate::app::AppState,
    tenant_id: i64,
    schema: &TenantSchema,
    file_name: &str,
    path: &Path,
) -> Result<ImportReport, ImportError> {
    let file = file_name.to_owned();
    let owned = path.to_owned();
    let doc = crate::db::run_blocking(move || Ok(commerceml::parse_file(&owned))).await??;
    let kind = if doc.documents.is_empty() && !doc.counterparties.is_empty() { "contragents" } else { "orders" };
    let mut report = ImportReport::new(&file, kind, &doc.header.schema_version);
    for w in &doc.warnings {
        report.warn(w.line, w.message.clone());
    }
    if doc.documents.is_empty() && doc.counterparties.is_empty() {
        return Err(ImportError::Refused(format!(
            "{file}: no <Документ> or <Контрагент> in the file: not an orders or contragents file"
        )));
    }
    tracing::info!(tenant_id, file = %file, documents = doc.documents.len(), "1C sale import");
    let report = crate::db::with_tenant(&state.pool, schema, move |conn| {
        apply::file(conn, &doc, &mut report)?;
        Ok(report)
    })
    .await?;
    Ok(report)
}
