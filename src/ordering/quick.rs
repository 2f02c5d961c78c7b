//! Quick order: "SKU quantity" lines pasted into a box, or a CSV/XLSX file whose first two
//! columns are the SKU and the quantity (a header row is recognised and skipped). Every line
//! that cannot be added is reported with its number and reason; the rest go into the cart.

use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::carts;
use super::Actor;
use crate::error::{AppError, AppResult};
use crate::money::parse_qty;

/// At most this many lines per paste or file.
pub const MAX_LINES: usize = 1_000;

/// One line as read: its number (1-based, as the buyer counts), SKU and quantity text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub sku: String,
    pub qty: String,
}

/// Splits pasted text: SKU then quantity, separated by tabs, spaces, `;` or `,` (a decimal
/// comma inside the quantity survives: `PRF-1; 2,5`). Blank lines are skipped.
pub fn parse_text(text: &str) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let l = l.trim();
            let (sku, rest) = match l.find(['\t', ';', ' ']) {
                Some(at) => (&l[..at], &l[at + 1..]),
                None => match l.split_once(',') {
                    Some((s, r)) => (s, r),
                    None => (l, ""),
                },
            };
            let qty = rest.trim_matches(|c: char| c.is_whitespace() || c == ';' || c == '\t').trim();
            Entry {
                line: i + 1,
                sku: sku.trim().to_owned(),
                qty: if qty.is_empty() { "1".into() } else { qty.to_owned() },
            }
        })
        .collect()
}

/// Reads a CSV or XLSX file: the first column is the SKU, the second the quantity.
pub fn parse_file(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let table = crate::exchange::table::read(bytes)?;
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        let sku = row.first().map(|s| s.trim()).unwrap_or("");
        let qty = row.get(1).map(|s| s.trim()).unwrap_or("");
        if sku.is_empty() && qty.is_empty() {
            continue;
        }
        // A header: a second cell that is not a number on the first row.
        if i == 0 && parse_qty(qty).is_err() && !qty.is_empty() {
            continue;
        }
        out.push(Entry {
            line: i + 1,
            sku: crate::exchange::table::undefuse(sku).to_owned(),
            qty: if qty.is_empty() { "1".into() } else { qty.to_owned() },
        });
    }
    Ok(out)
}

/// Adds the entries to `cart`; answers `{added, rejected: [{line, sku, qty, reason}]}`.
pub fn add(conn: &mut PgConnection, actor: &Actor, cart: i64, entries: &[Entry]) -> AppResult<Value> {
    if entries.is_empty() {
        return Err(AppError::field("lines", "paste at least one line: SKU and quantity"));
    }
    if entries.len() > MAX_LINES {
        return Err(AppError::field("lines", format!("at most {MAX_LINES} lines at once")));
    }
    // Checks visibility and role, and locks the cart.
    carts::for_change(conn, actor, cart)?;
    let mut added = 0;
    let mut rejected = Vec::new();
    for e in entries {
        let qty: Decimal = match parse_qty(&e.qty) {
            Ok(q) => q,
            Err(m) => {
                rejected.push(json!({"line": e.line, "sku": e.sku, "qty": e.qty, "reason": format!("quantity {m}")}));
                continue;
            }
        };
        // Each line in its own savepoint: a failing one leaves the others in place.
        match conn.transaction(|c| carts::add_in(c, cart, &e.sku, qty)) {
            Ok(()) => added += 1,
            Err(AppError::Validation(f)) => {
                let reason = f
                    .into_iter()
                    .map(|(k, v)| if k == "qty" { format!("quantity {v}") } else { v })
                    .collect::<Vec<_>>()
                    .join("; ");
                rejected.push(json!({"line": e.line, "sku": e.sku, "qty": e.qty, "reason": reason}));
            }
            Err(AppError::Conflict { message, .. }) => {
                rejected.push(json!({"line": e.line, "sku": e.sku, "qty": e.qty, "reason": message}));
            }
            Err(other) => return Err(other),
        }
    }
    Ok(json!({"added": added, "rejected": rejected}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_lines_split_on_tabs_spaces_and_semicolons() {
        let e = parse_text("PRF-1 10\nPRF-2\t2,5\n\nPRF-3;7\nPRF-4\nPRF-5,3\n");
        let got: Vec<(usize, &str, &str)> = e.iter().map(|e| (e.line, e.sku.as_str(), e.qty.as_str())).collect();
        assert_eq!(
            got,
            vec![(1, "PRF-1", "10"), (2, "PRF-2", "2,5"), (4, "PRF-3", "7"), (5, "PRF-4", "1"), (6, "PRF-5", "3")]
        );
    }

    #[test]
    fn a_csv_header_is_skipped() {
        let e = parse_file("Артикул;Количество\nPRF-1;4\n".as_bytes()).expect("csv");
        assert_eq!(e, vec![Entry { line: 2, sku: "PRF-1".into(), qty: "4".into() }]);
    }
}
