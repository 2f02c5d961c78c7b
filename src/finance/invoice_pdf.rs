//! The invoice for payment (счёт на оплату) as a PDF, in the form Russian accountants know:
//! the payee's bank details in a box at the top, the title with number and date, supplier,
//! buyer and basis, the lines, totals with VAT, the count of items and the total in words, the
//! payment QR code (GOST R 56042-2014), and the signatures. An English version has the same
//! layout with English labels.

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::db::schema_tenant::{companies, invoices, order_lines, orders};
use crate::error::{AppError, AppResult};
use crate::finance::requisites;
use crate::money::{format, format_qty, grouped};
use crate::pdf::table::{self, Col, Row};
use crate::pdf::{qr, words, Align, Doc, Fonts, Weight, LEFT, RIGHT};

/// A party of a document: who it is and where.
#[derive(Debug, Clone, Default)]
pub struct Party {
    pub name: String,
    pub inn: String,
    pub kpp: String,
    pub address: String,
}

impl Party {
    /// «ООО «Ромашка», ИНН 7701234567, КПП 770101001, 123456, г. Москва, …».
    pub fn line(&self, ru: bool) -> String {
        let mut parts = vec![self.name.clone()];
        if !self.inn.is_empty() {
            parts.push(format!("{} {}", if ru { "ИНН" } else { "INN" }, self.inn));
        }
        if !self.kpp.is_empty() {
            parts.push(format!("{} {}", if ru { "КПП" } else { "KPP" }, self.kpp));
        }
        if !self.address.is_empty() {
            parts.push(self.address.clone());
        }
        parts.join(", ")
    }
}

/// The supplier as its settings describe it (falling back to the store's name).
#[derive(Debug, Clone, Default)]
pub struct Supplier {
    pub party: Party,
    pub bank: String,
    pub bic: String,
    pub account: String,
    pub correspondent: String,
    pub director: String,
    pub accountant: String,
}

impl Supplier {
    pub fn from_details(d: &Map<String, Value>, store_name: &str) -> Supplier {
        let get = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or_default().trim().to_owned();
        let name = get("legal_name");
        Supplier {
            party: Party {
                name: if name.is_empty() { store_name.to_owned() } else { name },
                inn: get("inn"),
                kpp: get("kpp"),
                address: get("address"),
            },
            bank: get("bank"),
            bic: get("bic"),
            account: get("account"),
            correspondent: get("correspondent_account"),
            director: get("director"),
            accountant: get("accountant"),
        }
    }

    pub fn load(conn: &mut PgConnection, store_name: &str) -> AppResult<Supplier> {
        Ok(Supplier::from_details(&requisites::load(conn)?, store_name))
    }
}

#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub sku: String,
    pub qty: Decimal,
    pub unit: String,
    pub price: Decimal,
    pub amount: Decimal,
    pub vat_rate: String,
    pub vat_amount: Decimal,
}

/// Everything an invoice shows.
#[derive(Debug, Clone)]
pub struct InvoiceDoc {
    pub number: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub status: String,
    pub order_number: String,
    pub po_number: String,
    pub supplier: Supplier,
    pub buyer: Party,
    pub lines: Vec<Line>,
    pub amount: Decimal,
    pub vat_amount: Decimal,
    /// Paid so far (the QR code asks for the rest).
    pub paid: Decimal,
    /// `included` (prices with VAT) or `excluded`.
    pub vat_mode: String,
    pub currency: String,
}

