//! Changing the lines of an order that is still new: the buyer supplements it (adds lines or
//! quantities), the supplier's staff edit it before confirming (any quantity, 0 removes a
//! line). Stock follows in the same transaction (taken for more, given back for less), added
//! lines are priced today for the order's company, kept lines keep their price, the totals
//! are recomputed, and the change is written to the history and told to the buyer.

use diesel::prelude::*;
use rust_decimal::Decimal;

use super::lines::{check_qty, money, orderable};
use super::notify;
use super::orders::{event, Order};
use super::stock::take_stock;
use crate::catalog::products::{self, Product};
use crate::catalog::settings::CatalogSettings;
use crate::db::schema_tenant::{order_allocations as oa, order_lines as ol, orders};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::money::{format, format_qty};
use crate::pricing::load::{price_many, Buyer};
use crate::pricing::{line_amount, vat_of, VatMode, VatRate};

/// Who changes the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    /// The buyer may only add (a supplement).
    Buyer(i64),
    /// Staff set quantities.
    Staff(i64),
}

/// Reads `[{sku, qty}]` (an order sent without a cart, a supplement, staff's edit): products
/// and quantities, every bad line reported; `zero` allows 0 (staff removing a line).
pub fn parse(conn: &mut PgConnection, sent: &[super::place::LineIn], zero: bool) -> AppResult<Vec<(Product, Decimal)>> {
    if sent.is_empty() || sent.len() > super::place::MAX_DIRECT_LINES {
        return Err(AppError::field("lines", "send 1 to 1,000 lines"));
    }
    let mut errors = FieldErrors::new();
    let mut out: Vec<(Product, Decimal)> = Vec::new();
    let found = products::by_skus(conn, &sent.iter().map(|l| l.sku.clone()).collect::<Vec<_>>())?;
    for (i, l) in sent.iter().enumerate() {
        let text = match &l.qty {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let qty = if zero && text.trim() == "0" { Ok(Decimal::ZERO) } else { crate::money::parse_qty(&text) };
        let qty = match qty {
            Ok(q) => q,
            Err(e) => {
                errors.insert(format!("lines[{i}].qty"), e);
                continue;
            }
        };
        match found.iter().find(|p| p.sku.to_lowercase() == l.sku.trim().to_lowercase()).cloned() {
            Some(p) if out.iter().any(|(o, _)| o.id == p.id) => {
                errors.insert(format!("lines[{i}].sku"), "is in the order twice".into());
            }
            Some(p) => out.push((p, qty)),
            None => {
                errors.insert(format!("lines[{i}].sku"), format!("no product with SKU {:?} is sold here", l.sku));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Applies `changes` (a product and its new quantity; for the buyer, the quantity to add) to
/// the order `id`, which must be new. Answers the order's id.
pub fn apply(
    conn: &mut PgConnection,
    id: i64,
    editor: Editor,
    mut changes: Vec<(Product, Decimal)>,
    settings: &CatalogSettings,
    locale: &str,
) -> AppResult<i64> {
    let o: Order = orders::table.find(id).for_update().select(Order::as_select()).first(conn)?;
    if o.status != "new" {
        return Err(AppError::conflict(
            "order_not_editable",
            format!("order {} is {} already: its lines can no longer change", o.number, o.status.replace('_', " ")),
        ));
    }
    let current: Vec<(i32, i64, Decimal, Decimal, String)> = ol::table
        .filter(ol::order_id.eq(id))
        .select((ol::line_no, ol::product_id, ol::qty, ol::price, ol::vat_rate))
        .load(conn)?;
    let mode = VatMode::parse(&o.vat_mode).unwrap_or(settings.vat_mode);
    // Product order for the stock rows, as at placement (no lock cycles).
    changes.sort_by_key(|(p, _)| p.id);
    let mut errors = FieldErrors::new();
    let mut more: Vec<(Product, Decimal)> = Vec::new();
    let mut less: Vec<(i64, Decimal)> = Vec::new();
    let mut new_lines: Vec<(Product, Decimal)> = Vec::new();
    let mut told = Vec::new();
    for (p, q) in &changes {
        let had = current.iter().find(|c| c.1 == p.id).map(|c| c.2);
        let target = match editor {
            Editor::Buyer(_) => had.unwrap_or(Decimal::ZERO) + *q,
            Editor::Staff(_) => *q,
        };
        if matches!(editor, Editor::Buyer(_)) && q.is_zero() {
            errors.insert(p.sku.clone(), "must be greater than zero".into());
            continue;
        }
        if !target.is_zero() {
            let check =
                if had.is_none() { orderable(p).and_then(|_| check_qty(p, target)) } else { check_qty(p, target) };
            if let Err((_, m)) = check {
                errors.insert(p.sku.clone(), m);
                continue;
            }
        }
        let before = had.unwrap_or(Decimal::ZERO);
        if target > before {
            more.push((p.clone(), target - before));
        } else if target < before {
            less.push((p.id, before - target));
        }
        if had.is_none() && !target.is_zero() {
            new_lines.push((p.clone(), target));
        }
        if target != before {
            told.push(format!("{} {} → {} {}", p.sku, format_qty(before), format_qty(target), p.unit));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if told.is_empty() {
        return Ok(id);
    }
    if o.kind == "order" {
        take_stock(conn, id, &more)?;
        for (pid, qty) in &less {
            give_back(conn, id, *pid, *qty)?;
        }
    }
    // Kept lines: new quantity at their own price. Removed lines: gone.
    for (p, q) in &changes {
        let Some((line_no, _, _, price, vat)) = current.iter().find(|c| c.1 == p.id) else { continue };
        let target = match editor {
            Editor::Buyer(_) => current.iter().find(|c| c.1 == p.id).map_or(Decimal::ZERO, |c| c.2) + *q,
            Editor::Staff(_) => *q,
        };
        if target.is_zero() {
            diesel::delete(ol::table.find((id, *line_no))).execute(conn)?;
        } else {
            let amount = line_amount(*price, target);
            let rate = VatRate::parse(vat).unwrap_or(VatRate::R20);
            diesel::update(ol::table.find((id, *line_no)))
                .set((ol::qty.eq(target), ol::amount.eq(amount), ol::vat_amount.eq(vat_of(amount, rate, mode))))
                .execute(conn)?;
        }
    }
    // Added lines: priced today for the order's company.
    if !new_lines.is_empty() {
        let company =
            crate::identity::companies::find(conn, o.company_id)?.ok_or_else(|| AppError::not_found("customer"))?;
        let buyer = Buyer::of(&company);
        let items: Vec<(&Product, Decimal)> = new_lines.iter().map(|(p, q)| (p, *q)).collect();
        let prices = price_many(conn, Some(&buyer), mode, &items)?;
        let mut next = current.iter().map(|c| c.0).max().unwrap_or(0);
        for (p, q) in &new_lines {
            let b = prices
                .get(&p.id)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no price for product {}", p.id)))?;
            let m = money(b, *q, p.vat(), mode);
            next += 1;
            diesel::insert_into(ol::table)
                .values((
                    ol::order_id.eq(id),
                    ol::line_no.eq(next),
                    ol::product_id.eq(p.id),
                    ol::sku.eq(&p.sku),
                    ol::name.eq(p.name_in(locale)),
                    ol::unit.eq(&p.unit),
                    ol::qty.eq(*q),
                    ol::price.eq(m.price),
                    ol::vat_rate.eq(&p.vat_rate),
                    ol::amount.eq(m.amount),
                    ol::vat_amount.eq(m.vat),
                    ol::breakdown.eq(serde_json::to_value(b).unwrap_or_default()),
                ))
                .execute(conn)?;
        }
    }
    let left: Vec<(Decimal, Decimal)> =
        ol::table.filter(ol::order_id.eq(id)).select((ol::amount, ol::vat_amount)).load(conn)?;
    if left.is_empty() {
        return Err(AppError::field("lines", "an order keeps at least one line: cancel it instead"));
    }
    let vat: Decimal = left.iter().map(|l| l.1).sum();
    let amount: Decimal = left.iter().map(|l| l.0).sum();
    let total = if mode == VatMode::Excluded { amount + vat } else { amount };
    diesel::update(orders::table.find(id))
        .set((orders::total.eq(total), orders::vat_total.eq(vat), orders::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    let (actor, kind, what) = match editor {
        Editor::Buyer(a) => (a, "buyer", "supplemented"),
        Editor::Staff(a) => (a, "staff", "lines changed"),
    };
    let note = format!("{what}: {}", told.join("; "));
    event(conn, id, Some(actor), kind, None, None, &note)?;
    if let Editor::Staff(_) = editor {
        let title =
            format!("Заказ {n} изменён, сумма {t} / Order {n} was changed, total {t}", n = o.number, t = format(total));
        notify::tell(
            conn,
            &[o.account_id],
            o.company_id,
            "order_changed",
            &o.number,
            &title,
            &format!("{title}\n\n{}", told.join("\n")),
        )?;
    }
    Ok(id)
}

/// Gives `qty` of a product back to the warehouses it was taken from (last first).
fn give_back(conn: &mut PgConnection, order: i64, product: i64, qty: Decimal) -> AppResult<()> {
    let rows: Vec<(i64, Decimal)> = oa::table
        .filter(oa::order_id.eq(order))
        .filter(oa::product_id.eq(product))
        .order(oa::warehouse_id.desc())
        .select((oa::warehouse_id, oa::qty))
        .load(conn)?;
    let mut left = qty;
    for (warehouse, taken) in rows {
        let back = left.min(taken);
        diesel::sql_query(
            "UPDATE stock SET quantity = quantity + $3, updated_at = now() WHERE product_id = $1 AND warehouse_id = $2",
        )
        .bind::<diesel::sql_types::BigInt, _>(product)
        .bind::<diesel::sql_types::BigInt, _>(warehouse)
        .bind::<diesel::sql_types::Numeric, _>(back)
        .execute(conn)?;
        if back == taken {
            diesel::delete(oa::table.find((order, product, warehouse))).execute(conn)?;
        } else {
            diesel::update(oa::table.find((order, product, warehouse))).set(oa::qty.eq(taken - back)).execute(conn)?;
        }
        left -= back;
        if left.is_zero() {
            break;
        }
    }
    Ok(())
}
