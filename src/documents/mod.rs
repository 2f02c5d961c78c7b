//! Accounting documents: the УПД (универсальный передаточный документ), ТОРГ-12, the
//! счёт-фактура and the act of services, issued when an order ships (once per order, in the
//! shipping transaction) or by staff, numbered per store, kind and year, and never changed
//! afterwards (a correction is a new document pointing at the one it corrects).
//!
//! Other modules issue their documents (a return's correction, a contract) through
//! [`issue`]: a `kind`, a `source` reference and a snapshot; the archive lists and zips them
//! with the rest.

pub mod archive;
pub mod assets;
pub mod edo;
pub mod forms_pdf;
pub mod render;
pub mod settings;
pub mod snapshot;
pub mod upd_pdf;
pub mod upd_xml;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::db::schema_tenant::{companies, document_counters, document_edo, documents, orders};
use crate::error::{AppError, AppResult};
use snapshot::{LineData, Snapshot};

/// A document's stored content: (id, kind, number, snapshot, stored PDF).
pub type Content = (i64, String, String, Value, Option<Vec<u8>>);
/// A document's EDO state: (id, status, reason, when).
pub type EdoState = (i64, String, String, chrono::DateTime<chrono::Utc>);
/// Customers (id, name, INN) and orders (id, number) named by a list.
pub type Labels = (Vec<(i64, String, String)>, Vec<(i64, String)>);

/// Kinds this module draws; other modules add theirs (`credit_note`, `contract`, …).
pub const KINDS: &[&str] = &["upd", "torg12", "invoice_factura", "act"];

/// A document as listed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = documents)]
pub struct DocRow {
    pub id: i64,
    pub kind: String,
    pub number: String,
    pub issued_on: NaiveDate,
    pub company_id: i64,
    pub order_id: Option<i64>,
    pub source_kind: String,
    pub source_id: i64,
    pub corrects: Option<i64>,
    pub amount: Decimal,
    pub vat_amount: Decimal,
    pub xml_name: Option<String>,
}

/// A new document: what it is, whose, from what, and what it shows.
pub struct NewDocument {
    pub kind: String,
    pub company_id: i64,
    pub order_id: Option<i64>,
    pub source: (String, i64),
    pub corrects: Option<i64>,
    pub issued_on: NaiveDate,
    pub amount: Decimal,
    pub vat_amount: Decimal,
    pub snapshot: Value,
    pub xml: Option<(String, Vec<u8>)>,
    pub pdf: Option<Vec<u8>>,
    pub created_by: Option<i64>,
}

/// The next number of `kind` in `year` (a row per kind and year, locked until commit: issues
/// of one kind queue for that row; shipping is far rarer than placing orders).
pub fn next_number(conn: &mut PgConnection, kind: &str, year: i32) -> AppResult<i32> {
    let n: i32 = diesel::insert_into(document_counters::table)
        .values((document_counters::kind.eq(kind), document_counters::year.eq(year), document_counters::last.eq(1)))
        .on_conflict((document_counters::kind, document_counters::year))
        .do_update()
        .set(document_counters::last.eq(document_counters::last + 1))
        .returning(document_counters::last)
        .get_result(conn)?;
    Ok(n)
}

/// Writes a document numbered `seq` in its year (from [`next_number`]).
pub fn insert(conn: &mut PgConnection, seq: i32, number: &str, d: NewDocument) -> AppResult<i64> {
    let (xml_name, xml) = match d.xml {
        Some((n, x)) => (Some(n), Some(x)),
        None => (None, None),
    };
    Ok(diesel::insert_into(documents::table)
        .values((
            documents::kind.eq(&d.kind),
            documents::year.eq(d.issued_on.year()),
            documents::seq.eq(seq),
            documents::number.eq(number),
            documents::issued_on.eq(d.issued_on),
            documents::company_id.eq(d.company_id),
            documents::order_id.eq(d.order_id),
            documents::source_kind.eq(&d.source.0),
            documents::source_id.eq(d.source.1),
            documents::corrects.eq(d.corrects),
            documents::amount.eq(d.amount),
            documents::vat_amount.eq(d.vat_amount),
            documents::snapshot.eq(&d.snapshot),
            documents::xml_name.eq(xml_name),
            documents::xml.eq(xml),
            documents::pdf.eq(d.pdf),
            documents::created_by.eq(d.created_by),
        ))
        .returning(documents::id)
        .get_result(conn)?)
}