/// The live (or, failing that, the latest) invoice of order `order`.
pub fn load(conn: &mut PgConnection, order: i64, store_name: &str) -> AppResult<InvoiceDoc> {
    type Inv = (String, NaiveDate, NaiveDate, String, Decimal, Decimal, Decimal);
    let inv: Inv = invoices::table
        .filter(invoices::order_id.eq(order))
        .order((invoices::status.eq("cancelled"), invoices::id.desc()))
        .select((
            invoices::number,
            invoices::issued_on,
            invoices::due_on,
            invoices::status,
            invoices::amount,
            invoices::vat_amount,
            invoices::paid,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("invoice"))?;
    let (number, po, company, vat_mode, currency): (String, String, i64, String, String) = orders::table
        .find(order)
        .select((orders::number, orders::po_number, orders::company_id, orders::vat_mode, orders::currency))
        .first(conn)?;
    let (name, inn, kpp, address): (String, String, Option<String>, String) = companies::table
        .find(company)
        .select((companies::name, companies::inn, companies::kpp, companies::legal_address))
        .first(conn)?;
    type L = (String, String, Decimal, String, Decimal, Decimal, String, Decimal);
    let lines: Vec<L> = order_lines::table
        .filter(order_lines::order_id.eq(order))
        .order(order_lines::line_no)
        .select((
            order_lines::name,
            order_lines::sku,
            order_lines::qty,
            order_lines::unit,
            order_lines::price,
            order_lines::amount,
            order_lines::vat_rate,
            order_lines::vat_amount,
        ))
        .load(conn)?;
    Ok(InvoiceDoc {
        number: inv.0,
        issued_on: inv.1,
        due_on: inv.2,
        status: inv.3,
        order_number: number,
        po_number: po,
        supplier: Supplier::load(conn, store_name)?,
        buyer: Party { name, inn, kpp: kpp.unwrap_or_default(), address },
        lines: lines
            .into_iter()
            .map(|(name, sku, qty, unit, price, amount, vat_rate, vat_amount)| Line {
                name,
                sku,
                qty,
                unit,
                price,
                amount,
                vat_rate,
                vat_amount,
            })
            .collect(),
        amount: inv.4,
        vat_amount: inv.5,
        paid: inv.6,
        vat_mode,
        currency,
    })
}

/// An amount as the document's language writes it.
pub fn money(v: Decimal, ru: bool) -> String {
    grouped(&format(v), if ru { "ru" } else { "en" })
}

/// The payee's bank details in the classic box; answers nothing, moves the cursor below.
fn bank_box(doc: &mut Doc, s: &Supplier, ru: bool) {
    let l = |a: &'static str, b: &'static str| if ru { a } else { b };
    let (x0, w) = (LEFT, RIGHT - LEFT);
    let (c1, c2) = (x0 + 290.0, x0 + 340.0);
    let top = doc.y;
    let (h1, h2) = (34.0, 34.0);
    doc.frame(x0, top, w, h1 + h2, 0.6);
    doc.line(x0, top + h1, RIGHT, top + h1, 0.6);
    doc.line(c1, top, c1, top + h1 + h2, 0.6);
    doc.line(c2, top, c2, top + h1 + h2, 0.6);
    doc.line(c1, top + 14.0, RIGHT, top + 14.0, 0.6);
    doc.line(x0, top + h1 + 13.0, c1, top + h1 + 13.0, 0.6);
    doc.line(x0 + 145.0, top + h1, x0 + 145.0, top + h1 + 13.0, 0.6);
    for (i, line) in doc.wrap(&s.bank, 280.0, 8.5, Weight::Regular).iter().take(2).enumerate() {
        doc.text(x0 + 3.0, top + 10.0 + i as f32 * 10.0, 8.5, Weight::Regular, line);
    }
    doc.text(x0 + 3.0, top + h1 - 3.0, 6.5, Weight::Regular, l("Банк получателя", "Payee's bank"));
    doc.text(c1 + 3.0, top + 10.0, 8.5, Weight::Regular, l("БИК", "BIC"));
    doc.text(c2 + 3.0, top + 10.0, 8.5, Weight::Regular, &s.bic);
    doc.text(c1 + 3.0, top + 24.0, 8.5, Weight::Regular, l("Сч. №", "Acc. no."));
    doc.text(c2 + 3.0, top + 24.0, 8.5, Weight::Regular, &s.correspondent);
    doc.text(x0 + 3.0, top + h1 + 10.0, 8.5, Weight::Regular, &format!("{} {}", l("ИНН", "INN"), s.party.inn));
    doc.text(x0 + 148.0, top + h1 + 10.0, 8.5, Weight::Regular, &format!("{} {}", l("КПП", "KPP"), s.party.kpp));
    doc.text(c1 + 3.0, top + h1 + 10.0, 8.5, Weight::Regular, l("Сч. №", "Acc. no."));
    doc.text(c2 + 3.0, top + h1 + 10.0, 8.5, Weight::Regular, &s.account);
    let name = doc.wrap(&s.party.name, 280.0, 8.5, Weight::Regular);
    if let Some(first) = name.first() {
        doc.text(x0 + 3.0, top + h1 + 22.0, 8.5, Weight::Regular, first);
    }
    doc.text(x0 + 3.0, top + h1 + h2 - 3.0, 6.5, Weight::Regular, l("Получатель", "Payee"));
    doc.y = top + h1 + h2 + 18.0;
}

/// A label in the left column and its wrapped value in bold beside it.
fn labelled(doc: &mut Doc, label: &str, value: &str, width: f32) {
    let top = doc.y;
    let label_lines = doc.wrap(label, 70.0, 8.5, Weight::Regular);
    for (i, line) in label_lines.iter().enumerate() {
        doc.text(LEFT, top + 10.0 + i as f32 * 10.5, 8.5, Weight::Regular, line);
    }
    doc.paragraph(LEFT + 75.0, width - 75.0, 8.5, Weight::Bold, value);
    doc.y = doc.y.max(top + label_lines.len() as f32 * 10.5) + 6.0;
}

/// The invoice as a PDF in Russian (`ru`) or English.
pub fn render(fonts: &Fonts, inv: &InvoiceDoc, ru: bool) -> AppResult<Vec<u8>> {
    let l = |a: &'static str, b: &'static str| if ru { a } else { b };
    let mut doc = Doc::new(fonts)?;
    let s = &inv.supplier;
    if ru {
        doc.paragraph(LEFT, RIGHT - LEFT, 7.0, Weight::Regular, "Внимание! Оплата данного счёта означает согласие с условиями поставки товара. Товар отпускается по факту прихода денег на р/с Поставщика.");
        doc.y += 6.0;
    }
    bank_box(&mut doc, s, ru);
    let title = if ru {
        format!("Счёт на оплату № {} от {}", inv.number, words::long_date(inv.issued_on, true))
    } else {
        format!("Invoice No. {} of {}", inv.number, words::long_date(inv.issued_on, false))
    };
    doc.paragraph(LEFT, RIGHT - LEFT, 13.0, Weight::Bold, &title);
    doc.y += 3.0;
    doc.line(LEFT, doc.y, RIGHT, doc.y, 1.6);
    doc.y += 8.0;
    if inv.status == "cancelled" {
        doc.paragraph(LEFT, RIGHT - LEFT, 11.0, Weight::Bold, l("СЧЁТ АННУЛИРОВАН", "THIS INVOICE IS CANCELLED"));
        doc.y += 6.0;
    }
    let purpose = if ru {
        format!(
            "Оплата по счёту № {} от {}, заказ № {}",
            inv.number,
            words::short_date(inv.issued_on, true),
            inv.order_number
        )
    } else {
        format!(
            "Payment of invoice {} of {}, order {}",
            inv.number,
            words::short_date(inv.issued_on, false),
            inv.order_number
        )
    };
    let code = qr::payload(&qr::Payment {
        name: &s.party.name,
        account: &s.account,
        bank: &s.bank,
        bic: &s.bic,
        correspondent: &s.correspondent,
        inn: &s.party.inn,
        kpp: &s.party.kpp,
        sum: inv.amount - inv.paid,
        purpose: &purpose,
        payer_inn: &inv.buyer.inn,
    })
    .filter(|_| inv.currency == "RUB" && inv.status != "cancelled" && inv.status != "paid");
    let text_w = if code.is_some() { RIGHT - LEFT - 110.0 } else { RIGHT - LEFT };
    let qr_top = doc.y;
    labelled(&mut doc, l("Поставщик (Исполнитель):", "Supplier:"), &s.party.line(ru), text_w);
    labelled(&mut doc, l("Покупатель (Заказчик):", "Buyer:"), &inv.buyer.line(ru), text_w);
    let mut basis = format!("{} {}", l("Заказ №", "Order"), inv.order_number);
    if !inv.po_number.is_empty() {
        basis.push_str(&format!(", {} {}", l("заявка покупателя", "buyer's PO"), inv.po_number));
    }
    labelled(&mut doc, l("Основание:", "Basis:"), &basis, text_w);
    if let Some(code) = &code {
        qr::draw(&mut doc, RIGHT - 100.0, qr_top - 4.0, 100.0, code);
        doc.text_in(
            (RIGHT - 100.0, 100.0),
            qr_top + 102.0,
            6.5,
            Weight::Regular,
            Align::Center,
            l("Оплата по QR-коду", "Pay by QR code"),
        );
        doc.y = doc.y.max(qr_top + 110.0);
    }
    lines_table(&mut doc, inv, ru);
    totals(&mut doc, inv, ru);
    signatures(&mut doc, s, ru);
    doc.finish(&title)
}

fn lines_table(doc: &mut Doc, inv: &InvoiceDoc, ru: bool) {
    let l = |a: &'static str, b: &'static str| if ru { a } else { b };
    let price_title = match (inv.vat_mode.as_str(), ru) {
        ("excluded", true) => "Цена без НДС",
        ("excluded", false) => "Price excl. VAT",
        (_, true) => "Цена",
        (_, false) => "Price",
    };
    let cols = [
        Col { title: "№", width: 24.0, align: Align::Center },
        Col {
            title: l("Товары (работы, услуги)", "Goods (work, services)"), width: 238.0, align: Align::Left
        },
        Col { title: l("Кол-во", "Qty"), width: 50.0, align: Align::Right },
        Col { title: l("Ед.", "Unit"), width: 33.0, align: Align::Center },
        Col { title: price_title, width: 80.0, align: Align::Right },
        Col { title: l("Сумма", "Amount"), width: RIGHT - LEFT - 425.0, align: Align::Right },
    ];
    let rows: Vec<Row> = inv
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let name = if line.sku.is_empty() {
                line.name.clone()
            } else {
                format!("{} ({} {})", line.name, l("арт.", "SKU"), line.sku)
            };
            Row::plain(vec![
                (i + 1).to_string(),
                name,
                grouped(&format_qty(line.qty), if ru { "ru" } else { "en" }),
                line.unit.clone(),
                money(line.price, ru),
                money(line.amount, ru),
            ])
        })
        .collect();
    table::draw(doc, LEFT, &cols, &rows, 8.0);
    doc.y += 4.0;
}

