//! Ruled tables: cells wrap their text, rows never split across pages, and the header is
//! repeated at the top of every page the table continues on.

use super::{Align, Doc, Weight};

pub struct Col<'a> {
    pub title: &'a str,
    pub width: f32,
    pub align: Align,
}

pub struct Row {
    pub cells: Vec<String>,
    pub bold: bool,
}

impl Row {
    pub fn plain(cells: Vec<String>) -> Row {
        Row { cells, bold: false }
    }
    pub fn bold(cells: Vec<String>) -> Row {
        Row { cells, bold: true }
    }
}

const PAD: f32 = 3.0;

fn row_lines(doc: &Doc, cols: &[Col], cells: &[String], size: f32, weight: Weight) -> Vec<Vec<String>> {
    cols.iter()
        .enumerate()
        .map(|(i, c)| doc.wrap(cells.get(i).map_or("", String::as_str), c.width - 2.0 * PAD, size, weight))
        .collect()
}

fn draw_row(doc: &mut Doc, x: f32, cols: &[Col], lines: &[Vec<String>], size: f32, weight: Weight, shade: bool) {
    let lead = size * 1.25;
    let h = lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * lead + 2.0 * PAD;
    let top = doc.y;
    let mut cx = x;
    for (col, cell) in cols.iter().zip(lines) {
        if shade {
            doc.fill(cx, top, col.width, h, 0.93);
        }
        doc.frame(cx, top, col.width, h, 0.5);
        for (k, line) in cell.iter().enumerate() {
            let base = top + PAD + (k as f32 + 1.0) * lead - size * 0.25;
            doc.text_in((cx + PAD, col.width - 2.0 * PAD), base, size, weight, col.align, line);
        }
        cx += col.width;
    }
    doc.y = top + h;
}

/// Draws the table at the cursor from `x` and moves the cursor below it.
pub fn draw(doc: &mut Doc, x: f32, cols: &[Col], rows: &[Row], size: f32) {
    let titles: Vec<String> = cols.iter().map(|c| c.title.to_owned()).collect();
    let header = row_lines(doc, cols, &titles, size, Weight::Bold);
    let header_h = header.iter().map(Vec::len).max().unwrap_or(1) as f32 * size * 1.25 + 2.0 * PAD;
    let mut header_on_page = false;
    for row in rows {
        let weight = if row.bold { Weight::Bold } else { Weight::Regular };
        let lines = row_lines(doc, cols, &row.cells, size, weight);
        let h = lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * size * 1.25 + 2.0 * PAD;
        let before = doc.pages_done();
        doc.room(h + if header_on_page { 0.0 } else { header_h });
        if doc.pages_done() != before {
            header_on_page = false;
        }
        if !header_on_page {
            draw_row(doc, x, cols, &header, size, Weight::Bold, true);
            header_on_page = true;
        }
        draw_row(doc, x, cols, &lines, size, weight, false);
    }
    if rows.is_empty() {
        doc.room(header_h);
        draw_row(doc, x, cols, &header, size, Weight::Bold, true);
    }
}