/// Issues a document of another module (a return's correction, a contract): numbered in its
/// kind and year, listed and archived with the rest. Its PDF is `d.pdf` (stored) unless
/// [`render`] knows how to draw its kind from the snapshot.
pub fn issue(conn: &mut PgConnection, d: NewDocument) -> AppResult<(i64, String)> {
    if !d.kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(AppError::Internal(anyhow::anyhow!("bad document kind {}", d.kind)));
    }
    let seq = next_number(conn, &d.kind, d.issued_on.year())?;
    let number = seq.to_string();
    Ok((insert(conn, seq, &number, d)?, number))
}

/// The documents of a shipped order, issued once (a second call issues nothing): a УПД, or
/// where the store issues them separately a ТОРГ-12 for goods, an act for services (lines in
/// the unit `service`) and a счёт-фактура for all lines when the store pays VAT.
pub fn issue_for_order(conn: &mut PgConnection, order: i64, actor: Option<i64>) -> AppResult<Vec<i64>> {
    let exists: bool = diesel::select(diesel::dsl::exists(
        documents::table
            .filter(documents::source_kind.eq("order"))
            .filter(documents::source_id.eq(order))
            .filter(documents::corrects.is_null()),
    ))
    .get_result(conn)?;
    if exists {
        return Ok(Vec::new());
    }
    let store = store_name(conn)?;
    let o = snapshot::load_order(conn, order, &store)?;
    if o.lines.is_empty() {
        return Ok(Vec::new());
    }
    let s = settings::load(conn)?;
    let assets = assets::current(conn)?;
    let today = crate::finance::ledger::today();
    let (goods, services): (Vec<LineData>, Vec<LineData>) = o.lines.iter().cloned().partition(|l| !l.service);
    let mut plan: Vec<(&str, Vec<LineData>)> = Vec::new();
    if !s.separate {
        plan.push(("upd", o.lines.clone()));
    } else {
        if !goods.is_empty() {
            plan.push(("torg12", goods));
        }
        if !services.is_empty() {
            plan.push(("act", services));
        }
        if s.vat_payer {
            plan.push(("invoice_factura", o.lines.clone()));
        }
    }
    let mut ids = Vec::new();
    for (kind, lines) in plan {
        let seq = next_number(conn, kind, today.year())?;
        let number = seq.to_string();
        let status = if s.vat_payer { 1 } else { 2 };
        let snap = Snapshot::of(kind, number.clone(), today, status, &o, lines, assets.clone());
        let xml =
            if kind == "upd" { Some(upd_xml::write(&snap, uuid::Uuid::new_v4(), chrono::Utc::now())?) } else { None };
        let d = NewDocument {
            kind: kind.into(),
            company_id: o.company_id,
            order_id: Some(order),
            source: ("order".into(), order),
            corrects: None,
            issued_on: today,
            amount: snap.total,
            vat_amount: snap.vat_total,
            snapshot: serde_json::to_value(&snap).map_err(|e| AppError::Internal(e.into()))?,
            xml,
            pdf: None,
            created_by: actor,
        };
        ids.push(insert(conn, seq, &number, d)?);
    }
    Ok(ids)
}

/// The tenant's (id, name), from inside its transaction.
pub fn store(conn: &mut PgConnection) -> AppResult<(i64, String)> {
    use crate::db::schema_platform::tenants;
    let schema: String =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("current_setting('app.tenant_id')"))
            .get_result(conn)?;
    tenants::table
        .filter(tenants::schema_name.eq(schema))
        .select((tenants::id, tenants::name))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no tenant for this schema")))
}

fn store_name(conn: &mut PgConnection) -> AppResult<String> {
    Ok(store(conn)?.1)
}

/// Filters of a document list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub kind: Option<String>,
    pub order: Option<String>,
    pub company: Option<i64>,
}

/// At most this many documents in one archive.
pub const MAX_ARCHIVE: i64 = 20_000;

fn filtered<'a>(f: &'a Filter) -> documents::BoxedQuery<'a, diesel::pg::Pg> {
    let mut q = documents::table.into_boxed();
    if let Some(d) = f.from {
        q = q.filter(documents::issued_on.ge(d));
    }
    if let Some(d) = f.to {
        q = q.filter(documents::issued_on.le(d));
    }
    if let Some(k) = &f.kind {
        q = q.filter(documents::kind.eq(k));
    }
    if let Some(c) = f.company {
        q = q.filter(documents::company_id.eq(c));
    }
    if let Some(n) = &f.order {
        q = q.filter(
            documents::order_id.eq_any(orders::table.filter(orders::number.eq(n)).select(orders::id).nullable()),
        );
    }
    q
}

