//! The reconciliation statement (акт сверки взаимных расчётов) for a period, as a PDF: both
//! parties, the supplier's side of the ledger (opening balance, every movement with its
//! document, turnover, closing balance), an empty buyer's side to fill in and sign, the
//! result in words, and both parties' signatures.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use super::invoice_pdf::{money, Party, Supplier};
use crate::error::{AppError, AppResult};
use crate::pdf::table::{self, Col, Row};
use crate::pdf::{words, Align, Doc, Fonts, Weight, LEFT, RIGHT};

pub struct Movement {
    pub date: NaiveDate,
    pub kind: String,
    pub document: String,
    pub debit: Decimal,
    pub credit: Decimal,
}

pub struct Reconciliation {
    pub supplier: Supplier,
    pub buyer: Party,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Credit − debit before `from` (negative: the buyer owed).
    pub opening: Decimal,
    pub movements: Vec<Movement>,
    pub currency: String,
    /// The buyer's current supply contract: number and date.
    pub contract: Option<(String, NaiveDate)>,
}

fn dec(v: &Value, key: &str) -> AppResult<Decimal> {
    let s = v[key].as_str().ok_or_else(|| AppError::Internal(anyhow::anyhow!("statement without {key}")))?;
    Decimal::from_str(s).map_err(|e| AppError::Internal(anyhow::anyhow!("statement {key}: {e}")))
}

impl Reconciliation {
    /// From a ledger statement (`ledger::statement`).
    pub fn from_statement(st: &Value, supplier: Supplier, buyer: Party, currency: String) -> AppResult<Reconciliation> {
        let date = |v: &Value, k: &str| -> AppResult<NaiveDate> {
            v[k].as_str()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("statement without {k}")))
        };
        let movements = st["movements"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        Ok(Movement {
                            date: date(m, "date")?,
                            kind: m["kind"].as_str().unwrap_or_default().to_owned(),
                            document: m["document"].as_str().unwrap_or_default().to_owned(),
                            debit: dec(m, "debit")?,
                            credit: dec(m, "credit")?,
                        })
                    })
                    .collect::<AppResult<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Reconciliation {
            supplier,
            buyer,
            from: date(st, "from")?,
            to: date(st, "to")?,
            opening: dec(st, "opening_balance")?,
            movements,
            currency,
            contract: st["contract"]["number"]
                .as_str()
                .zip(st["contract"]["date"].as_str())
                .and_then(|(n, d)| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().map(|d| (n.to_owned(), d))),
        })
    }
}

fn kind_label(kind: &str, ru: bool) -> &'static str {
    match (kind, ru) {
        ("opening", true) => "Начальный остаток",
        ("opening", false) => "Opening balance",
        ("shipment", true) => "Отгрузка",
        ("shipment", false) => "Shipment",
        ("payment", true) => "Оплата",
        ("payment", false) => "Payment",
        ("return", true) => "Возврат",
        ("return", false) => "Return",
        ("reversal", true) => "Сторно",
        ("reversal", false) => "Reversal",
        (_, true) => "Операция",
        (_, false) => "Entry",
    }
}

/// A balance on the debit (buyer owes) or credit side.
fn sides(balance: Decimal, ru: bool) -> (String, String) {
    if balance < Decimal::ZERO {
        (money(-balance, ru), String::new())
    } else if balance > Decimal::ZERO {
        (String::new(), money(balance, ru))
    } else {
        (String::new(), String::new())
    }
}

