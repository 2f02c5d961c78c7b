//! The УПД (and the счёт-фактура alone) as PDF, laid out as the form the FNS recommends
//! (letter ММВ-20-3/96@): on landscape A4, the status box on the left, the invoice's header
//! lines with their column codes, the table with codes (1–11), the signatures of the head and
//! the chief accountant, and for the УПД the transfer part (lines 8–19) for both sides.

use super::assets::Images;
use super::snapshot::Snapshot;
use super::upd_xml::rate;
use crate::error::AppResult;
use crate::finance::invoice_pdf::{initials, money};
use crate::money::format_qty;
use crate::pdf::table::{self, Col, Row};
use crate::pdf::{words, Align, Doc, Fonts, Weight, LEFT};

/// A header line: label, value (bold, underlined), and the form's line code at the right.
pub fn field(doc: &mut Doc, x: f32, w: f32, label: &str, value: &str, code: &str) {
    let size = 7.5;
    doc.room(11.0);
    doc.y += 10.0;
    let lw = doc.width(label, size, Weight::Regular) + 4.0;
    doc.text(x, doc.y, size, Weight::Regular, label);
    let vw = w - lw - 26.0;
    let lines = doc.wrap(value, vw, size, Weight::Bold);
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            doc.y += 9.0;
        }
        doc.text(x + lw, doc.y, size, Weight::Bold, l);
        doc.line(x + lw, doc.y + 1.5, x + w - 24.0, doc.y + 1.5, 0.4);
    }
    doc.text_in((x + w - 22.0, 22.0), doc.y, 6.5, Weight::Regular, Align::Right, code);
}

fn party_line(name: &str, address: &str) -> String {
    if address.is_empty() {
        name.to_owned()
    } else {
        format!("{name}, {address}")
    }
}

/// The УПД (`transfer`) or the счёт-фактура.
pub fn render(fonts: &Fonts, s: &Snapshot, img: &Images, transfer: bool) -> AppResult<Vec<u8>> {
    let mut doc = Doc::landscape(fonts)?;
    let right = doc.right();
    let top = doc.y;
    let x = if transfer { LEFT + 92.0 } else { LEFT };
    if transfer {
        doc.frame(LEFT, top, 86.0, 78.0, 0.8);
        doc.text(LEFT + 4.0, top + 12.0, 8.5, Weight::Bold, "Универсальный");
        doc.text(LEFT + 4.0, top + 22.0, 8.5, Weight::Bold, "передаточный");
        doc.text(LEFT + 4.0, top + 32.0, 8.5, Weight::Bold, "документ");
        doc.text(LEFT + 4.0, top + 48.0, 8.0, Weight::Regular, "Статус:");
        doc.frame(LEFT + 44.0, top + 38.0, 22.0, 14.0, 0.8);
        doc.text_in((LEFT + 44.0, 22.0), top + 48.5, 9.0, Weight::Bold, Align::Center, &s.upd_status.to_string());
        let note = "1 – счёт-фактура и передаточный документ (акт); 2 – передаточный документ (акт)";
        let mut yy = top + 58.0;
        for l in doc.wrap(note, 78.0, 5.5, Weight::Regular) {
            doc.text(LEFT + 4.0, yy, 5.5, Weight::Regular, &l);
            yy += 6.5;
        }
    }
    let w = right - x;
    let title = format!("Счёт-фактура № {} от {}", s.number, words::long_date(s.issued_on, true));
    doc.y = top;
    field(&mut doc, x, w * 0.62, "", &title, "(1)");
    doc.text(x + w - 200.0, top + 8.0, 5.5, Weight::Regular, "Приложение № 1 к постановлению Правительства");
    doc.text(x + w - 200.0, top + 15.0, 5.5, Weight::Regular, "Российской Федерации от 26 декабря 2011 г. № 1137");
    field(&mut doc, x, w * 0.62, "Исправление №", "--   от   --", "(1а)");
    let f = |doc: &mut Doc, label: &str, value: &str, code: &str| field(doc, x, w, label, value, code);
    f(&mut doc, "Продавец:", &s.seller.name, "(2)");
    f(&mut doc, "Адрес:", &s.seller.address, "(2а)");
    f(&mut doc, "ИНН/КПП продавца:", &format!("{}/{}", s.seller.inn, s.seller.kpp), "(2б)");
    f(&mut doc, "Грузоотправитель и его адрес:", "он же", "(3)");
    f(&mut doc, "Грузополучатель и его адрес:", &party_line(&s.buyer.name, &s.buyer.address), "(4)");
    f(&mut doc, "К платёжно-расчётному документу №", "--   от   --", "(5)");
    let shipped = format!("№ п/п 1–{} № {} от {}", s.lines.len(), s.number, words::short_date(s.issued_on, true));
    f(&mut doc, "Документ об отгрузке:", &shipped, "(5а)");
    f(&mut doc, "Покупатель:", &s.buyer.name, "(6)");
    f(&mut doc, "Адрес:", &s.buyer.address, "(6а)");
    f(&mut doc, "ИНН/КПП покупателя:", &format!("{}/{}", s.buyer.inn, s.buyer.kpp), "(6б)");
    let currency =
        if s.currency == "RUB" { "Российский рубль, 643".to_owned() } else { s.currency.clone() };
    f(&mut doc, "Валюта: наименование, код", &currency, "(7)");
    f(&mut doc, "Идентификатор государственного контракта, договора (соглашения) (при наличии):", "", "(8)");
    doc.y += 6.0;
    lines(&mut doc, s);
    signatures(&mut doc, s, img);
    if transfer {
        transfer_part(&mut doc, s, img);
    }
    let name = if transfer {
        "Универсальный передаточный документ"
    } else {
        "Счёт-фактура"
    };
    doc.finish(&format!("{name} № {}", s.number))
}

