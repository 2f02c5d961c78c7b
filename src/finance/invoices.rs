//! Invoices for payment (счёт на оплату): issued for an order when it is placed or confirmed
//! (the store's `invoice_on` setting), numbered per tenant and year, and paid by the payments
//! applied to them: the invoice a payment names, else the company's oldest unpaid ones.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::ledger::today;
use crate::db::schema_tenant::{invoices, orders, payment_allocations};
use crate::error::{AppError, AppResult};
use crate::money::format;
use crate::platform::tenant_settings;

/// The tenant setting: `placement` (the default), `confirmation` or `manual`.
pub const INVOICE_ON: &str = "invoice_on";
pub const INVOICE_ON_CHOICES: &[&str] = &["placement", "confirmation", "manual"];
/// Days an invoice gives to pay it.
pub const DUE_DAYS: i64 = 5;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invoices, check_for_backend(diesel::pg::Pg))]
pub struct Invoice {
    pub id: i64,
    pub number: String,
    pub order_id: i64,
    pub company_id: i64,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Decimal,
    pub vat_amount: Decimal,
    pub paid: Decimal,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl Invoice {
    pub fn json(&self, order: &str) -> Value {
        json!({
            "id": self.id, "number": self.number, "date": self.issued_on, "due_on": self.due_on, "order": order,
            "amount": format(self.amount), "vat_amount": format(self.vat_amount), "paid": format(self.paid),
            "left": format(self.amount - self.paid), "status": self.status,
        })
    }
}

/// When this store issues invoices.
pub fn issued_on(conn: &mut PgConnection) -> AppResult<String> {
    Ok(tenant_settings::get(conn, INVOICE_ON)?
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|v| INVOICE_ON_CHOICES.contains(&v.as_str()))
        .unwrap_or_else(|| "placement".into()))
}

#[derive(QueryableByName)]
struct Issued {
    #[diesel(sql_type = diesel::sql_types::Text)]
    number: String,
    #[diesel(sql_type = BigInt)]
    company_id: i64,
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    amount: Decimal,
    #[diesel(sql_type = diesel::sql_types::Text)]
    currency: String,
}

/// Where the invoice sequence stood before this year's first invoice (recorded once a year).
fn year_start(conn: &mut PgConnection, year: i32) -> AppResult<i64> {
    use crate::db::schema_tenant::invoice_years as y;
    if let Some(start) = y::table.find(year).select(y::start).first::<i64>(conn).optional()? {
        return Ok(start);
    }
    diesel::sql_query(
        "INSERT INTO invoice_years (year, start) \
         SELECT $1, CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM invoice_seq \
         ON CONFLICT (year) DO NOTHING",
    )
    .bind::<Integer, _>(year)
    .execute(conn)?;
    Ok(y::table.find(year).select(y::start).first::<i64>(conn)?)
}

/// Issues the invoice of order `order` (an order, not a pre-order) unless it has a live one:
/// the next number of this year, its total and VAT, due in [`DUE_DAYS`] days. Answers the new
/// invoice's number.
pub fn issue(conn: &mut PgConnection, order: i64) -> AppResult<Option<String>> {
    let day = today();
    let start = year_start(conn, day.year())?;
    let row: Option<Issued> = diesel::sql_query(
        "WITH o AS (SELECT id, company_id, total, vat_total FROM orders \
                     WHERE id = $1 AND kind = 'order' \
                       AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = $1 AND i.status <> 'cancelled')), \
              n AS (SELECT (nextval('invoice_seq') - $5)::int AS seq FROM o) \
         INSERT INTO invoices (year, seq, number, order_id, company_id, issued_on, due_on, amount, vat_amount) \
         SELECT $2, n.seq, n.seq::text, o.id, o.company_id, $3, $4, o.total, o.vat_total FROM o, n \
         RETURNING number, company_id, amount, (SELECT currency FROM orders WHERE id = $1) AS currency",
    )
    .bind::<BigInt, _>(order)
    .bind::<Integer, _>(day.year())
    .bind::<Date, _>(day)
    .bind::<Date, _>(day + Duration::days(DUE_DAYS))
    .bind::<BigInt, _>(start)
    .get_result(conn)
    .optional()?;
    match row {
        Some(r) => {
            mail(conn, order, &r, day + Duration::days(DUE_DAYS))?;
            // Money paid ahead pays the new invoice at once.
            apply_credit(conn, r.company_id)?;
            Ok(Some(r.number))
        }
        None => Ok(None),
    }
}