fn totals(doc: &mut Doc, inv: &InvoiceDoc, ru: bool) {
    let l = |a: &'static str, b: &'static str| if ru { a } else { b };
    let lines_sum: Decimal = inv.lines.iter().map(|x| x.amount).sum();
    let mut rows: Vec<(String, Decimal)> = vec![(l("Итого:", "Subtotal:").to_owned(), lines_sum)];
    let mut rates: Vec<(String, Decimal)> = Vec::new();
    for line in &inv.lines {
        match rates.iter_mut().find(|(r, _)| *r == line.vat_rate) {
            Some((_, sum)) => *sum += line.vat_amount,
            None => rates.push((line.vat_rate.clone(), line.vat_amount)),
        }
    }
    let included = inv.vat_mode != "excluded";
    if inv.vat_amount.is_zero() && rates.iter().all(|(r, _)| r == "none" || r == "0") {
        rows.push((l("Без налога (НДС)", "No VAT").to_owned(), Decimal::ZERO));
    } else {
        for (rate, sum) in rates.iter().filter(|(r, _)| r != "none") {
            let label = match (included, ru) {
                (true, true) => format!("В том числе НДС ({rate} %):"),
                (true, false) => format!("Including VAT ({rate}%):"),
                (false, true) => format!("НДС ({rate} %):"),
                (false, false) => format!("VAT ({rate}%):"),
            };
            rows.push((label, *sum));
        }
    }
    rows.push((l("Всего к оплате:", "Total due:").to_owned(), inv.amount));
    for (label, amount) in &rows {
        doc.room(13.0);
        doc.y += 12.0;
        let value = if label.starts_with("Без") || label.starts_with("No VAT") {
            "—".to_owned()
        } else {
            money(*amount, ru)
        };
        doc.text_in((LEFT, RIGHT - LEFT - 95.0), doc.y, 9.0, Weight::Bold, Align::Right, label);
        doc.text_in((RIGHT - 90.0, 90.0), doc.y, 9.0, Weight::Bold, Align::Right, &value);
    }
    doc.y += 8.0;
    let cur = if inv.currency == "RUB" { l("руб.", "RUB") } else { inv.currency.as_str() };
    let count = if ru {
        format!("Всего наименований {}, на сумму {} {cur}", inv.lines.len(), money(inv.amount, true))
    } else {
        format!("Items: {}, amounting to {} {cur}", inv.lines.len(), money(inv.amount, false))
    };
    doc.paragraph(LEFT, RIGHT - LEFT, 8.5, Weight::Regular, &count);
    let in_words =
        if ru { words::russian(inv.amount, &inv.currency) } else { words::english(inv.amount, &inv.currency) };
    doc.paragraph(LEFT, RIGHT - LEFT, 9.0, Weight::Bold, &in_words);
    doc.y += 6.0;
    let due = if ru {
        format!("Оплатить не позднее {}", words::short_date(inv.due_on, true))
    } else {
        format!("Please pay by {}", words::short_date(inv.due_on, false))
    };
    doc.paragraph(LEFT, RIGHT - LEFT, 8.5, Weight::Regular, &due);
    let note = l(
        "В назначении платежа, пожалуйста, укажите номер счёта.",
        "Please quote the invoice number in the payment reference.",
    );
    doc.paragraph(LEFT, RIGHT - LEFT, 8.0, Weight::Regular, note);
}