fn lines(doc: &mut Doc, s: &Snapshot) {
    let c = |title: &'static str, width: f32, align: Align| Col { title, width, align };
    let cols = [
        c("№ п/п", 22.0, Align::Center),
        c("Код товара/ работ, услуг", 50.0, Align::Left),
        c(
            "Наименование товара (описание выполненных работ, оказанных услуг), имущественного права",
            170.0,
            Align::Left,
        ),
        c("Код вида товара", 30.0, Align::Center),
        c("Ед. изм.: код", 30.0, Align::Center),
        c("условное обозначение", 34.0, Align::Center),
        c("Коли- чество (объём)", 46.0, Align::Right),
        c("Цена (тариф) за единицу измерения", 58.0, Align::Right),
        c("Стоимость товаров без налога – всего", 66.0, Align::Right),
        c("В том числе сумма акциза", 40.0, Align::Center),
        c("Нало- говая ставка", 38.0, Align::Center),
        c("Сумма налога, предъявляемая покупателю", 58.0, Align::Right),
        c("Стоимость товаров с налогом – всего", 66.0, Align::Right),
        c("Страна проис- хождения: код", 24.0, Align::Center),
        c("краткое наиме- нование", 40.0, Align::Center),
    ];
    let mut rows = vec![Row::bold(
        ["А", "Б", "1", "1а", "2", "2а", "3", "4", "5", "6", "7", "8", "9", "10", "10а"].map(String::from).to_vec(),
    )];
    for l in &s.lines {
        let r = rate(s, &l.vat_rate);
        let vat = if r == "без НДС" { "без НДС".to_owned() } else { money(l.vat, true) };
        rows.push(Row::plain(vec![
            l.no.to_string(),
            l.sku.clone(),
            l.name.clone(),
            "--".into(),
            l.okei.clone(),
            l.unit_name.clone(),
            format_qty(l.qty).replace('.', ","),
            money(l.price_net, true),
            money(l.net, true),
            "без акциза".into(),
            r,
            vat,
            money(l.gross, true),
            "--".into(),
            "--".into(),
        ]));
    }
    let none = s.upd_status == 2 || s.lines.iter().all(|l| rate(s, &l.vat_rate) == "без НДС");
    rows.push(Row::bold(vec![
        String::new(),
        String::new(),
        "Всего к оплате (9)".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        money(s.net_total, true),
        "Х".into(),
        String::new(),
        if none { "без НДС".into() } else { money(s.vat_total, true) },
        money(s.total, true),
        String::new(),
        String::new(),
    ]));
    table::draw(doc, LEFT, &cols, &rows, 6.5);
}

