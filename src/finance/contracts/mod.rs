//! Supply contracts (договор поставки) and additional agreements (дополнительное соглашение).
//!
//! A contract is issued when staff approve a customer (or by hand, for customers approved
//! earlier): numbered per store and year (`Д-2026-0001`), filled in from the store's template
//! with both parties' details and the customer's terms — payment deferral (the company's
//! `payment_terms_days`, else the store's) and credit limit. The rendered text and the parties
//! are stored and never changed (a trigger refuses UPDATE and DELETE). When staff change the
//! terms of a customer with a contract, an agreement numbered within the contract records the
//! old and the new terms. The latest contract is the current one: the ledger books shipments
//! under it and the reconciliation statement names it.

pub mod pdf;
pub mod template;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use self::template::{Facts, Terms};
use crate::catalog::settings as catalog_settings;
use crate::db::schema_tenant::contracts;
use crate::documents::{self, NewDocument};
use crate::error::{AppError, AppResult};
use crate::finance::{ledger, requisites};
use crate::identity::companies::{self, Company};
use crate::pricing::VatMode;

/// Who issues: the store's name (the supplier's name when its legal name is not set), its
/// address on the web, the language its documents are written in, and the fonts that draw
/// the PDF kept in the archive (none: the archive gets no copy, the PDF is drawn on demand).
#[derive(Clone)]
pub struct Issuer {
    pub store_name: String,
    pub store_url: String,
    pub lang: String,
    pub fonts: Option<std::sync::Arc<crate::pdf::Fonts>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contracts, check_for_backend(diesel::pg::Pg))]
