//! The ТОРГ-12 (товарная накладная, ОКУД 0330212, landscape) and the act of services (акт
//! оказанных услуг, no statutory form: the layout accountants expect) as PDF.

use super::assets::Images;
use super::snapshot::Snapshot;
use super::upd_pdf::{field, sign};
use super::upd_xml::rate;
use crate::error::AppResult;
use crate::finance::invoice_pdf::money;
use crate::money::format_qty;
use crate::pdf::table::{self, Col, Row};
use crate::pdf::{words, Align, Doc, Fonts, Weight, LEFT, RIGHT};

fn party(name: &str, inn: &str, kpp: &str, address: &str) -> String {
    let mut parts = vec![name.to_owned()];
    if !inn.is_empty() {
        parts.push(format!("ИНН {inn}"));
    }
    if !kpp.is_empty() {
        parts.push(format!("КПП {kpp}"));
    }
    if !address.is_empty() {
        parts.push(address.to_owned());
    }
    parts.join(", ")
}

fn stamp(doc: &mut Doc, x: f32, img: &Images) {
    doc.text(x, doc.y, 7.5, Weight::Regular, "М.П.");
    if let Some(st) = &img.stamp {
        let h = st.height_for(80.0).min(80.0);
        doc.image(st, x + 20.0, doc.y - h + 10.0, h * st.width as f32 / st.height.max(1) as f32, h);
    }
}

