//! Importing a bank statement: every incoming payment to the store's account becomes a bank
//! payment of the customer whose INN paid it, applied to the invoice its purpose names (or the
//! oldest unpaid ones); everything else is reported with the reason. One transaction: the
//! import is recorded with its report, and a document imported before is never registered
//! twice (its bank reference is unique).

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::bank_statement::{invoice_numbers, BankDoc, Statement};
use super::ledger::today;
use super::payments::{self, PaymentIn};
use crate::db::schema_tenant::{bank_imports, companies, invoices, payments as payments_t};
use crate::error::{AppError, AppResult};
use crate::money::format;

/// The store's side of the statement: whose incoming payments count.
pub struct Payee<'a> {
    pub inn: &'a str,
    pub account: &'a str,
    pub currency: &'a str,
}

struct Outcome {
    status: &'static str,
    /// Why, for pages to say in their language (`finance-import-why-<code>`, with `arg`).
    code: &'static str,
    arg: String,
    reason: String,
    payment: Option<i64>,
    customer: Option<(i64, String)>,
    invoice: Option<String>,
}

impl Outcome {
    fn not(status: &'static str, code: &'static str, arg: &str, reason: impl Into<String>) -> Outcome {
        Outcome {
            status,
            code,
            arg: arg.to_owned(),
            reason: reason.into(),
            payment: None,
            customer: None,
            invoice: None,
        }
    }
}

/// Imports `st` (already parsed) for the store `payee`: answers the report as stored.
pub fn import(
    conn: &mut PgConnection,
    staff: Option<i64>,
    file_name: &str,
    st: &Statement,
    payee: &Payee,
) -> AppResult<Value> {
    if payee.currency != "RUB" {
        return Err(AppError::field(
            "file",
            format!("bank statements are in roubles, and this store keeps its accounts in {}", payee.currency),
        ));
    }
    let own_account = if payee.account.is_empty() { st.account.as_str() } else { payee.account };
    let mut items = Vec::with_capacity(st.documents.len());
    let (mut registered, mut duplicates, mut unmatched, mut skipped) = (0, 0, 0, 0);
    for d in &st.documents {
        let o = one(conn, staff, d, payee.inn, own_account)?;
        match o.status {
            "registered" => registered += 1,
            "duplicate" => duplicates += 1,
            "unmatched" => unmatched += 1,
            _ => skipped += 1,
        }
        items.push(json!({
            "index": d.index, "number": d.number, "date": d.date, "amount": d.amount.as_ref().map(|a| format(*a)).ok(),
            "payer": d.payer_name, "payer_inn": d.payer_inn, "purpose": d.purpose,
            "status": o.status, "reason": o.reason, "reason_code": o.code, "reason_arg": o.arg, "payment_id": o.payment,
            "customer": o.customer.map(|(id, name)| json!({"id": id, "name": name})), "invoice": o.invoice,
        }));
    }
    let name: String = file_name.chars().take(300).collect();
    let id: i64 = diesel::insert_into(bank_imports::table)
        .values((
            bank_imports::file_name.eq(&name),
            bank_imports::account.eq(&st.account),
            bank_imports::period_from.eq(st.from),
            bank_imports::period_to.eq(st.to),
            bank_imports::documents.eq(st.documents.len() as i32),
            bank_imports::registered.eq(registered),
            bank_imports::duplicates.eq(duplicates),
            bank_imports::unmatched.eq(unmatched),
            bank_imports::skipped.eq(skipped),
            bank_imports::report.eq(Value::Array(items)),
            bank_imports::imported_by.eq(staff),
        ))
        .returning(bank_imports::id)
        .get_result(conn)?;
    find(conn, id)
}

