//! A contract or agreement as a PDF: the stored text laid out by its markers (`# ` title,
//! `## ` section heading, `left || right` a line with text at both edges, every other line a
//! paragraph, blank lines a gap), then both parties' details and signature blocks side by side.

use serde_json::{Map, Value};

use super::Contract;
use crate::error::AppResult;
use crate::finance::invoice_pdf::initials;
use crate::pdf::{Align, Doc, Fonts, Weight, LEFT, RIGHT};

/// One block of the text.
#[derive(Debug, PartialEq, Eq)]
pub enum Block {
    Title(String),
    Heading(String),
    Edges(String, String),
    Paragraph(String),
    Gap,
}

/// The blocks of a rendered text (gaps collapsed, none at the start or the end).
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        let block = if line.is_empty() {
            if matches!(out.last(), None | Some(Block::Gap)) {
                continue;
            }
            Block::Gap
        } else if let Some(t) = line.strip_prefix("## ") {
            Block::Heading(t.trim().to_owned())
        } else if let Some(t) = line.strip_prefix("# ") {
            Block::Title(t.trim().to_owned())
        } else if let Some((l, r)) = line.split_once("||") {
            Block::Edges(l.trim().to_owned(), r.trim().to_owned())
        } else {
            Block::Paragraph(line.to_owned())
        };
        out.push(block);
    }
    while matches!(out.last(), Some(Block::Gap)) {
        out.pop();
    }
    out
}

fn get<'a>(m: &'a Map<String, Value>, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or_default()
}

/// The lines of a party's details block.
fn details(m: &Map<String, Value>, ru: bool) -> Vec<String> {
    let l = |a: &'static str, b: &'static str| if ru { a } else { b };
    let mut lines = vec![get(m, "name").to_owned()];
    let mut push = |label: &str, key: &str| {
        let v = get(m, key);
        if !v.is_empty() {
            lines.push(format!("{label} {v}"));
        }
    };
    push(l("ИНН", "INN"), "inn");
    push(l("КПП", "KPP"), "kpp");
    push(l("ОГРН", "OGRN"), "ogrn");
    push(l("Адрес:", "Address:"), "address");
    push(l("Р/с", "Account"), "account");
    push(l("Банк:", "Bank:"), "bank");
    push(l("БИК", "BIC"), "bic");
    push(l("К/с", "Corr. account"), "correspondent_account");
    push(l("Тел.", "Phone"), "phone");
    lines
}

/// The document as a PDF in its own language.
pub fn render(fonts: &Fonts, c: &Contract) -> AppResult<Vec<u8>> {
    let ru = c.lang != "en";
    let width = RIGHT - LEFT;
    let mut doc = Doc::new(fonts)?;
    let mut title = String::new();
    for block in blocks(&c.body) {
        match block {
            Block::Title(t) => {
                if title.is_empty() {
                    title = t.clone();
                }
                for line in doc.wrap(&t, width, 11.5, Weight::Bold) {
                    doc.room(16.0);
                    doc.y += 15.0;
                    doc.text_in((LEFT, width), doc.y, 11.5, Weight::Bold, Align::Center, &line);
                }
            }
            Block::Heading(t) => {
                doc.room(40.0);
                doc.y += 6.0;
                for line in doc.wrap(&t, width, 9.5, Weight::Bold) {
                    doc.y += 12.5;
                    doc.text_in((LEFT, width), doc.y, 9.5, Weight::Bold, Align::Center, &line);
                }
                doc.y += 3.0;
            }
            Block::Edges(left, right) => {
                doc.room(14.0);
                doc.y += 16.0;
                doc.text(LEFT, doc.y, 9.0, Weight::Regular, &left);
                doc.text_in((LEFT, width), doc.y, 9.0, Weight::Regular, Align::Right, &right);
                doc.y += 4.0;
            }
            Block::Paragraph(t) => {
                doc.paragraph(LEFT, width, 9.0, Weight::Regular, &t);
                doc.y += 2.5;
            }
            Block::Gap => doc.y += 6.0,
        }
    }
    parties(&mut doc, c, ru);
    doc.finish(if title.is_empty() { &c.number } else { &title })
}

/// Both parties' details side by side, each with its signature line and seal.
fn parties(doc: &mut Doc, c: &Contract, ru: bool) {
    let l = |a: &'static str, b: &'static str| if ru { a } else { b };
    let half = (RIGHT - LEFT) / 2.0;
    let empty = Map::new();
    let supplier = c.supplier.as_object().unwrap_or(&empty);
    let buyer = c.buyer.as_object().unwrap_or(&empty);
    let columns = [
        (l("Поставщик", "Supplier"), details(supplier, ru), get(supplier, "director").to_owned()),
        (l("Покупатель", "Buyer"), details(buyer, ru), get(buyer, "contact_person").to_owned()),
    ];
    let wrapped: Vec<Vec<String>> = columns
        .iter()
        .map(|(_, lines, _)| lines.iter().flat_map(|x| doc.wrap(x, half - 14.0, 8.0, Weight::Regular)).collect())
        .collect();
    let tallest = wrapped.iter().map(Vec::len).max().unwrap_or(0) as f32;
    doc.room(30.0 + tallest * 10.0 + 60.0);
    doc.y += 8.0;
    let top = doc.y;
    for (i, ((who, _, signer), lines)) in columns.iter().zip(&wrapped).enumerate() {
        let x = LEFT + i as f32 * half;
        doc.text(x, top + 10.0, 9.0, Weight::Bold, who);
        for (k, line) in lines.iter().enumerate() {
            let weight = if k == 0 { Weight::Bold } else { Weight::Regular };
            doc.text(x, top + 24.0 + k as f32 * 10.0, 8.0, weight, line);
        }
        let sign_y = top + 24.0 + tallest * 10.0 + 30.0;
        doc.line(x, sign_y, x + 110.0, sign_y, 0.5);
        let shown = if signer.is_empty() {
            "(                         )".to_owned()
        } else {
            format!("/ {} /", initials(signer))
        };
        doc.text(x + 114.0, sign_y - 1.0, 8.0, Weight::Regular, &shown);
        doc.text(x, sign_y + 12.0, 7.0, Weight::Regular, l("М.П.", "Seal"));
    }
    doc.y = top + 24.0 + tallest * 10.0 + 50.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_blocks_and_blank_runs_one_gap() {
        let b = blocks("\n# ДОГОВОР № 1\nг. Москва || 1 января 2026 г.\n\n\n## 1. Предмет\nТекст.\n\n");
        assert_eq!(
            b,
            vec![
                Block::Title("ДОГОВОР № 1".into()),
                Block::Edges("г. Москва".into(), "1 января 2026 г.".into()),
                Block::Gap,
                Block::Heading("1. Предмет".into()),
                Block::Paragraph("Текст.".into()),
            ]
        );
    }
}