/// The ТОРГ-12.
pub fn torg12(fonts: &Fonts, s: &Snapshot, img: &Images) -> AppResult<Vec<u8>> {
    let mut doc = Doc::landscape(fonts)?;
    let w = doc.right() - LEFT;
    doc.text_in(
        (LEFT, w),
        doc.y + 6.0,
        5.5,
        Weight::Regular,
        Align::Right,
        "Унифицированная форма № ТОРГ-12. Утверждена постановлением Госкомстата России от 25.12.98 № 132",
    );
    doc.y += 6.0;
    let seller = party(&s.seller.name, &s.seller.inn, &s.seller.kpp, &s.seller.address);
    let bank = if s.seller.account.is_empty() {
        String::new()
    } else {
        format!(", р/с {} в {}, БИК {}, к/с {}", s.seller.account, s.seller.bank, s.seller.bic, s.seller.correspondent)
    };
    let buyer = party(&s.buyer.name, &s.buyer.inn, &s.buyer.kpp, &s.buyer.address);
    field(&mut doc, LEFT, w, "Грузоотправитель", &format!("{seller}{bank}"), "");
    field(&mut doc, LEFT, w, "Грузополучатель", &buyer, "");
    field(&mut doc, LEFT, w, "Поставщик", &format!("{seller}{bank}"), "");
    field(&mut doc, LEFT, w, "Плательщик", &buyer, "");
    let basis = format!("Заказ № {} от {}", s.order_number, words::short_date(s.order_date, true));
    field(&mut doc, LEFT, w, "Основание", &basis, "");
    doc.y += 18.0;
    let title = format!("ТОВАРНАЯ НАКЛАДНАЯ № {} от {}", s.number, words::short_date(s.issued_on, true));
    doc.text_in((LEFT, w), doc.y, 11.0, Weight::Bold, Align::Center, &title);
    doc.y += 8.0;
    let c = |title: &'static str, width: f32, align: Align| Col { title, width, align };
    let cols = [
        c("Но- мер по по- рядку", 26.0, Align::Center),
        c("Товар: наименование, характеристика, сорт, артикул товара", 190.0, Align::Left),
        c("Товар: код", 60.0, Align::Left),
        c("Ед. изм.: наиме- нование", 40.0, Align::Center),
        c("код по ОКЕИ", 32.0, Align::Center),
        c("Вид упа- ковки", 34.0, Align::Center),
        c("Коли- чество в одном месте", 38.0, Align::Right),
        c("мест, штук", 34.0, Align::Right),
        c("Масса брутто", 38.0, Align::Right),
        c("Коли- чество (масса нетто)", 48.0, Align::Right),
        c("Цена, руб. коп.", 56.0, Align::Right),
        c("Сумма без учёта НДС, руб. коп.", 62.0, Align::Right),
        c("НДС: ставка, %", 36.0, Align::Center),
        c("НДС: сумма, руб. коп.", 56.0, Align::Right),
        c("Сумма с учётом НДС, руб. коп.", w - 730.0, Align::Right),
    ];
    let mut rows = vec![Row::bold((1..=15).map(|i| i.to_string()).collect())];
    for l in &s.lines {
        let r = rate(s, &l.vat_rate);
        rows.push(Row::plain(vec![
            l.no.to_string(),
            l.name.clone(),
            l.sku.clone(),
            l.unit_name.clone(),
            l.okei.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format_qty(l.qty).replace('.', ","),
            money(l.price_net, true),
            money(l.net, true),
            r.trim_end_matches('%').to_owned(),
            if r == "без НДС" { "без НДС".into() } else { money(l.vat, true) },
            money(l.gross, true),
        ]));
    }
    let qty: rust_decimal::Decimal = s.lines.iter().map(|l| l.qty).sum();
    let mut total = vec![String::new(); 15];
    total[8] = "Всего по накладной".into();
    total[9] = format_qty(qty).replace('.', ",");
    total[10] = "Х".into();
    total[11] = money(s.net_total, true);
    total[12] = "Х".into();
    total[13] = money(s.vat_total, true);
    total[14] = money(s.total, true);
    rows.push(Row::bold(total));
    table::draw(&mut doc, LEFT, &cols, &rows, 6.5);
    doc.y += 6.0;
    doc.paragraph(
        LEFT,
        w,
        7.5,
        Weight::Regular,
        &format!(
            "Товарная накладная имеет приложение на ___ листах и содержит {} порядковых номеров записей",
            s.lines.len()
        ),
    );
    doc.paragraph(
        LEFT,
        w,
        7.5,
        Weight::Bold,
        &format!("Всего отпущено на сумму: {}", words::russian(s.total, &s.currency)),
    );
    doc.room(120.0);
    doc.y += 24.0;
    let half = w / 2.0;
    let top = doc.y;
    sign(&mut doc, LEFT, "Отпуск груза разрешил: Руководитель", &s.director, img.director_signature.as_ref());
    doc.y += 24.0;
    sign(&mut doc, LEFT, "Главный (старший) бухгалтер", &s.accountant, img.accountant_signature.as_ref());
    doc.y += 24.0;
    sign(&mut doc, LEFT, "Отпуск груза произвёл", "", None);
    doc.y = top;
    sign(&mut doc, LEFT + half, "Груз принял", "", None);
    doc.y += 24.0;
    sign(&mut doc, LEFT + half, "Груз получил грузополучатель", "", None);
    doc.y = top + 72.0;
    stamp(&mut doc, LEFT, img);
    doc.text(LEFT + half, doc.y, 7.5, Weight::Regular, "М.П.      «___» ____________ 20__ г.");
    doc.finish(&format!("Товарная накладная № {}", s.number))
}