/// A page of documents, newest first, with the total.
pub fn list(conn: &mut PgConnection, f: &Filter, offset: i64, limit: i64) -> AppResult<(Vec<DocRow>, i64)> {
    let total: i64 = filtered(f).count().get_result(conn)?;
    let rows = filtered(f)
        .order((documents::issued_on.desc(), documents::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(DocRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The ids of the documents in `f`, oldest first (an archive's contents).
pub fn ids(conn: &mut PgConnection, f: &Filter) -> AppResult<Vec<i64>> {
    Ok(filtered(f).order((documents::issued_on, documents::id)).limit(MAX_ARCHIVE).select(documents::id).load(conn)?)
}

/// One document; with `company`, only that company's (another's is "not found").
pub fn find(conn: &mut PgConnection, id: i64, company: Option<i64>) -> AppResult<DocRow> {
    let mut q = documents::table.filter(documents::id.eq(id)).into_boxed();
    if let Some(c) = company {
        q = q.filter(documents::company_id.eq(c));
    }
    q.select(DocRow::as_select()).first(conn).optional()?.ok_or_else(|| AppError::not_found("document"))
}

/// Where each listed document stands at EDO.
pub fn edo_states(conn: &mut PgConnection, ids: &[i64]) -> AppResult<Vec<EdoState>> {
    Ok(document_edo::table
        .filter(document_edo::document_id.eq_any(ids))
        .select((document_edo::document_id, document_edo::status, document_edo::reason, document_edo::updated_at))
        .load(conn)?)
}

/// Names of the listed documents' customers and orders.
pub fn labels(conn: &mut PgConnection, rows: &[DocRow]) -> AppResult<Labels> {
    let cids: Vec<i64> = rows.iter().map(|r| r.company_id).collect();
    let oids: Vec<i64> = rows.iter().filter_map(|r| r.order_id).collect();
    let cs = companies::table
        .filter(companies::id.eq_any(cids))
        .select((companies::id, companies::name, companies::inn))
        .load(conn)?;
    let os = orders::table.filter(orders::id.eq_any(oids)).select((orders::id, orders::number)).load(conn)?;
    Ok((cs, os))
}

/// A listed document as JSON, with the links of its files under `base` (the tenant's prefix).
pub fn json_of(r: &DocRow, base: &str, labels: &Labels, edo: &[EdoState]) -> Value {
    let customer = labels.0.iter().find(|c| c.0 == r.company_id);
    let order = r.order_id.and_then(|o| labels.1.iter().find(|x| x.0 == o)).map(|x| x.1.clone());
    let edo = edo.iter().find(|e| e.0 == r.id).map(|e| json!({"status": e.1, "reason": e.2, "updated_at": e.3}));
    json!({
        "id": r.id, "type": r.kind, "number": r.number, "date": r.issued_on, "order": order,
        "customer": customer.map(|c| json!({"id": c.0, "name": c.1, "inn": c.2})),
        "amount": crate::money::format(r.amount), "vat_amount": crate::money::format(r.vat_amount),
        "source": {"kind": r.source_kind, "id": r.source_id}, "corrects": r.corrects, "edo": edo,
        "files": {
            "pdf": format!("{base}/api/v1/documents/{}.pdf", r.id),
            "xml": r.xml_name.as_ref().map(|_| format!("{base}/api/v1/documents/{}.xml", r.id)),
        },
    })
}

/// The stored XML and its FNS file name.
pub fn xml_of(conn: &mut PgConnection, id: i64) -> AppResult<(String, Vec<u8>)> {
    let (name, xml): (Option<String>, Option<Vec<u8>>) =
        documents::table.find(id).select((documents::xml_name, documents::xml)).first(conn)?;
    match (name, xml) {
        (Some(n), Some(x)) => Ok((n, x)),
        _ => Err(AppError::not_found("XML of this document")),
    }
}

/// The snapshot a document was drawn from, and its stored PDF if it has one.
pub fn content_of(conn: &mut PgConnection, ids: &[i64]) -> AppResult<Vec<Content>> {
    Ok(documents::table
        .filter(documents::id.eq_any(ids))
        .order(documents::id)
        .select((documents::id, documents::kind, documents::number, documents::snapshot, documents::pdf))
        .load(conn)?)
}
