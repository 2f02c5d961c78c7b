//! The orders of a `mode=query` answer, read in a few statements (not one per order).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema_platform::tenants;
use crate::db::schema_tenant::{companies, invoices, order_events, order_lines, orders};
use crate::error::AppResult;
use crate::identity::companies::Company;
use crate::ordering::orders::{LineRow, Order};

/// One order as 1C gets it.
pub struct ExportOrder {
    pub order: Order,
    pub company: Company,
    /// The company's 1C id, when 1C sent one.
    pub company_ext_id: Option<String>,
    pub lines: Vec<ExportLine>,
    /// Its invoice for payment is paid.
    pub paid: bool,
    /// When its status last changed.
    pub status_at: DateTime<Utc>,
}

pub struct ExportLine {
    pub row: LineRow,
    /// The product's id in 1C, else our SKU.
    pub ext_id: String,
}

/// The orders `ids` (in that order) with their companies and lines.
pub fn orders(conn: &mut PgConnection, ids: &[i64]) -> AppResult<Vec<ExportOrder>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<Order> = orders::table.filter(orders::id.eq_any(ids)).select(Order::as_select()).load(conn)?;
    let company_ids: Vec<i64> = list.iter().map(|o| o.company_id).collect();
    let companies: HashMap<i64, (Company, Option<String>)> = companies::table
        .filter(companies::id.eq_any(&company_ids))
        .select((Company::as_select(), companies::external_id))
        .load::<(Company, Option<String>)>(conn)?
        .into_iter()
        .map(|(c, ext)| (c.id, (c, ext)))
        .collect();
    let mut lines: HashMap<i64, Vec<ExportLine>> = HashMap::new();
    let rows: Vec<(i64, LineRow)> = order_lines::table
        .filter(order_lines::order_id.eq_any(ids))
        .order((order_lines::order_id, order_lines::line_no))
        .select((
            order_lines::order_id,
            (
                order_lines::line_no,
                order_lines::sku,
                order_lines::name,
                order_lines::unit,
                order_lines::qty,
                order_lines::price,
                order_lines::vat_rate,
                order_lines::amount,
                order_lines::vat_amount,
            ),
        ))
        .load(conn)?;
    for (order, row) in rows {
        // HOOK(issue8-catalog): use products.external_id (migration 0019) here when it is on main.
        let ext_id = row.1.clone();
        lines.entry(order).or_default().push(ExportLine { row, ext_id });
    }
    let paid: Vec<i64> = invoices::table
        .filter(invoices::order_id.eq_any(ids))
        .filter(invoices::status.eq("paid"))
        .select(invoices::order_id)
        .load(conn)?;
    let changed: HashMap<i64, Option<DateTime<Utc>>> = order_events::table
        .filter(order_events::order_id.eq_any(ids))
        .filter(order_events::to_status.is_not_null())
        .group_by(order_events::order_id)
        .select((order_events::order_id, diesel::dsl::max(order_events::at)))
        .load::<(i64, Option<DateTime<Utc>>)>(conn)?
        .into_iter()
        .collect();
    let mut by_id: HashMap<i64, Order> = list.into_iter().map(|o| (o.id, o)).collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(order) = by_id.remove(id) else { continue };
        let Some((company, company_ext_id)) = companies.get(&order.company_id).cloned() else { continue };
        out.push(ExportOrder {
            status_at: changed.get(id).copied().flatten().unwrap_or(order.created_at),
            paid: paid.contains(id),
            lines: lines.remove(id).unwrap_or_default(),
            company,
            company_ext_id,
            order,
        });
    }
    Ok(out)
}

/// The `Сайт` requisite: `[slug] store name`, from the tenant the transaction is in.
pub fn site(conn: &mut PgConnection) -> AppResult<String> {
    let schema: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "coalesce(current_setting('app.tenant_id', true), '')",
    ))
    .get_result(conn)?;
    let row: Option<(String, String)> = tenants::table
        .filter(tenants::schema_name.eq(&schema))
        .select((tenants::slug, tenants::name))
        .first(conn)
        .optional()?;
    Ok(row.map_or_else(|| "Tradeport".to_owned(), |(slug, name)| format!("[{slug}] {name}")))
}