pub struct Contract {
    pub id: i64,
    pub company_id: i64,
    pub kind: String,
    pub contract_id: Option<i64>,
    pub seq: i32,
    pub number: String,
    pub issued_on: NaiveDate,
    pub lang: String,
    pub payment_terms_days: i32,
    pub credit_limit: Decimal,
    pub old_payment_terms_days: Option<i32>,
    pub old_credit_limit: Option<Decimal>,
    pub supplier: Value,
    pub buyer: Value,
    pub body: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Contract {
    pub fn terms(&self) -> Terms {
        Terms { days: self.payment_terms_days, credit_limit: self.credit_limit }
    }

    /// How the API lists it (the text is in the PDF).
    pub fn json(&self, contract_number: Option<&str>) -> Value {
        let money = crate::money::format;
        json!({
            "id": self.id,
            "kind": self.kind,
            "number": self.number,
            "contract_id": self.contract_id,
            "contract_number": contract_number,
            "date": self.issued_on,
            "lang": self.lang,
            "payment_terms_days": self.payment_terms_days,
            "credit_limit": money(self.credit_limit),
            "old_payment_terms_days": self.old_payment_terms_days,
            "old_credit_limit": self.old_credit_limit.map(money),
            "buyer": {"name": self.buyer["name"], "inn": self.buyer["inn"], "kpp": self.buyer["kpp"]},
        })
    }

    /// A file name for the PDF: `contract-Д-2026-0001` or `agreement-2-Д-2026-0001`.
    pub fn file_name(&self, contract_number: &str) -> String {
        match self.kind.as_str() {
            "agreement" => format!("agreement-{}-{contract_number}", self.seq),
            _ => format!("contract-{}", self.number),
        }
    }
}

/// The company's current contract: the latest one issued.
pub fn current(conn: &mut PgConnection, company: i64) -> AppResult<Option<Contract>> {
    Ok(contracts::table
        .filter(contracts::company_id.eq(company))
        .filter(contracts::kind.eq("contract"))
        .order(contracts::id.desc())
        .select(Contract::as_select())
        .first(conn)
        .optional()?)
}

/// Number and date of the company's current contract ("по договору № … от …").
pub fn reference(conn: &mut PgConnection, company: i64) -> AppResult<Option<(String, NaiveDate)>> {
    Ok(current(conn, company)?.map(|c| (c.number, c.issued_on)))
}

/// Every contract and agreement of the company, newest first.
pub fn list(conn: &mut PgConnection, company: i64) -> AppResult<Vec<Contract>> {
    Ok(contracts::table
        .filter(contracts::company_id.eq(company))
        .order(contracts::id.desc())
        .limit(500)
        .select(Contract::as_select())
        .load(conn)?)
}

/// One document, only within `company` when given (another company's is not found).
pub fn find(conn: &mut PgConnection, company: Option<i64>, id: i64) -> AppResult<Contract> {
    let mut q = contracts::table.filter(contracts::id.eq(id)).into_boxed();
    if let Some(company) = company {
        q = q.filter(contracts::company_id.eq(company));
    }
    q.select(Contract::as_select()).first(conn).optional()?.ok_or_else(|| AppError::not_found("contract"))
}

/// The number of the contract an agreement belongs to (its own for a contract).
pub fn contract_number(conn: &mut PgConnection, c: &Contract) -> AppResult<String> {
    match c.contract_id {
        Some(parent) => Ok(contracts::table.find(parent).select(contracts::number).first(conn)?),
        None => Ok(c.number.clone()),
    }
}

/// The terms the company trades on today.
pub fn effective_terms(conn: &mut PgConnection, company: &Company) -> AppResult<Terms> {
    let days = ledger::terms_days(conn, company.id)?;
    Ok(Terms { days: i32::try_from(days).unwrap_or(0), credit_limit: company.credit_limit })
}

fn supplier_snapshot(conn: &mut PgConnection, store_name: &str) -> AppResult<Map<String, Value>> {
    let mut m = requisites::load(conn)?;
    let legal = m.remove("legal_name").and_then(|v| v.as_str().map(str::trim).map(str::to_owned)).unwrap_or_default();
    m.insert("name".into(), json!(if legal.is_empty() { store_name.to_owned() } else { legal }));
    Ok(m)
}

fn buyer_snapshot(c: &Company) -> Map<String, Value> {
    let v = json!({
        "name": c.name, "inn": c.inn, "kpp": c.kpp.clone().unwrap_or_default(), "address": c.legal_address,
        "phone": c.phone, "contact_person": c.contact_person,
    });
    v.as_object().cloned().unwrap_or_default()
}

/// The next contract number of `year` and its sequence (the counter row of the kind and year
/// is locked until the caller commits).
fn next_number(conn: &mut PgConnection, year: i32, lang: &str) -> AppResult<(String, i32)> {
    let n = documents::next_number(conn, "contract", year)?;
    let prefix = if lang == "en" { "C" } else { "Д" };
    Ok((format!("{prefix}-{year}-{n:04}"), n))
}

/// Files the document in the archive (`documents`, kind `contract` or `contract_agreement`)
/// with its PDF, in the issuing transaction.
fn archive(conn: &mut PgConnection, doc: &Contract, seq: i32, contract_number: &str, by: &Issuer) -> AppResult<()> {
    let Some(fonts) = &by.fonts else {
        tracing::warn!(contract = doc.id, "no fonts: the contract is not filed in the documents archive");
        return Ok(());
    };
    let (kind, number, seq) = match doc.kind.as_str() {
        "agreement" => {
            let seq = documents::next_number(conn, "contract_agreement", doc.issued_on.year())?;
            ("contract_agreement", format!("{contract_number}/{}", doc.seq), seq)
        }
        _ => ("contract", doc.number.clone(), seq),
    };
    let d = NewDocument {
        kind: kind.into(),
        company_id: doc.company_id,
        order_id: None,
        source: ("contract".into(), doc.id),
        corrects: None,
        issued_on: doc.issued_on,
        amount: Decimal::ZERO,
        vat_amount: Decimal::ZERO,
        snapshot: json!({"contract": doc.id, "kind": doc.kind, "number": doc.number, "contract_number": contract_number,
            "payment_terms_days": doc.payment_terms_days, "credit_limit": crate::money::format(doc.credit_limit)}),
        xml: None,
        pdf: Some(pdf::render(fonts, doc)?),
        created_by: doc.created_by,
    };
    documents::insert(conn, seq, &number, d)?;
    Ok(())
}

struct Issue<'a> {
    company: &'a Company,
    kind: &'static str,
    parent: Option<&'a Contract>,
    old: Option<Terms>,
}