/// The statement as a PDF in Russian (`ru`) or English.
pub fn render(fonts: &Fonts, r: &Reconciliation, ru: bool) -> AppResult<Vec<u8>> {
    let l = |a: &'static str, b: &'static str| if ru { a } else { b };
    let mut doc = Doc::new(fonts)?;
    let (s, b) = (&r.supplier.party, &r.buyer);
    let width = RIGHT - LEFT;
    let title = l("Акт сверки взаимных расчётов", "Reconciliation statement");
    doc.y += 6.0;
    doc.text_in((LEFT, width), doc.y + 10.0, 13.0, Weight::Bold, Align::Center, title);
    doc.y += 18.0;
    let period = if ru {
        format!("за период с {} по {}", words::short_date(r.from, true), words::short_date(r.to, true))
    } else {
        format!("for the period {} to {}", words::short_date(r.from, false), words::short_date(r.to, false))
    };
    doc.text_in((LEFT, width), doc.y + 10.0, 9.5, Weight::Regular, Align::Center, &period);
    doc.y += 16.0;
    if let Some((number, date)) = &r.contract {
        let basis = if ru {
            format!("по договору поставки № {number} от {}", words::short_date(*date, true))
        } else {
            format!("under supply contract No. {number} of {}", words::short_date(*date, false))
        };
        doc.text_in((LEFT, width), doc.y + 10.0, 9.5, Weight::Regular, Align::Center, &basis);
        doc.y += 16.0;
    }
    let between =
        if ru { format!("между {} и {}", s.name, b.name) } else { format!("between {} and {}", s.name, b.name) };
    for line in doc.wrap(&between, width, 9.5, Weight::Bold) {
        doc.text_in((LEFT, width), doc.y + 10.0, 9.5, Weight::Bold, Align::Center, &line);
        doc.y += 12.0;
    }
    doc.y += 6.0;
    let intro = if ru {
        format!(
            "Мы, нижеподписавшиеся, {}, с одной стороны, и {}, с другой стороны, составили настоящий акт сверки о том, что состояние взаимных расчётов по данным учёта следующее:",
            s.line(true),
            b.line(true)
        )
    } else {
        format!(
            "We, the undersigned, {} on the one part and {} on the other part, have drawn up this statement: the state of mutual settlements according to the records is as follows:",
            s.line(false),
            b.line(false)
        )
    };
    doc.paragraph(LEFT, width, 8.0, Weight::Regular, &intro);
    doc.y += 8.0;
    let half = width / 2.0;
    doc.room(30.0);
    for (i, who) in [&s.name, &b.name].into_iter().enumerate() {
        let currency = if ru && r.currency == "RUB" { "руб." } else { r.currency.as_str() };
        let head = format!("{} {}, {}", l("По данным", "According to"), who, currency);
        let x = LEFT + i as f32 * half;
        let lines = doc.wrap(&head, half - 6.0, 7.5, Weight::Bold);
        for (k, line) in lines.iter().enumerate() {
            doc.text_in((x, half), doc.y + 9.0 + k as f32 * 9.5, 7.5, Weight::Bold, Align::Center, line);
        }
    }
    doc.y += 24.0;
    let (dw, nw, aw) = (48.0, half - 48.0 - 2.0 * 55.0, 55.0);
    let cols = [
        Col { title: l("Дата", "Date"), width: dw, align: Align::Left },
        Col { title: l("Документ", "Document"), width: nw, align: Align::Left },
        Col { title: l("Дебет", "Debit"), width: aw, align: Align::Right },
        Col { title: l("Кредит", "Credit"), width: aw, align: Align::Right },
        Col { title: l("Дата", "Date"), width: dw, align: Align::Left },
        Col { title: l("Документ", "Document"), width: nw, align: Align::Left },
        Col { title: l("Дебет", "Debit"), width: aw, align: Align::Right },
        Col { title: l("Кредит", "Credit"), width: aw, align: Align::Right },
    ];
    let mut rows = Vec::with_capacity(r.movements.len() + 3);
    let (od, oc) = sides(r.opening, ru);
    rows.push(Row::bold(vec![String::new(), l("Сальдо начальное", "Opening balance").into(), od, oc]));
    let (mut debit, mut credit) = (Decimal::ZERO, Decimal::ZERO);
    for m in &r.movements {
        debit += m.debit;
        credit += m.credit;
        let doc_text = format!("{} {}", kind_label(&m.kind, ru), m.document).trim().to_owned();
        let cell = |v: Decimal| if v.is_zero() { String::new() } else { money(v, ru) };
        rows.push(Row::plain(vec![words::short_date(m.date, ru), doc_text, cell(m.debit), cell(m.credit)]));
    }
    rows.push(Row::bold(vec![
        String::new(),
        l("Обороты за период", "Turnover").into(),
        money(debit, ru),
        money(credit, ru),
    ]));
    let closing = r.opening + credit - debit;
    let (cd, cc) = sides(closing, ru);
    rows.push(Row::bold(vec![String::new(), l("Сальдо конечное", "Closing balance").into(), cd, cc]));
    table::draw(&mut doc, LEFT, &cols, &rows, 6.5);
    doc.y += 10.0;
    let owed = closing.abs();
    let result = match (closing.cmp(&Decimal::ZERO), ru) {
        (std::cmp::Ordering::Equal, true) => {
            format!("По данным {} на {} взаимная задолженность отсутствует.", s.name, words::short_date(r.to, true))
        }
        (std::cmp::Ordering::Equal, false) => {
            format!("According to {} there is no debt either way as of {}.", s.name, words::short_date(r.to, false))
        }
        (std::cmp::Ordering::Less, true) => format!(
            "По данным {} на {} задолженность в пользу {} составляет {} ({}).",
            s.name,
            words::short_date(r.to, true),
            s.name,
            money(owed, true),
            words::russian(owed, &r.currency)
        ),
        (std::cmp::Ordering::Less, false) => format!(
            "According to {}, as of {} {} owes {} {} ({}).",
            s.name,
            words::short_date(r.to, false),
            b.name,
            money(owed, false),
            r.currency,
            words::english(owed, &r.currency)
        ),
        (std::cmp::Ordering::Greater, true) => format!(
            "По данным {} на {} задолженность в пользу {} составляет {} ({}).",
            s.name,
            words::short_date(r.to, true),
            b.name,
            money(owed, true),
            words::russian(owed, &r.currency)
        ),
        (std::cmp::Ordering::Greater, false) => format!(
            "According to {}, as of {} {} owes {} {} ({}).",
            s.name,
            words::short_date(r.to, false),
            s.name,
            money(owed, false),
            r.currency,
            words::english(owed, &r.currency)
        ),
    };
    doc.paragraph(LEFT, width, 8.5, Weight::Bold, &result);
    doc.room(90.0);
    doc.y += 16.0;
    let top = doc.y;
    for (i, (who, name, signer)) in [
        (l("От поставщика", "For the supplier"), &s.name, r.supplier.director.as_str()),
        (l("От покупателя", "For the buyer"), &b.name, ""),
    ]
    .into_iter()
    .enumerate()
    {
        let x = LEFT + i as f32 * half;
        doc.y = top;
        doc.paragraph(x, half - 12.0, 8.0, Weight::Bold, who);
        doc.paragraph(x, half - 12.0, 8.0, Weight::Regular, name);
        doc.y += 22.0;
        doc.line(x, doc.y, x + 110.0, doc.y, 0.5);
        doc.text(
            x + 115.0,
            doc.y - 1.0,
            8.0,
            Weight::Regular,
            if signer.is_empty() { "(                              )" } else { signer },
        );
        doc.text(x, doc.y + 12.0, 7.0, Weight::Regular, l("М.П.", "Seal"));
    }
    doc.finish(title)
}
