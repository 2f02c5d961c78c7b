//! The return note (накладная на возврат товара): the correction document issued when
//! returned goods are received and credited. Drawn once, in Russian (the accounting
//! language of the parties), and kept unchanged in `return_documents`.

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::Return;
use crate::db::schema_tenant::{companies, orders, return_lines};
use crate::error::AppResult;
use crate::finance::invoice_pdf::{money, signatures, Line, Party, Supplier};
use crate::finance::ledger::today;
use crate::money::{format_qty, grouped};
use crate::pdf::table::{self, Col, Row};
use crate::pdf::{words, Align, Doc, Fonts, Weight, LEFT, RIGHT};

pub struct ReturnNote {
    pub number: String,
    pub issued_on: NaiveDate,
    pub request: String,
    pub order_number: String,
    pub reason: String,
    pub supplier: Supplier,
    pub buyer: Party,
    pub lines: Vec<Line>,
    pub amount: Decimal,
    pub vat_mode: String,
    pub currency: String,
}

pub fn load(conn: &mut PgConnection, r: &Return, number: &str, order_no: &str, store: &str) -> AppResult<ReturnNote> {
    let (vat_mode, currency): (String, String) =
        orders::table.find(r.order_id).select((orders::vat_mode, orders::currency)).first(conn)?;
    let (name, inn, kpp, address): (String, String, Option<String>, String) = companies::table
        .find(r.company_id)
        .select((companies::name, companies::inn, companies::kpp, companies::legal_address))
        .first(conn)?;
    type L = (String, String, Decimal, String, Decimal, Decimal, String, Decimal);
    let lines: Vec<L> = return_lines::table
        .filter(return_lines::return_id.eq(r.id))
        .order(return_lines::line_no)
        .select((
            return_lines::name,
            return_lines::sku,
            return_lines::qty,
            return_lines::unit,
            return_lines::price,
            return_lines::amount,
            return_lines::vat_rate,
            return_lines::vat_amount,
        ))
        .load(conn)?;
    Ok(ReturnNote {
        number: number.to_owned(),
        issued_on: today(),
        request: r.number.clone(),
        order_number: order_no.to_owned(),
        reason: super::ru(&r.reason).to_owned(),
        supplier: Supplier::load(conn, store)?,
        buyer: Party { name, inn, kpp: kpp.unwrap_or_default(), address },
        lines: lines
            .into_iter()
            .map(|(name, sku, qty, unit, price, amount, vat_rate, vat_amount)| Line {
                name,
                sku,
                qty,
                unit: unit_ru(&unit),
                price,
                amount,
                vat_rate,
                vat_amount,
            })
            .collect(),
        amount: r.amount,
        vat_mode,
        currency,
    })
}

fn unit_ru(unit: &str) -> String {
    match unit {
        "pcs" => "шт",
        "m" => "м",
        "kg" => "кг",
        "l" => "л",
        "m2" => "м²",
        "m3" => "м³",
        other => other,
    }
    .to_owned()
}

fn labelled(doc: &mut Doc, label: &str, value: &str) {
    let top = doc.y;
    doc.text(LEFT, top + 10.0, 8.5, Weight::Regular, label);
    doc.paragraph(LEFT + 110.0, RIGHT - LEFT - 110.0, 8.5, Weight::Bold, value);
    doc.y = doc.y.max(top + 12.0) + 5.0;
}

pub fn render(fonts: &Fonts, n: &ReturnNote) -> AppResult<Vec<u8>> {
    let mut doc = Doc::new(fonts)?;
    let title = format!("Накладная на возврат товара № {} от {}", n.number, words::long_date(n.issued_on, true));
    doc.paragraph(LEFT, RIGHT - LEFT, 13.0, Weight::Bold, &title);
    doc.paragraph(
        LEFT,
        RIGHT - LEFT,
        8.0,
        Weight::Regular,
        &format!("Return note {} (return request {})", n.number, n.request),
    );
    doc.y += 3.0;
    doc.line(LEFT, doc.y, RIGHT, doc.y, 1.6);
    doc.y += 8.0;
    labelled(&mut doc, "Поставщик (получатель):", &n.supplier.party.line(true));
    labelled(&mut doc, "Покупатель (сдатчик):", &n.buyer.line(true));
    labelled(&mut doc, "Основание:", &format!("Заказ № {}, запрос на возврат № {}", n.order_number, n.request));
    labelled(&mut doc, "Причина возврата:", &n.reason);
    let price_title = if n.vat_mode == "excluded" { "Цена без НДС" } else { "Цена" };
    let cols = [
        Col { title: "№", width: 24.0, align: Align::Center },
        Col { title: "Товар", width: 218.0, align: Align::Left },
        Col { title: "Кол-во", width: 50.0, align: Align::Right },
        Col { title: "Ед.", width: 33.0, align: Align::Center },
        Col { title: price_title, width: 70.0, align: Align::Right },
        Col { title: "НДС", width: 60.0, align: Align::Right },
        Col { title: "Сумма", width: RIGHT - LEFT - 455.0, align: Align::Right },
    ];
    let rows: Vec<Row> = n
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let vat = if l.vat_rate == "none" {
                "без НДС".to_owned()
            } else {
                format!("{} %: {}", l.vat_rate, money(l.vat_amount, true))
            };
            Row::plain(vec![
                (i + 1).to_string(),
                format!("{} (арт. {})", l.name, l.sku),
                grouped(&format_qty(l.qty), "ru"),
                l.unit.clone(),
                money(l.price, true),
                vat,
                money(l.amount, true),
            ])
        })
        .collect();
    table::draw(&mut doc, LEFT, &cols, &rows, 8.0);
    doc.y += 14.0;
    let vat: Decimal = n.lines.iter().map(|l| l.vat_amount).sum();
    let vat_label = if n.vat_mode == "excluded" { "НДС:" } else { "В том числе НДС:" };
    for (label, value) in [(vat_label, money(vat, true)), ("Всего к зачёту:", money(n.amount, true))] {
        doc.text_in((LEFT, RIGHT - LEFT - 95.0), doc.y, 9.0, Weight::Bold, Align::Right, label);
        doc.text_in((RIGHT - 90.0, 90.0), doc.y, 9.0, Weight::Bold, Align::Right, &value);
        doc.y += 13.0;
    }
    doc.paragraph(LEFT, RIGHT - LEFT, 9.0, Weight::Bold, &words::russian(n.amount, &n.currency));
    doc.y += 4.0;
    doc.paragraph(
        LEFT,
        RIGHT - LEFT,
        8.5,
        Weight::Regular,
        "Сумма зачтена в счёт расчётов покупателя с поставщиком (уменьшает задолженность или увеличивает аванс).",
    );
    signatures(&mut doc, &n.supplier, true);
    doc.finish(&title)
}
