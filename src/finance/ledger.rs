//! The ledger of a buyer company and what it adds up to. `balance` = credited − debited
//! (paid − shipped): negative is debt. Overdue is the debt whose due date has passed, with
//! payments counted against the oldest debts first.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Numeric};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::db::schema_tenant::{companies, ledger_entries, orders};
use crate::error::{AppError, AppResult};
use crate::identity::companies::Company;
use crate::money::format;
use crate::platform::tenant_settings;

/// Where a company stands today.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub balance: Decimal,
    pub debt: Decimal,
    pub overdue: Decimal,
    pub credit_limit: Decimal,
    /// On-account orders placed but not shipped yet (not in the ledger, but promised).
    pub on_order: Decimal,
    /// What the company may still order on account.
    pub credit_left: Decimal,
}

impl Position {
    pub fn json(&self) -> Value {
        json!({
            "balance": format(self.balance), "debt": format(self.debt), "overdue": format(self.overdue),
            "credit_limit": format(self.credit_limit), "on_order": format(self.on_order),
            "credit_left": format(self.credit_left),
        })
    }
}

impl Position {
    /// Why an on-account order of `total` should wait for the supplier: above what is left of
    /// the credit limit, or overdue debt.
    pub fn hold_reason(&self, total: Decimal) -> Option<String> {
        if total > self.credit_left {
            Some(format!("above the credit limit: {} left", format(self.credit_left.max(Decimal::ZERO))))
        } else if self.overdue > Decimal::ZERO {
            Some(format!("overdue debt of {}", format(self.overdue)))
        } else {
            None
        }
    }
}

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = Numeric)]
    debit: Decimal,
    #[diesel(sql_type = Numeric)]
    credit: Decimal,
    #[diesel(sql_type = Numeric)]
    not_due: Decimal,
    #[diesel(sql_type = Numeric)]
    on_order: Decimal,
}

/// The company's position today: one statement, whatever the ledger's length (the totals
/// are kept per company; only debits not yet due are read).
pub fn position(conn: &mut PgConnection, company: &Company) -> AppResult<Position> {
    let t: Totals = diesel::sql_query(
        "SELECT coalesce(b.debit, 0) AS debit, coalesce(b.credit, 0) AS credit, \
            (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e \
              WHERE e.company_id = $1 AND e.side = 'debit' AND e.due_on >= $2) AS not_due, \
            (SELECT coalesce(sum(o.total), 0) FROM orders o \
              WHERE o.company_id = $1 AND o.payment_method = 'on_account' \
                AND o.status IN ('awaiting_approval', 'on_hold', 'new', 'confirmed', 'in_production', 'assembled')) AS on_order \
         FROM (SELECT 1) one LEFT JOIN company_balances b ON b.company_id = $1",
    )
    .bind::<BigInt, _>(company.id)
    .bind::<Date, _>(today())
    .get_result(conn)?;
    Ok(Position::of(company, t.debit, t.credit, t.not_due, t.on_order))
}

impl Position {
    /// From the company's totals, its debits not yet due and its on-account orders not shipped.
    fn of(company: &Company, debit: Decimal, credit: Decimal, not_due: Decimal, on_order: Decimal) -> Position {
        let debt = above_zero(debit - credit);
        Position {
            balance: credit - debit,
            debt,
            overdue: above_zero(debit - not_due - credit),
            credit_limit: company.credit_limit,
            on_order,
            credit_left: above_zero(company.credit_limit - debt - on_order),
        }
    }
}

