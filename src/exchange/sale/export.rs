//! The `mode=query` answer: CommerceML 2.05 `Документ`s as 1C-Bitrix writes them (header,
//! the buyer company with INN/KPP so 1C finds it by INN, lines with units and VAT, delivery as
//! the `ORDER_DELIVERY` pseudo line, the status requisites), written with quick-xml.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::load::{ExportLine, ExportOrder};
use crate::documents::snapshot::okei;
use crate::error::{AppError, AppResult};
use crate::money::{format, format_qty};
use crate::ordering::lifecycle::status_ru;

struct W(Writer<Vec<u8>>);

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing the orders XML: {e}"))
}

impl W {
    fn open(&mut self, name: &str) -> AppResult<()> {
        self.0.write_event(Event::Start(BytesStart::new(name))).map_err(io)
    }

    fn close(&mut self, name: &str) -> AppResult<()> {
        self.0.write_event(Event::End(BytesEnd::new(name))).map_err(io)
    }

    fn el(&mut self, name: &str, text: &str) -> AppResult<()> {
        self.open(name)?;
        self.0.write_event(Event::Text(BytesText::new(text))).map_err(io)?;
        self.close(name)
    }

    fn requisites(&mut self, pairs: &[(&str, String)]) -> AppResult<()> {
        self.open("ЗначенияРеквизитов")?;
        for (name, value) in pairs {
            self.open("ЗначениеРеквизита")?;
            self.el("Наименование", name)?;
            self.el("Значение", value)?;
            self.close("ЗначениеРеквизита")?;
        }
        self.close("ЗначенияРеквизитов")
    }
}

/// Moscow time, as 1C and the documents show it.
fn local(at: DateTime<Utc>) -> NaiveDateTime {
    FixedOffset::east_opt(3 * 3600).map_or(at.naive_utc(), |tz| at.with_timezone(&tz).naive_local())
}

/// The whole document (text; the caller encodes it as `charset` says).
pub fn document(orders: &[ExportOrder], charset: &str, site: &str) -> AppResult<String> {
    let mut w = W(Writer::new_with_indent(Vec::new(), b' ', 1));
    w.0.write_event(Event::Decl(BytesDecl::new("1.0", Some(charset), None))).map_err(io)?;
    let now = local(Utc::now()).format("%Y-%m-%dT%H:%M:%S").to_string();
    let root = BytesStart::new("КоммерческаяИнформация").with_attributes([
        ("ВерсияСхемы", "2.05"),
        ("ДатаФормирования", now.as_str()),
        ("ФорматДаты", "ДФ=yyyy-MM-dd; ДЛФ=DT"),
        ("ФорматВремени", "ДФ=ЧЧ:мм:сс; ДЛФ=T"),
        ("РазделительДатаВремя", "T"),
        ("ФорматСуммы", "ЧЦ=18; ЧДЦ=2; ЧРД=."),
        ("ФорматКоличества", "ЧЦ=18; ЧДЦ=2; ЧРД=."),
    ]);
    w.0.write_event(Event::Start(root)).map_err(io)?;
    for o in orders {
        order(&mut w, o, site)?;
    }
    w.close("КоммерческаяИнформация")?;
    String::from_utf8(w.0.into_inner()).map_err(io)
}

fn order(w: &mut W, e: &ExportOrder, site: &str) -> AppResult<()> {
    let o = &e.order;
    let created = local(o.created_at);
    w.open("Документ")?;
    w.el("Ид", &o.number)?;
    w.el("Номер", &o.number)?;
    w.el("Дата", &created.format("%Y-%m-%d").to_string())?;
    w.el("Время", &created.format("%H:%M:%S").to_string())?;
    w.el("ХозОперация", "Заказ товара")?;
    w.el("Роль", "Продавец")?;
    w.el("Валюта", &o.currency)?;
    w.el("Курс", "1")?;
    w.el("Сумма", &format(o.total))?;
    let mut comment = String::new();
    if !o.po_number.is_empty() {
        comment.push_str(&format!("Заказ покупателя № {}. ", o.po_number));
    }
    comment.push_str(&o.comment);
    w.el("Комментарий", comment.trim())?;
    buyer(w, e)?;
    w.open("Товары")?;
    for l in &e.lines {
        line(w, l, o.vat_mode == "included")?;
    }
    if o.delivery_method == "delivery" {
        delivery(w)?;
    }
    w.close("Товары")?;
    w.open("Налоги")?;
    w.open("Налог")?;
    w.el("Наименование", "НДС")?;
    w.el("УчтеноВСумме", if o.vat_mode == "included" { "true" } else { "false" })?;
    w.el("Сумма", &format(o.vat_total))?;
    w.close("Налог")?;
    w.close("Налоги")?;
    w.requisites(&requisites(e, site))?;
    w.close("Документ")
}