/// «Соколова И. В.» from «Соколова Ирина Викторовна» (a signature's transcript).
pub fn initials(full: &str) -> String {
    let mut parts = full.split_whitespace();
    let Some(surname) = parts.next() else { return String::new() };
    let rest: Vec<String> = parts.filter_map(|p| p.chars().next()).map(|c| format!("{c}.")).collect();
    if rest.is_empty() {
        surname.to_owned()
    } else {
        format!("{surname} {}", rest.join(" "))
    }
}

/// The thick rule and the supplier's signatures: director and chief accountant.
pub fn signatures(doc: &mut Doc, s: &Supplier, ru: bool) {
    let l = |a: &'static str, b: &'static str| if ru { a } else { b };
    doc.room(50.0);
    doc.y += 6.0;
    doc.line(LEFT, doc.y, RIGHT, doc.y, 1.6);
    doc.y += 30.0;
    let half = (RIGHT - LEFT) / 2.0;
    for (i, (role, name)) in
        [(l("Руководитель", "Director"), &s.director), (l("Бухгалтер", "Accountant"), &s.accountant)]
            .into_iter()
            .enumerate()
    {
        let x = LEFT + i as f32 * half;
        let w = doc.width(role, 9.0, Weight::Bold) + 6.0;
        doc.text(x, doc.y, 9.0, Weight::Bold, role);
        doc.line(x + w, doc.y + 1.0, x + w + 80.0, doc.y + 1.0, 0.5);
        let name = initials(name);
        let shown: String =
            doc.wrap(&name, half - w - 90.0, 8.5, Weight::Regular).into_iter().next().unwrap_or_default();
        doc.text(x + w + 84.0, doc.y, 8.5, Weight::Regular, &shown);
    }
    doc.y += 10.0;
}