/// `d` when above zero, else zero (never a "-0.00").
fn above_zero(d: Decimal) -> Decimal {
    if d > Decimal::ZERO {
        d
    } else {
        Decimal::ZERO
    }
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The days of deferral the company pays shipments in: its own terms, else the store's.
pub fn terms_days(conn: &mut PgConnection, company: i64) -> AppResult<i64> {
    let own: Option<i32> = companies::table.find(company).select(companies::payment_terms_days).first(conn)?;
    Ok(match own {
        Some(d) => i64::from(d),
        None => tenant_settings::get(conn, super::PAYMENT_TERMS_DAYS)?.and_then(|v| v.as_i64()).unwrap_or(0),
    })
}

/// Books an order's shipment: a debit of its total, due after the company's payment terms.
/// Once per order (a second call changes nothing).
pub fn book_shipment(conn: &mut PgConnection, order: i64, actor: Option<i64>) -> AppResult<()> {
    let (company, number, total): (i64, String, Decimal) =
        orders::table.find(order).select((orders::company_id, orders::number, orders::total)).first(conn)?;
    if total.is_zero() {
        return Ok(());
    }
    let booked = today();
    let due = booked + Duration::days(terms_days(conn, company)?);
    let contract = super::contracts::current(conn, company)?.map(|c| c.id);
    diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::company_id.eq(company),
            ledger_entries::side.eq("debit"),
            ledger_entries::kind.eq("shipment"),
            ledger_entries::amount.eq(total),
            ledger_entries::booked_on.eq(booked),
            ledger_entries::due_on.eq(due),
            ledger_entries::order_id.eq(order),
            ledger_entries::document.eq(&number),
            ledger_entries::created_by.eq(actor),
            ledger_entries::contract_id.eq(contract),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

/// A period of the ledger: `from` and `to` inclusive, both given or the current month.
pub fn period(from: Option<&str>, to: Option<&str>) -> AppResult<(NaiveDate, NaiveDate)> {
    let parse = |field: &str, v: Option<&str>| -> AppResult<Option<NaiveDate>> {
        v.filter(|s| !s.trim().is_empty())
            .map(|s| {
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| AppError::field(field, "must be a date like 2026-01-31"))
            })
            .transpose()
    };
    let today = today();
    let from = parse("from", from)?.unwrap_or_else(|| today.with_day0(0).unwrap_or(today));
    let to = parse("to", to)?.unwrap_or(today);
    if from > to {
        return Err(AppError::field("from", "must not be after `to`"));
    }
    if (to - from).num_days() > 366 * 5 {
        return Err(AppError::field("from", "a period is at most five years"));
    }
    Ok((from, to))
}

/// At most this many movements in one statement (a longer period is split by the caller).
pub const MAX_MOVEMENTS: i64 = 10_000;

type EntryRow = (i64, String, String, Decimal, NaiveDate, Option<NaiveDate>, String, Option<i64>);

/// The statement of `company` for `from..=to`: the opening balance, every movement with its
/// document and the balance after it, the turnover on each side and the closing balance.
pub fn statement(conn: &mut PgConnection, company: i64, from: NaiveDate, to: NaiveDate) -> AppResult<Value> {
    let signed = |side: &str, amount: Decimal| if side == "credit" { amount } else { -amount };
    let before: Vec<(String, Option<Decimal>)> = ledger_entries::table
        .filter(ledger_entries::company_id.eq(company))
        .filter(ledger_entries::booked_on.lt(from))
        .group_by(ledger_entries::side)
        .select((ledger_entries::side, diesel::dsl::sum(ledger_entries::amount)))
        .load(conn)?;
    let opening: Decimal = before.iter().map(|(side, sum)| signed(side, sum.unwrap_or_default())).sum();
    let rows: Vec<EntryRow> = ledger_entries::table
        .filter(ledger_entries::company_id.eq(company))
        .filter(ledger_entries::booked_on.between(from, to))
        .order((ledger_entries::booked_on, ledger_entries::id))
        .limit(MAX_MOVEMENTS + 1)
        .select((
            ledger_entries::id,
            ledger_entries::side,
            ledger_entries::kind,
            ledger_entries::amount,
            ledger_entries::booked_on,
            ledger_entries::due_on,
            ledger_entries::document,
            ledger_entries::reverses,
        ))
        .load(conn)?;
    if rows.len() as i64 > MAX_MOVEMENTS {
        return Err(AppError::field("from", "more than 10,000 movements: choose a shorter period"));
    }
    let (mut balance, mut debit, mut credit) = (opening, Decimal::ZERO, Decimal::ZERO);
    let movements: Vec<Value> = rows
        .iter()
        .map(|(id, side, kind, amount, on, due, document, reverses)| {
            balance += signed(side, *amount);
            let (d, c) = if side == "debit" { (*amount, Decimal::ZERO) } else { (Decimal::ZERO, *amount) };
            debit += d;
            credit += c;
            json!({
                "id": id, "date": on, "kind": kind, "document": document, "due_on": due, "reverses": reverses,
                "debit": format(d), "credit": format(c), "balance": format(balance),
            })
        })
        .collect();
    let contract =
        super::contracts::reference(conn, company)?.map(|(number, date)| json!({"number": number, "date": date}));
    Ok(json!({
        "from": from, "to": to,
        "opening_balance": format(opening),
        "debit_turnover": format(debit), "credit_turnover": format(credit),
        "closing_balance": format(balance),
        "movements": movements,
        "contract": contract,
    }))
}

#[derive(QueryableByName)]
struct DebtorRow {
    #[diesel(sql_type = BigInt)]
    company_id: i64,
    #[diesel(sql_type = Numeric)]
    debit: Decimal,
    #[diesel(sql_type = Numeric)]
    credit: Decimal,
    #[diesel(sql_type = Numeric)]
    not_due: Decimal,
    #[diesel(sql_type = Numeric)]
    on_order: Decimal,
}

/// The companies whose ledger shows a debt, each with its position, the most overdue first
/// (then the largest debt): two statements however many there are.
pub fn debtors(conn: &mut PgConnection) -> AppResult<Vec<(Company, Position)>> {
    let rows: Vec<DebtorRow> = diesel::sql_query(
        "SELECT b.company_id, b.debit, b.credit, \
            coalesce((SELECT sum(e.amount) FROM ledger_entries e \
                       WHERE e.company_id = b.company_id AND e.side = 'debit' AND e.due_on >= $1), 0) AS not_due, \
            coalesce((SELECT sum(o.total) FROM orders o \
                       WHERE o.company_id = b.company_id AND o.payment_method = 'on_account' \
                         AND o.status IN ('awaiting_approval', 'on_hold', 'new', 'confirmed', 'in_production', 'assembled')), 0) AS on_order \
         FROM company_balances b WHERE b.debit > b.credit",
    )
    .bind::<Date, _>(today())
    .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.company_id).collect();
    let companies: Vec<Company> =
        companies::table.filter(companies::id.eq_any(&ids)).select(Company::as_select()).load(conn)?;
    let mut out: Vec<(Company, Position)> = companies
        .into_iter()
        .filter_map(|c| {
            let r = rows.iter().find(|r| r.company_id == c.id)?;
            let p = Position::of(&c, r.debit, r.credit, r.not_due, r.on_order);
            Some((c, p))
        })
        .collect();
    out.sort_by(|a, b| b.1.overdue.cmp(&a.1.overdue).then(b.1.debt.cmp(&a.1.debt)));
    Ok(out)
}