fn buyer(w: &mut W, e: &ExportOrder) -> AppResult<()> {
    let c = &e.company;
    w.open("Контрагенты")?;
    w.open("Контрагент")?;
    w.el("Ид", &e.company_ext_id.clone().unwrap_or_else(|| format!("tradeport-company-{}", c.id)))?;
    w.el("Наименование", &c.name)?;
    w.el("ПолноеНаименование", &c.name)?;
    w.el("ОфициальноеНаименование", &c.name)?;
    w.el("ИНН", &c.inn)?;
    if let Some(kpp) = &c.kpp {
        w.el("КПП", kpp)?;
    }
    for tag in ["АдресРегистрации", "ЮридическийАдрес"] {
        w.open(tag)?;
        w.el("Представление", &c.legal_address)?;
        w.close(tag)?;
    }
    if !c.phone.is_empty() {
        w.open("Контакты")?;
        w.open("Контакт")?;
        w.el("Тип", "Телефон рабочий")?;
        w.el("Значение", &c.phone)?;
        w.close("Контакт")?;
        w.close("Контакты")?;
    }
    if !c.contact_person.is_empty() {
        w.open("Представители")?;
        w.open("Представитель")?;
        w.open("Контрагент")?;
        w.el("Отношение", "Контактное лицо")?;
        w.el("Наименование", &c.contact_person)?;
        w.close("Контрагент")?;
        w.close("Представитель")?;
        w.close("Представители")?;
    }
    w.el("Роль", "Покупатель")?;
    w.close("Контрагент")?;
    w.close("Контрагенты")
}

fn unit(w: &mut W, our: &str) -> AppResult<()> {
    let (code, short) = okei(our);
    let el = BytesStart::new("БазоваяЕдиница").with_attributes([("Код", code), ("НаименованиеПолное", short)]);
    w.0.write_event(Event::Start(el)).map_err(io)?;
    w.0.write_event(Event::Text(BytesText::new(short))).map_err(io)?;
    w.close("БазоваяЕдиница")
}

fn line(w: &mut W, l: &ExportLine, vat_included: bool) -> AppResult<()> {
    let (_, sku, name, unit_code, qty, price, vat_rate, amount, vat_amount) = &l.row;
    w.open("Товар")?;
    w.el("Ид", &l.ext_id)?;
    w.el("Артикул", sku)?;
    w.el("Наименование", name)?;
    unit(w, unit_code)?;
    w.el("ЦенаЗаЕдиницу", &format(*price))?;
    w.el("Количество", &format_qty(*qty))?;
    w.el("Сумма", &format(*amount))?;
    let rate = if vat_rate == "none" { "Без налога".to_owned() } else { vat_rate.clone() };
    w.open("СтавкиНалогов")?;
    w.open("СтавкаНалога")?;
    w.el("Наименование", "НДС")?;
    w.el("Ставка", &rate)?;
    w.close("СтавкаНалога")?;
    w.close("СтавкиНалогов")?;
    w.open("Налоги")?;
    w.open("Налог")?;
    w.el("Наименование", "НДС")?;
    w.el("УчтеноВСумме", if vat_included { "true" } else { "false" })?;
    w.el("Сумма", &format(*vat_amount))?;
    w.el("Ставка", &rate)?;
    w.close("Налог")?;
    w.close("Налоги")?;
    w.requisites(&[("ВидНоменклатуры", "Товар".into()), ("ТипНоменклатуры", "Товар".into())])?;
    w.close("Товар")
}

/// Delivery: 1C's pseudo line (our orders carry no delivery charge, so its sum is zero).
fn delivery(w: &mut W) -> AppResult<()> {
    w.open("Товар")?;
    w.el("Ид", "ORDER_DELIVERY")?;
    w.el("Наименование", "Доставка заказа")?;
    unit(w, "service")?;
    for (tag, value) in [("ЦенаЗаЕдиницу", "0.00"), ("Количество", "1"), ("Сумма", "0.00")]
    {
        w.el(tag, value)?;
    }
    w.requisites(&[("ВидНоменклатуры", "Услуга".into()), ("ТипНоменклатуры", "Услуга".into())])?;
    w.close("Товар")
}

fn payment_method(m: &str) -> &'static str {
    match m {
        "card" => "Банковская карта",
        "on_account" => "Отсрочка платежа",
        _ => "Оплата по счёту",
    }
}

fn requisites(e: &ExportOrder, site: &str) -> Vec<(&'static str, String)> {
    let o = &e.order;
    let yes = |b: bool| if b { "true" } else { "false" }.to_owned();
    let cancelled = o.status == "cancelled";
    let moving = matches!(
        o.status.as_str(),
        "confirmed" | "in_production" | "assembled" | "shipped" | "delivered" | "completed"
    );
    let mut r = vec![
        ("Метод оплаты", payment_method(&o.payment_method).to_owned()),
        ("Метод оплаты ИД", o.payment_method.clone()),
        ("Способ доставки", if o.delivery_method == "delivery" { "Доставка" } else { "Самовывоз" }.to_owned()),
        ("Заказ оплачен", yes(e.paid)),
        ("Доставка разрешена", yes(moving)),
        ("Отменен", yes(cancelled)),
        ("Финальный статус", yes(cancelled || o.status == "completed")),
        ("Статус заказа", format!("[{}] {}", o.status, status_ru(&o.status))),
        ("Статуса заказа ИД", o.status.clone()),
        ("Дата изменения статуса", local(e.status_at).format("%Y-%m-%d %H:%M:%S").to_string()),
        ("Сайт", site.to_owned()),
    ];
    if !o.delivery_address.is_empty() {
        r.push(("Адрес доставки", o.delivery_address.clone()));
    }
    if !o.po_number.is_empty() {
        r.push(("Номер заказа покупателя", o.po_number.clone()));
    }
    if let Some(d) = o.desired_date {
        r.push(("Желаемая дата", d.format("%Y-%m-%d").to_string()));
    }
    r
}