/// Tells the person who placed the order that its invoice is out, with the PDF's address.
fn mail(conn: &mut PgConnection, order: i64, r: &Issued, due: NaiveDate) -> AppResult<()> {
    let (n, amount, cur) = (&r.number, format(r.amount), &r.currency);
    let (ru_due, en_due) = (due.format("%d.%m.%Y"), due.format("%Y-%m-%d"));
    let subject = format!("Счёт № {n} на оплату заказа {{order}} / Invoice {n} for order {{order}}");
    let text = format!(
        "Выставлен счёт № {n} на оплату заказа {{order}}: {amount} {cur}, оплатить до {ru_due}. \
         Счёт в PDF и все расчёты — в разделе «Финансы» личного кабинета.\n\n\
         Invoice {n} for order {{order}} is issued: {amount} {cur}, due by {en_due}. \
         The PDF and all your balances are under Finance in your account."
    );
    diesel::sql_query(
        "INSERT INTO public.mail_outbox (tenant_id, to_email, subject, body_text, links) \
         SELECT t.id, a.email, replace($2, '{order}', o.number), replace($3, '{order}', o.number), \
                jsonb_build_array('/api/v1/orders/' || o.number || '/invoice.pdf', '/account/finance') \
           FROM orders o JOIN public.accounts a ON a.id = o.account_id \
           LEFT JOIN public.tenants t ON t.schema_name = current_setting('app.tenant_id', true) \
          WHERE o.id = $1",
    )
    .bind::<BigInt, _>(order)
    .bind::<diesel::sql_types::Text, _>(subject)
    .bind::<diesel::sql_types::Text, _>(text)
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Unapplied {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    left: Decimal,
}

#[derive(QueryableByName)]
struct Ahead {
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    ahead: Decimal,
}

/// Pays the company's open invoices from money it paid ahead: what its payments have not
/// paid on any invoice yet, but no more than its ledger is in credit beyond what already paid
/// invoices of orders not shipped yet (so a payment that covered an older debt, such as an
/// opening balance from 1C, is not counted twice). Oldest payment first.
pub fn apply_credit(conn: &mut PgConnection, company: i64) -> AppResult<()> {
    let ahead: Ahead = diesel::sql_query(
        "SELECT greatest(coalesce(b.credit - b.debit, 0), 0) \
              - coalesce((SELECT sum(a.amount) FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id \
                           WHERE i.company_id = $1 AND NOT EXISTS \
                             (SELECT 1 FROM ledger_entries e WHERE e.order_id = i.order_id AND e.kind = 'shipment')), 0) AS ahead \
         FROM (SELECT 1) one LEFT JOIN company_balances b ON b.company_id = $1",
    )
    .bind::<BigInt, _>(company)
    .get_result(conn)?;
    let mut ahead = ahead.ahead;
    if ahead <= Decimal::ZERO {
        return Ok(());
    }
    let rows: Vec<Unapplied> = diesel::sql_query(
        "SELECT p.id, p.amount - p.refunded - coalesce(sum(a.amount), 0) AS left FROM payments p \
           LEFT JOIN payment_allocations a ON a.payment_id = p.id \
          WHERE p.company_id = $1 AND p.status = 'completed' \
          GROUP BY p.id HAVING p.amount - p.refunded - coalesce(sum(a.amount), 0) > 0 ORDER BY p.paid_on, p.id",
    )
    .bind::<BigInt, _>(company)
    .load(conn)?;
    for r in rows {
        let take = r.left.min(ahead);
        if take <= Decimal::ZERO {
            break;
        }
        apply(conn, r.id, company, take, None)?;
        ahead -= take;
    }
    Ok(())
}

/// Cancels the live invoice of a cancelled order when nothing was paid on it (money paid
/// stays a credit in the company's ledger, and its invoice stays as it is).
pub fn cancel_for(conn: &mut PgConnection, order: i64) -> AppResult<()> {
    diesel::update(
        invoices::table
            .filter(invoices::order_id.eq(order))
            .filter(invoices::status.eq("unpaid"))
            .filter(invoices::paid.eq(Decimal::ZERO)),
    )
    .set(invoices::status.eq("cancelled"))
    .execute(conn)?;
    Ok(())
}

fn status_of(amount: Decimal, paid: Decimal) -> &'static str {
    if paid >= amount {
        "paid"
    } else if paid > Decimal::ZERO {
        "partly_paid"
    } else {
        "unpaid"
    }
}