fn one(
    conn: &mut PgConnection,
    staff: Option<i64>,
    d: &BankDoc,
    own_inn: &str,
    own_account: &str,
) -> AppResult<Outcome> {
    let ours = |inn: &str, account: &str| {
        (!own_inn.is_empty() && inn == own_inn) || (!own_account.is_empty() && account == own_account)
    };
    if ours(&d.payer_inn, &d.payer_account) {
        return Ok(Outcome::not("skipped", "outgoing", "", "an outgoing payment of the store"));
    }
    if (!own_inn.is_empty() || !own_account.is_empty()) && !ours(&d.payee_inn, &d.payee_account) {
        return Ok(Outcome::not("skipped", "not_ours", "", "not paid to the store's account"));
    }
    let amount = match &d.amount {
        Ok(a) if *a > rust_decimal::Decimal::ZERO => *a,
        Ok(_) => return Ok(Outcome::not("unmatched", "amount", "", "the amount is not above zero")),
        Err(e) => return Ok(Outcome::not("unmatched", "amount", "", format!("the amount: {e}"))),
    };
    let Some(paid_on) = d.received.or(d.date) else {
        return Ok(Outcome::not("unmatched", "no_date", "", "the document has no date"));
    };
    if paid_on > today() {
        return Ok(Outcome::not("unmatched", "future", "", "the date is in the future"));
    }
    let bank_ref: String = d.bank_ref().chars().take(300).collect();
    let seen: bool = diesel::select(diesel::dsl::exists(payments_t::table.filter(payments_t::bank_ref.eq(&bank_ref))))
        .get_result(conn)?;
    if seen {
        return Ok(Outcome::not("duplicate", "duplicate", "", "imported before"));
    }
    if d.payer_inn.is_empty() {
        return Ok(Outcome::not("unmatched", "no_inn", "", "the payer's INN is missing"));
    }
    let found: Vec<(i64, String, Option<String>)> = companies::table
        .filter(companies::inn.eq(&d.payer_inn))
        .order(companies::id)
        .select((companies::id, companies::name, companies::kpp))
        .load(conn)?;
    let company = found
        .iter()
        .find(|(_, _, kpp)| !d.payer_kpp.is_empty() && kpp.as_deref() == Some(d.payer_kpp.as_str()))
        .or_else(|| found.first());
    let Some((company, company_name, _)) = company.cloned() else {
        return Ok(Outcome::not(
            "unmatched",
            "no_customer",
            &d.payer_inn,
            format!("no customer with INN {}", d.payer_inn),
        ));
    };
    let named = invoice_numbers(&d.purpose);
    let open: Vec<String> = invoices::table
        .filter(invoices::company_id.eq(company))
        .filter(invoices::status.eq_any(["unpaid", "partly_paid"]))
        .filter(invoices::number.eq_any(&named))
        .select(invoices::number)
        .load(conn)?;
    let invoice = named.iter().find(|n| open.contains(n)).cloned();
    let (code, arg, reason) = match (&invoice, named.first()) {
        (Some(n), _) => ("invoice", n.clone(), format!("paid invoice {n} first")),
        (None, Some(n)) => (
            "invoice_not_open",
            n.clone(),
            format!("invoice {n} is not among the customer's unpaid invoices: the oldest unpaid ones were paid"),
        ),
        (None, None) => ("oldest", String::new(), "no invoice named: the oldest unpaid ones were paid".into()),
    };
    let reference = reference(d, paid_on);
    let input = PaymentIn {
        customer_id: company,
        amount: Value::String(format(amount)),
        reference,
        paid_at: Some(paid_on),
        currency: None,
        invoice: invoice.clone(),
    };
    let p = payments::register(conn, staff, &input, "RUB")?;
    diesel::update(payments_t::table.find(p.id)).set(payments_t::bank_ref.eq(&bank_ref)).execute(conn)?;
    Ok(Outcome {
        status: "registered",
        code,
        arg,
        reason,
        payment: Some(p.id),
        customer: Some((company, company_name)),
        invoice,
    })
}

/// «п/п № 512 от 25.11.2026» (the payment order as accountants name it).
fn reference(d: &BankDoc, paid_on: NaiveDate) -> String {
    let date = d.date.unwrap_or(paid_on).format("%d.%m.%Y");
    let s =
        if d.number.is_empty() { format!("п/п от {date}") } else { format!("п/п № {} от {date}", d.number) };
    s.chars().take(200).collect()
}

/// One import with its report.
pub fn find(conn: &mut PgConnection, id: i64) -> AppResult<Value> {
    type Row = (
        i64,
        String,
        String,
        Option<NaiveDate>,
        Option<NaiveDate>,
        i32,
        i32,
        i32,
        i32,
        i32,
        Value,
        chrono::DateTime<chrono::Utc>,
    );
    let r: Row = bank_imports::table
        .find(id)
        .select((
            bank_imports::id,
            bank_imports::file_name,
            bank_imports::account,
            bank_imports::period_from,
            bank_imports::period_to,
            bank_imports::documents,
            bank_imports::registered,
            bank_imports::duplicates,
            bank_imports::unmatched,
            bank_imports::skipped,
            bank_imports::report,
            bank_imports::created_at,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("import"))?;
    Ok(json!({
        "id": r.0, "file_name": r.1, "account": r.2, "from": r.3, "to": r.4, "documents": r.5,
        "registered": r.6, "duplicates": r.7, "unmatched": r.8, "skipped": r.9, "items": r.10, "created_at": r.11,
    }))
}

/// The latest imports (without their reports).
pub fn list(conn: &mut PgConnection, limit: i64) -> AppResult<Vec<Value>> {
    type Row = (i64, String, i32, i32, i32, i32, i32, chrono::DateTime<chrono::Utc>);
    let rows: Vec<Row> = bank_imports::table
        .order((bank_imports::created_at.desc(), bank_imports::id.desc()))
        .limit(limit)
        .select((
            bank_imports::id,
            bank_imports::file_name,
            bank_imports::documents,
            bank_imports::registered,
            bank_imports::duplicates,
            bank_imports::unmatched,
            bank_imports::skipped,
            bank_imports::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            json!({"id": r.0, "file_name": r.1, "documents": r.2, "registered": r.3, "duplicates": r.4,
                   "unmatched": r.5, "skipped": r.6, "created_at": r.7})
        })
        .collect())
}
