//! Catalog import and export. An import is checked completely first (every bad row reported
//! with its line and reason) and applied only when the whole file is valid, in one
//! transaction. An export imports back unchanged.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::Serialize;

use super::table::{self, Table};
use crate::catalog::products::{self, Draft, Refs, Row};
use crate::db::schema_tenant::{product_barcodes, products as products_t};
use crate::error::AppResult;

/// Russian headers people type (and 1C writes), mapped to our columns.
const ALIASES: &[(&str, &str)] = &[
    ("артикул", "sku"),
    ("наименование", "name"),
    ("название", "name"),
    ("категория", "category"),
    ("бренд", "brand"),
    ("производитель", "brand"),
    ("единица", "unit"),
    ("ед. изм.", "unit"),
    ("цена", "price"),
    ("ндс", "vat_rate"),
    ("остаток", "stock"),
    ("статус", "status"),
    ("штрихкод", "barcodes"),
    ("штрихкоды", "barcodes"),
    ("описание", "description"),
];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowError {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub sku: String,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub applied: bool,
    pub encoding: Option<&'static str>,
    pub errors: Vec<RowError>,
}

fn header_name(h: &str) -> String {
    let h = h.trim().trim_start_matches('\u{feff}');
    let lower = h.to_lowercase();
    ALIASES.iter().find(|(a, _)| *a == lower).map(|(_, c)| c.to_string()).unwrap_or_else(|| {
        // Prefixes keep their case-sensitive codes (attr:, price:, stock:).
        if h.contains(':') {
            h.to_owned()
        } else {
            lower
        }
    })
}

/// Checks (and, when `apply` and everything is valid, applies) a spreadsheet.
pub fn import(conn: &mut PgConnection, tenant_id: i64, bytes: &[u8], apply: bool) -> AppResult<Report> {
    let mut report = Report::default();
    let Table { rows, encoding } = match table::read(bytes) {
        Ok(t) => t,
        Err(e) => {
            report.errors.push(RowError { line: 0, sku: String::new(), column: String::new(), message: e });
            return Ok(report);
        }
    };
    report.encoding = encoding.map(|e| match e {
        table::Encoding::Utf8 => "utf-8",
        table::Encoding::Windows1251 => "windows-1251",
    });
    let Some((header, body)) = rows.split_first() else {
        report.errors.push(RowError {
            line: 0,
            sku: String::new(),
            column: String::new(),
            message: "the file is empty".into(),
        });
        return Ok(report);
    };
    let refs = Refs::load(conn)?;
    let columns: Vec<String> = header.iter().map(|h| header_name(h)).collect();
    let mut seen_cols = HashSet::new();
    for c in &columns {
        if c.is_empty() {
            continue;
        }
        if !seen_cols.insert(c.clone()) {
            report.errors.push(RowError {
                line: 1,
                sku: String::new(),
                column: c.clone(),
                message: "the column appears twice".into(),
            });
        }
        if let Some(msg) = refs.unknown_column(c) {
            report.errors.push(RowError { line: 1, sku: String::new(), column: c.clone(), message: msg });
        }
    }
    for required in ["sku", "name", "price"] {
        if !columns.iter().any(|c| c == required) {
            report.errors.push(RowError {
                line: 1,
                sku: String::new(),
                column: required.into(),
                message: "the column is missing".into(),
            });
        }
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }
    // Who owns each barcode now, to report conflicts before writing anything.
    let owners: HashMap<String, String> = product_barcodes::table
        .inner_join(products_t::table.on(products_t::id.eq(product_barcodes::product_id)))
        .select((product_barcodes::barcode, products_t::sku))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut skus: HashMap<String, usize> = HashMap::new();
    let mut file_barcodes: HashMap<String, usize> = HashMap::new();
    let mut drafts: Vec<Draft> = Vec::with_capacity(body.len());
    for (i, cells) in body.iter().enumerate() {
        let line = i + 2;
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        let mut row = Row::new();
        for (col, cell) in columns.iter().zip(cells) {
            if !col.is_empty() {
                row.insert(col.clone(), table::undefuse(cell).to_owned());
            }
        }
        let sku = row.get("sku").cloned().unwrap_or_default().trim().to_owned();
        match products::parse_row(&row, &refs) {
            Ok(d) => {
                let key = d.sku.to_lowercase();
                if let Some(first) = skus.insert(key, line) {
                    report.errors.push(RowError {
                        line,
                        sku: sku.clone(),
                        column: "sku".into(),
                        message: format!("the SKU is already on line {first}"),
                    });
                }
                for b in &d.barcodes {
                    if let Some(owner) = owners.get(b).filter(|o| !o.eq_ignore_ascii_case(&d.sku)) {
                        report.errors.push(RowError {
                            line,
                            sku: sku.clone(),
                            column: "barcodes".into(),
                            message: format!("barcode {b} belongs to {owner}"),
                        });
                    }
                    if let Some(first) = file_barcodes.insert(b.clone(), line) {
                        report.errors.push(RowError {
                            line,
                            sku: sku.clone(),
                            column: "barcodes".into(),
                            message: format!("barcode {b} is already on line {first}"),
                        });
                    }
                }
                drafts.push(d);
            }
            Err(fields) => {
                for (column, message) in fields {
                    report.errors.push(RowError { line, sku: sku.clone(), column, message });
                }
            }
        }
    }
    if !report.errors.is_empty() || !apply {
        return Ok(report);
    }
    let existing: HashMap<String, i64> = products_t::table
        .select((products_t::sku, products_t::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .map(|(s, id)| (s.to_lowercase(), id))
        .collect();
    let mut ids = Vec::with_capacity(drafts.len());
    let mut new = Vec::new();
    for d in &drafts {
        match existing.get(&d.sku.to_lowercase()) {
            Some(id) => {
                products::update_known(conn, *id, d)?;
                ids.push(*id);
                report.updated += 1;
            }
            None => new.push(d),
        }
    }
    report.created = new.len();
    ids.extend(products::insert_many(conn, &new)?);
    products::after_change(conn, tenant_id, &ids)?;
    report.applied = true;
    Ok(report)
}

/// Every product as rows (header first), ordered by SKU.
pub fn export_rows(conn: &mut PgConnection) -> AppResult<Vec<Vec<String>>> {
    let refs = Refs::load(conn)?;
    let columns = refs.columns();
    let mut out = vec![columns.clone()];
    let all: Vec<products::Product> =
        products_t::table.select(products::Product::as_select()).order(products_t::sku).load(conn)?;
    for chunk in all.chunks(1000) {
        for row in products::to_rows(conn, chunk, &refs)? {
            out.push(columns.iter().map(|c| row.get(c).cloned().unwrap_or_default()).collect());
        }
    }
    Ok(out)
}