/// A signature line with the signer's initials; a signature image sits over the line.
pub fn sign(doc: &mut Doc, x: f32, role: &str, name: &str, image: Option<&std::sync::Arc<crate::pdf::image::Raster>>) {
    let y = doc.y;
    let lines = doc.wrap(role, 150.0, 6.5, Weight::Regular);
    for (i, l) in lines.iter().enumerate() {
        doc.text(x, y - 8.0 * (lines.len() - 1 - i) as f32, 6.5, Weight::Regular, l);
    }
    doc.line(x + 155.0, y + 1.5, x + 225.0, y + 1.5, 0.4);
    if let Some(img) = image {
        let h = img.height_for(60.0).min(28.0);
        doc.image(img, x + 160.0, y - h + 4.0, h * img.width as f32 / img.height.max(1) as f32, h);
    }
    doc.text(x + 232.0, y, 7.5, Weight::Bold, &initials(name));
    doc.line(x + 230.0, y + 1.5, x + 330.0, y + 1.5, 0.4);
    doc.text(x + 170.0, y + 8.0, 5.0, Weight::Regular, "(подпись)");
    doc.text(x + 255.0, y + 8.0, 5.0, Weight::Regular, "(ф.и.о.)");
}

fn signatures(doc: &mut Doc, s: &Snapshot, img: &Images) {
    doc.room(40.0);
    doc.y += 24.0;
    let half = (doc.right() - LEFT) / 2.0;
    sign(
        doc,
        LEFT,
        "Руководитель организации или иное уполномоченное лицо",
        &s.director,
        img.director_signature.as_ref(),
    );
    sign(
        doc,
        LEFT + half,
        "Главный бухгалтер или иное уполномоченное лицо",
        &s.accountant,
        img.accountant_signature.as_ref(),
    );
    doc.y += 14.0;
}

fn transfer_part(doc: &mut Doc, s: &Snapshot, img: &Images) {
    doc.room(190.0);
    doc.line(LEFT, doc.y, doc.right(), doc.y, 1.2);
    let half = (doc.right() - LEFT) / 2.0;
    let w = doc.right() - LEFT;
    let basis = format!("Заказ № {} от {}", s.order_number, words::short_date(s.order_date, true));
    field(doc, LEFT, w, "Основание передачи (сдачи) / получения (приёмки)", &basis, "(8)");
    field(doc, LEFT, w, "Данные о транспортировке и грузе", "", "(9)");
    doc.y += 20.0;
    let top = doc.y;
    sign(
        doc,
        LEFT,
        "Товар (груз) передал / услуги, результаты работ, права сдал (10)",
        &s.director,
        img.director_signature.as_ref(),
    );
    sign(doc, LEFT + half, "Товар (груз) получил / услуги, результаты работ, права принял (15)", "", None);
    doc.y = top;
    let seller = format!("{}, ИНН/КПП {}/{}", s.seller.name, s.seller.inn, s.seller.kpp);
    let buyer = format!("{}, ИНН/КПП {}/{}", s.buyer.name, s.buyer.inn, s.buyer.kpp);
    let left = [
        ("Дата отгрузки, передачи (сдачи)", words::long_date(s.issued_on, true), "(11)"),
        ("Иные сведения об отгрузке, передаче", String::new(), "(12)"),
        ("Наименование экономического субъекта – составителя документа", seller, "(14)"),
    ];
    let right_side = [
        ("Дата получения (приёмки)", "«___» ____________ 20__ г.".to_owned(), "(16)"),
        ("Иные сведения о получении, приёмке", String::new(), "(17)"),
        ("Наименование экономического субъекта – составителя документа", buyer, "(19)"),
    ];
    doc.y = top + 12.0;
    let after_left = {
        for (l, v, c) in &left {
            field(doc, LEFT, half - 10.0, l, v, c);
        }
        doc.y
    };
    doc.y = top + 12.0;
    for (l, v, c) in &right_side {
        field(doc, LEFT + half, half, l, v, c);
    }
    doc.y = doc.y.max(after_left) + 16.0;
    doc.text(LEFT, doc.y, 7.5, Weight::Regular, "М.П.");
    doc.text(LEFT + half, doc.y, 7.5, Weight::Regular, "М.П.");
    if let Some(stamp) = &img.stamp {
        let size = 80.0;
        let h = stamp.height_for(size).min(size);
        doc.image(stamp, LEFT + 24.0, doc.y - h + 10.0, h * stamp.width as f32 / stamp.height.max(1) as f32, h);
    }
}