/// Applies payment `payment` of `amount` from `company`: to the invoice numbered `named`
/// first (it must be the company's), then to the oldest unpaid ones; what is left stays a
/// credit in the ledger. Invoices are locked in their order, so two payments never cross.
pub fn apply(
    conn: &mut PgConnection,
    payment: i64,
    company: i64,
    amount: Decimal,
    named: Option<&str>,
) -> AppResult<()> {
    let open: Vec<Invoice> = invoices::table
        .filter(invoices::company_id.eq(company))
        .filter(invoices::status.eq_any(["unpaid", "partly_paid"]))
        .order((invoices::issued_on, invoices::id))
        .for_update()
        .select(Invoice::as_select())
        .load(conn)?;
    let mut order: Vec<&Invoice> = Vec::with_capacity(open.len());
    if let Some(n) = named {
        let first = open
            .iter()
            .find(|i| i.number == n.trim())
            .ok_or_else(|| AppError::field("invoice", "no unpaid invoice with this number for this customer"))?;
        order.push(first);
    }
    order.extend(open.iter().filter(|i| Some(i.number.as_str()) != named.map(str::trim)));
    let mut left = amount;
    for inv in order {
        if left <= Decimal::ZERO {
            break;
        }
        let take = left.min(inv.amount - inv.paid);
        if take <= Decimal::ZERO {
            continue;
        }
        // A payment may come back to an invoice it paid before (reopened by a reversal).
        diesel::insert_into(payment_allocations::table)
            .values((
                payment_allocations::payment_id.eq(payment),
                payment_allocations::invoice_id.eq(inv.id),
                payment_allocations::amount.eq(take),
            ))
            .on_conflict((payment_allocations::payment_id, payment_allocations::invoice_id))
            .do_update()
            .set(payment_allocations::amount.eq(payment_allocations::amount + take))
            .execute(conn)?;
        let paid = inv.paid + take;
        diesel::update(invoices::table.find(inv.id))
            .set((invoices::paid.eq(paid), invoices::status.eq(status_of(inv.amount, paid))))
            .execute(conn)?;
        left -= take;
    }
    Ok(())
}

/// Takes back what a reversed payment paid on invoices.
pub fn unapply(conn: &mut PgConnection, payment: i64) -> AppResult<()> {
    let parts: Vec<(i64, Decimal)> = payment_allocations::table
        .filter(payment_allocations::payment_id.eq(payment))
        .order(payment_allocations::invoice_id)
        .select((payment_allocations::invoice_id, payment_allocations::amount))
        .load(conn)?;
    for (invoice, amount) in parts {
        let inv: Invoice = invoices::table.find(invoice).for_update().select(Invoice::as_select()).first(conn)?;
        let paid = inv.paid - amount;
        let status = if inv.status == "cancelled" { "cancelled" } else { status_of(inv.amount, paid) };
        diesel::update(invoices::table.find(invoice))
            .set((invoices::paid.eq(paid), invoices::status.eq(status)))
            .execute(conn)?;
    }
    diesel::delete(payment_allocations::table.filter(payment_allocations::payment_id.eq(payment))).execute(conn)?;
    Ok(())
}

/// Invoices, newest first, with their order numbers; `company` limits them to one customer.
pub fn list(conn: &mut PgConnection, company: Option<i64>, limit: i64) -> AppResult<Vec<Value>> {
    let mut q = invoices::table.inner_join(orders::table).into_boxed();
    if let Some(c) = company {
        q = q.filter(invoices::company_id.eq(c));
    }
    let rows: Vec<(Invoice, String)> = q
        .order((invoices::issued_on.desc(), invoices::id.desc()))
        .limit(limit)
        .select((Invoice::as_select(), orders::number))
        .load(conn)?;
    Ok(rows.iter().map(|(i, n)| i.json(n)).collect())
}

/// The number of order `order`'s live invoice.
pub fn number_of(conn: &mut PgConnection, order: i64) -> AppResult<Option<String>> {
    Ok(invoices::table
        .filter(invoices::order_id.eq(order))
        .filter(invoices::status.ne("cancelled"))
        .select(invoices::number)
        .first(conn)
        .optional()?)
}