/// The act of services.
pub fn act(fonts: &Fonts, s: &Snapshot, img: &Images) -> AppResult<Vec<u8>> {
    let mut doc = Doc::new(fonts)?;
    let w = RIGHT - LEFT;
    if let Some(logo) = &img.logo {
        let h = logo.height_for(120.0).min(40.0);
        doc.image(logo, LEFT, doc.y, h * logo.width as f32 / logo.height.max(1) as f32, h);
        doc.y += h + 8.0;
    }
    let title = format!("Акт № {} от {}", s.number, words::long_date(s.issued_on, true));
    doc.paragraph(LEFT, w, 13.0, Weight::Bold, &title);
    doc.y += 3.0;
    doc.line(LEFT, doc.y, RIGHT, doc.y, 1.6);
    doc.y += 4.0;
    field(
        &mut doc,
        LEFT,
        w,
        "Исполнитель:",
        &party(&s.seller.name, &s.seller.inn, &s.seller.kpp, &s.seller.address),
        "",
    );
    field(&mut doc, LEFT, w, "Заказчик:", &party(&s.buyer.name, &s.buyer.inn, &s.buyer.kpp, &s.buyer.address), "");
    let basis = format!("Заказ № {} от {}", s.order_number, words::short_date(s.order_date, true));
    field(&mut doc, LEFT, w, "Основание:", &basis, "");
    doc.y += 10.0;
    let cols = [
        Col { title: "№", width: 24.0, align: Align::Center },
        Col { title: "Наименование работ, услуг", width: 238.0, align: Align::Left },
        Col { title: "Кол-во", width: 50.0, align: Align::Right },
        Col { title: "Ед.", width: 40.0, align: Align::Center },
        Col { title: "Цена", width: 73.0, align: Align::Right },
        Col { title: "Сумма", width: w - 425.0, align: Align::Right },
    ];
    let rows: Vec<Row> = s
        .lines
        .iter()
        .map(|l| {
            Row::plain(vec![
                l.no.to_string(),
                l.name.clone(),
                format_qty(l.qty).replace('.', ","),
                l.unit_name.clone(),
                money(l.gross / if l.qty.is_zero() { rust_decimal::Decimal::ONE } else { l.qty }, true),
                money(l.gross, true),
            ])
        })
        .collect();
    table::draw(&mut doc, LEFT, &cols, &rows, 8.0);
    let none = s.upd_status == 2 || s.lines.iter().all(|l| rate(s, &l.vat_rate) == "без НДС");
    let totals = [
        ("Итого:", money(s.total, true)),
        (
            if none { "Без налога (НДС)" } else { "В том числе НДС:" },
            if none { "—".into() } else { money(s.vat_total, true) },
        ),
    ];
    for (label, value) in totals {
        doc.y += 12.0;
        doc.text_in((LEFT, w - 95.0), doc.y, 9.0, Weight::Bold, Align::Right, label);
        doc.text_in((RIGHT - 90.0, 90.0), doc.y, 9.0, Weight::Bold, Align::Right, &value);
    }
    doc.y += 8.0;
    let count = format!("Всего оказано услуг {}, на сумму {} руб.", s.lines.len(), money(s.total, true));
    doc.paragraph(LEFT, w, 8.5, Weight::Regular, &count);
    doc.paragraph(LEFT, w, 9.0, Weight::Bold, &words::russian(s.total, &s.currency));
    doc.y += 6.0;
    doc.paragraph(LEFT, w, 8.0, Weight::Regular, "Вышеперечисленные услуги выполнены полностью и в срок. Заказчик претензий по объёму, качеству и срокам оказания услуг не имеет.");
    doc.room(110.0);
    doc.y += 14.0;
    doc.line(LEFT, doc.y, RIGHT, doc.y, 1.6);
    doc.y += 16.0;
    let half = w / 2.0;
    doc.text(LEFT, doc.y, 9.0, Weight::Bold, "ИСПОЛНИТЕЛЬ");
    doc.text(LEFT + half, doc.y, 9.0, Weight::Bold, "ЗАКАЗЧИК");
    doc.y += 10.0;
    doc.paragraph(LEFT, half - 10.0, 7.5, Weight::Regular, &s.seller.name);
    let y = doc.y;
    doc.y -= 9.75;
    doc.paragraph(LEFT + half, half - 10.0, 7.5, Weight::Regular, &s.buyer.name);
    doc.y = doc.y.max(y) + 24.0;
    let top = doc.y;
    sign_short(&mut doc, LEFT, &s.director, img.director_signature.as_ref());
    doc.y = top;
    sign_short(&mut doc, LEFT + half, "", None);
    doc.y += 30.0;
    stamp(&mut doc, LEFT, img);
    doc.text(LEFT + half, doc.y, 7.5, Weight::Regular, "М.П.");
    doc.finish(&format!("Акт № {}", s.number))
}

fn sign_short(doc: &mut Doc, x: f32, name: &str, image: Option<&std::sync::Arc<crate::pdf::image::Raster>>) {
    let y = doc.y;
    doc.line(x, y + 1.5, x + 90.0, y + 1.5, 0.4);
    if let Some(img) = image {
        let h = img.height_for(60.0).min(28.0);
        doc.image(img, x + 10.0, y - h + 4.0, h * img.width as f32 / img.height.max(1) as f32, h);
    }
    doc.text(x + 96.0, y, 8.0, Weight::Regular, &crate::finance::invoice_pdf::initials(name));
}
