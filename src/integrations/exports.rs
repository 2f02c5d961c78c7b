//! Orders and customers as a bookkeeper wants them in a spreadsheet: one row each, money as
//! decimal text (written as text cells by `exchange::table`), filtered by period and status.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text};
use serde::Deserialize;

use crate::error::{AppError, AppResult, FieldErrors};

/// At most this many rows per file; a longer period is refused with a hint to narrow it.
pub const MAX_ROWS: i64 = 100_000;

pub const ORDER_COLUMNS: &[&str] = &[
    "number",
    "date",
    "kind",
    "status",
    "company",
    "inn",
    "kpp",
    "payment_method",
    "currency",
    "net",
    "vat",
    "total",
    "invoice",
    "paid",
    "po_number",
    "comment",
];

pub const CUSTOMER_COLUMNS: &[&str] = &[
    "id",
    "company",
    "inn",
    "kpp",
    "status",
    "price_group",
    "credit_limit",
    "discount_percent",
    "payment_terms_days",
    "shipped",
    "paid",
    "balance",
    "debt",
    "address",
    "phone",
    "contact_person",
    "registered",
];

const STATUSES: &[&str] = &[
    "awaiting_approval",
    "on_hold",
    "new",
    "confirmed",
    "in_production",
    "assembled",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub format: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<String>,
}

/// A checked order filter.
#[derive(Debug, Clone)]
pub struct OrderFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub status: Option<String>,
}

/// Checks the query: `format` csv or xlsx (default csv), dates as YYYY-MM-DD, a known status.
pub fn check(q: &ExportQuery) -> AppResult<(String, OrderFilter)> {
    let mut errors = FieldErrors::new();
    let format = q.format.as_deref().unwrap_or("csv").to_owned();
    if !matches!(format.as_str(), "csv" | "xlsx") {
        errors.insert("format".into(), "must be csv or xlsx".into());
    }
    let mut date = |k: &str, v: &Option<String>| {
        v.as_deref().filter(|s| !s.is_empty()).and_then(|s| match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.insert(k.into(), "must be a date like 2026-01-31".into());
                None
            }
        })
    };
    let (from, to) = (date("from", &q.from), date("to", &q.to));
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            errors.insert("to".into(), "must not be before from".into());
        }
    }
    let status = q.status.clone().filter(|s| !s.is_empty());
    if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
        errors.insert("status".into(), format!("must be one of {}", STATUSES.join(", ")));
    }
    if errors.is_empty() {
        Ok((format, OrderFilter { from, to, status }))
    } else {
        Err(AppError::Validation(errors))
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Array<Text>)]
    cells: Vec<String>,
}

fn with_header(header: &[&str], rows: Vec<Row>) -> AppResult<Vec<Vec<String>>> {
    if rows.len() as i64 > MAX_ROWS {
        return Err(AppError::field("from", format!("more than {MAX_ROWS} rows: choose a shorter period")));
    }
    let mut out = Vec::with_capacity(rows.len() + 1);
    out.push(header.iter().map(|s| (*s).to_owned()).collect());
    out.extend(rows.into_iter().map(|r| r.cells));
    Ok(out)
}

/// The orders of the period (by placement date), oldest first, with the header row.
pub fn orders(conn: &mut PgConnection, f: &OrderFilter) -> AppResult<Vec<Vec<String>>> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT ARRAY[o.number, to_char(o.created_at, 'YYYY-MM-DD'), o.kind, o.status, c.name, c.inn, \
                coalesce(c.kpp, ''), o.payment_method, o.currency, (o.total - o.vat_total)::text, \
                o.vat_total::text, o.total::text, coalesce(i.number, ''), coalesce(i.paid, 0)::numeric(14, 2)::text, o.po_number, \
                o.comment] AS cells \
           FROM orders o JOIN companies c ON c.id = o.company_id \
           LEFT JOIN invoices i ON i.order_id = o.id AND i.status <> 'cancelled' \
          WHERE ($1::date IS NULL OR o.created_at >= $1::date) \
            AND ($2::date IS NULL OR o.created_at < $2::date + 1) \
            AND ($3::text IS NULL OR o.status = $3) \
          ORDER BY o.created_at, o.id LIMIT $4",
    )
    .bind::<Nullable<diesel::sql_types::Date>, _>(f.from)
    .bind::<Nullable<diesel::sql_types::Date>, _>(f.to)
    .bind::<Nullable<Text>, _>(f.status.as_deref())
    .bind::<diesel::sql_types::BigInt, _>(MAX_ROWS + 1)
    .load(conn)?;
    with_header(ORDER_COLUMNS, rows)
}

/// Every customer company with its terms and its position in the ledger.
pub fn customers(conn: &mut PgConnection) -> AppResult<Vec<Vec<String>>> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT ARRAY[c.id::text, c.name, c.inn, coalesce(c.kpp, ''), c.status, coalesce(c.price_group, ''), \
                c.credit_limit::text, c.discount_percent::text, coalesce(c.payment_terms_days::text, ''), \
                coalesce(b.debit, 0)::numeric(14, 2)::text, coalesce(b.credit, 0)::numeric(14, 2)::text, \
                (coalesce(b.credit, 0) - coalesce(b.debit, 0))::numeric(14, 2)::text, \
                greatest(coalesce(b.debit, 0) - coalesce(b.credit, 0), 0)::numeric(14, 2)::text, \
                c.legal_address, c.phone, c.contact_person, to_char(c.created_at, 'YYYY-MM-DD')] AS cells \
           FROM companies c LEFT JOIN company_balances b ON b.company_id = c.id \
          ORDER BY c.name, c.id LIMIT $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(MAX_ROWS + 1)
    .load(conn)?;
    with_header(CUSTOMER_COLUMNS, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(format: &str, from: &str, to: &str, status: &str) -> ExportQuery {
        let s = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        ExportQuery { format: s(format), from: s(from), to: s(to), status: s(status) }
    }

    #[test]
    fn export_queries_are_checked() {
        assert!(check(&q("", "", "", "")).is_ok_and(|(f, _)| f == "csv"));
        assert!(check(&q("xlsx", "2026-01-01", "2026-01-31", "shipped")).is_ok());
        for bad in [
            q("pdf", "", "", ""),
            q("csv", "2026-13-01", "", ""),
            q("csv", "2026-02-01", "2026-01-01", ""),
            q("csv", "", "", "lost"),
        ] {
            assert!(matches!(check(&bad), Err(AppError::Validation(_))), "{bad:?}");
        }
    }
}