fn write(conn: &mut PgConnection, is: Issue, actor: Option<i64>, by: &Issuer) -> AppResult<Contract> {
    let today = ledger::today();
    let terms = effective_terms(conn, is.company)?;
    let lang = is.parent.map_or(by.lang.as_str(), |p| p.lang.as_str()).to_owned();
    let (number, seq, contract_date, counter) = match is.parent {
        None => {
            let (number, counter) = next_number(conn, today.year(), &lang)?;
            (number, 1, today, counter)
        }
        Some(p) => {
            let last: Option<i32> = contracts::table
                .filter(contracts::contract_id.eq(p.id))
                .select(diesel::dsl::max(contracts::seq))
                .first(conn)?;
            let seq = last.unwrap_or(0) + 1;
            (seq.to_string(), seq, p.issued_on, 0)
        }
    };
    let supplier = supplier_snapshot(conn, &by.store_name)?;
    let buyer = buyer_snapshot(is.company);
    let settings = catalog_settings::load(conn)?;
    let (body, _) = template::load(conn, is.kind, &lang)?;
    let contract_number = is.parent.map_or(number.as_str(), |p| p.number.as_str());
    let ctx = template::context(&Facts {
        lang: &lang,
        number: contract_number,
        date: contract_date,
        agreement: is.parent.map(|_| (seq, today)),
        supplier: &supplier,
        buyer: &buyer,
        terms,
        old: is.old,
        currency: &settings.currency,
        vat_included: settings.vat_mode == VatMode::Included,
        store_name: &by.store_name,
        store_url: &by.store_url,
    });
    let text = template::render(&body, &ctx)
        .map_err(|e| AppError::field("template", format!("the store's {} template: {e}", is.kind)))?;
    let doc: Contract = diesel::insert_into(contracts::table)
        .values((
            contracts::company_id.eq(is.company.id),
            contracts::kind.eq(is.kind),
            contracts::contract_id.eq(is.parent.map(|p| p.id)),
            contracts::seq.eq(seq),
            contracts::number.eq(&number),
            contracts::issued_on.eq(today),
            contracts::lang.eq(&lang),
            contracts::payment_terms_days.eq(terms.days),
            contracts::credit_limit.eq(terms.credit_limit),
            contracts::old_payment_terms_days.eq(is.old.map(|o| o.days)),
            contracts::old_credit_limit.eq(is.old.map(|o| o.credit_limit)),
            contracts::supplier.eq(Value::Object(supplier)),
            contracts::buyer.eq(Value::Object(buyer)),
            contracts::body.eq(&text),
            contracts::created_by.eq(actor),
        ))
        .returning(Contract::as_returning())
        .get_result(conn)?;
    archive(conn, &doc, counter, contract_number, by)?;
    Ok(doc)
}

/// Issues a new contract to an active company (it becomes the current one).
pub fn issue(conn: &mut PgConnection, company: i64, actor: Option<i64>, by: &Issuer) -> AppResult<Contract> {
    let company = companies::find(conn, company)?.ok_or_else(|| AppError::not_found("customer"))?;
    if !company.is_active() {
        return Err(AppError::conflict(
            "invalid_status",
            format!("the customer is {}: approve it first", company.status),
        ));
    }
    write(conn, Issue { company: &company, kind: "contract", parent: None, old: None }, actor, by)
}

/// At approval: a contract unless the company already has one.
pub fn issue_if_none(conn: &mut PgConnection, company: i64, actor: i64, by: &Issuer) -> AppResult<Option<Contract>> {
    if current(conn, company)?.is_some() {
        return Ok(None);
    }
    issue(conn, company, Some(actor), by).map(Some)
}

/// After the company's terms changed: an agreement when they differ from what its current
/// contract (with its agreements) last stated; nothing without a contract or a change.
pub fn terms_changed(conn: &mut PgConnection, company: i64, actor: i64, by: &Issuer) -> AppResult<Option<Contract>> {
    let Some(contract) = current(conn, company)? else { return Ok(None) };
    let last: Contract = contracts::table
        .filter(contracts::id.eq(contract.id).or(contracts::contract_id.eq(contract.id)))
        .order(contracts::id.desc())
        .select(Contract::as_select())
        .first(conn)?;
    let company = companies::find(conn, company)?.ok_or_else(|| AppError::not_found("customer"))?;
    if effective_terms(conn, &company)? == last.terms() {
        return Ok(None);
    }
    let is = Issue { company: &company, kind: "agreement", parent: Some(&contract), old: Some(last.terms()) };
    write(conn, is, Some(actor), by).map(Some)
}
