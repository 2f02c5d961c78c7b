//! The УПД as XML in the FNS format 5.03 (`ON_NSCHFDOPPR`, КНД 1115131): the file name rule,
//! `Файл/Документ/СвСчФакт/ТаблСчФакт/СвПродПер/Подписант`, windows-1251 as its prolog says.
//! Written with quick-xml, which escapes every attribute value, then encoded (a character
//! windows-1251 lacks becomes a numeric character reference, which XML reads back as itself).

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use rust_decimal::Decimal;

use super::snapshot::{PartyData, Snapshot};
use crate::error::{AppError, AppResult};
use crate::money::{format, format_qty};

pub const KND: &str = "1115131";
const TRANSFER: &str =
    "Документ об отгрузке товаров (выполнении работ), передаче имущественных прав (документ об оказании услуг)";
const INVOICE_AND_TRANSFER: &str = "Счет-фактура и документ об отгрузке товаров (выполнении работ), передаче имущественных прав (документ об оказании услуг)";

/// The file's identifier (its name without `.xml`).
pub fn file_id(s: &Snapshot, guid: uuid::Uuid) -> String {
    let id = |p: &PartyData| {
        if p.edo_id.is_empty() {
            format!("{}{}", p.inn, p.kpp)
        } else {
            p.edo_id.clone()
        }
    };
    format!(
        "ON_NSCHFDOPPR_{}_{}_{}_{}_0_0_0_0_0_00",
        id(&s.buyer),
        id(&s.seller),
        s.issued_on.format("%Y%m%d"),
        guid.hyphenated()
    )
}

type W = Writer<Vec<u8>>;

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing XML: {e}"))
}

fn open(w: &mut W, name: &str, attrs: &[(&str, &str)]) -> AppResult<()> {
    let el = BytesStart::new(name).with_attributes(attrs.iter().filter(|(_, v)| !v.is_empty()).copied());
    w.write_event(Event::Start(el)).map_err(io)
}

fn empty(w: &mut W, name: &str, attrs: &[(&str, &str)]) -> AppResult<()> {
    let el = BytesStart::new(name).with_attributes(attrs.iter().filter(|(_, v)| !v.is_empty()).copied());
    w.write_event(Event::Empty(el)).map_err(io)
}

fn close(w: &mut W, name: &str) -> AppResult<()> {
    w.write_event(Event::End(BytesEnd::new(name))).map_err(io)
}

fn text_el(w: &mut W, name: &str, text: &str) -> AppResult<()> {
    open(w, name, &[])?;
    w.write_event(Event::Text(BytesText::new(text))).map_err(io)?;
    close(w, name)
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// Surname, name and patronymic from «Иванов Иван Иванович» (or the store's name when unset).
fn fio(full: &str) -> (String, String, String) {
    let mut parts = full.split_whitespace().map(str::to_owned);
    let surname = parts.next().unwrap_or_else(|| "Не указан".into());
    let name = parts.next().unwrap_or_else(|| "-".into());
    (surname, name, parts.collect::<Vec<_>>().join(" "))
}

fn write_fio(w: &mut W, full: &str) -> AppResult<()> {
    let (f, i, o) = fio(full);
    empty(w, "ФИО", &[("Фамилия", &f), ("Имя", &i), ("Отчество", &o)])
}

/// `ИдСв` and `Адрес` of a party: an organisation (10-digit INN) or a sole trader (12).
fn party(w: &mut W, p: &PartyData, bank: bool) -> AppResult<()> {
    open(w, "ИдСв", &[])?;
    if p.inn.len() == 12 {
        let person = p.name.trim_start_matches("ИП").trim();
        open(w, "СвИП", &[("ИННФЛ", &p.inn)])?;
        write_fio(w, person)?;
        close(w, "СвИП")?;
    } else {
        empty(w, "СвЮЛУч", &[("НаимОрг", &p.name), ("ИННЮЛ", &p.inn), ("КПП", &p.kpp)])?;
    }
    close(w, "ИдСв")?;
    open(w, "Адрес", &[])?;
    let address = if p.address.is_empty() { "-" } else { p.address.as_str() };
    empty(w, "АдрИнф", &[("КодСтр", "643"), ("НаимСтран", "Россия"), ("АдрТекст", address)])?;
    close(w, "Адрес")?;
    if !p.phone.is_empty() {
        open(w, "Контакт", &[])?;
        text_el(w, "Тлф", &p.phone)?;
        close(w, "Контакт")?;
    }
    if bank && !p.account.is_empty() {
        open(w, "БанкРекв", &[("НомерСчета", &p.account)])?;
        empty(w, "СвБанк", &[("НаимБанк", &p.bank), ("БИК", &p.bic), ("КорСчет", &p.correspondent)])?;
        close(w, "БанкРекв")?;
    }
    Ok(())
}

/// НалСт of a line: `20%`, `10%`, `0%` or `без НДС`.
pub fn rate(s: &Snapshot, vat_rate: &str) -> String {
    match vat_rate {
        _ if s.upd_status == 2 => "без НДС".into(),
        "none" | "" => "без НДС".into(),
        r => format!("{r}%"),
    }
}

fn tax(w: &mut W, outer: &str, without: bool, amount: Decimal) -> AppResult<()> {
    open(w, outer, &[])?;
    if without {
        text_el(w, "БезНДС", "без НДС")?;
    } else {
        text_el(w, "СумНал", &format(amount))?;
    }
    close(w, outer)
}

/// The XML file: (file name with `.xml`, windows-1251 bytes).
pub fn write(s: &Snapshot, guid: uuid::Uuid, at: DateTime<Utc>) -> AppResult<(String, Vec<u8>)> {
    let id = file_id(s, guid);
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("windows-1251"), None))).map_err(io)?;
    open(&mut w, "Файл", &[("ИдФайл", &id), ("ВерсФорм", "5.03"), ("ВерсПрог", "Tradeport 0.1")])?;
    let status1 = s.upd_status != 2;
    // The time of the file as Moscow reads it.
    let local =
        chrono::FixedOffset::east_opt(3 * 3600).map_or(at.naive_utc(), |tz| at.with_timezone(&tz).naive_local());
    let econ = format!("{}, ИНН/КПП {}/{}", s.seller.name, s.seller.inn, s.seller.kpp);
    open(
        &mut w,
        "Документ",
        &[
            ("КНД", KND),
            ("Функция", if status1 { "СЧФДОП" } else { "ДОП" }),
            ("ПоФактХЖ", TRANSFER),
            ("НаимДокОпр", if status1 { INVOICE_AND_TRANSFER } else { TRANSFER }),
            ("ДатаИнфПр", &local.format("%d.%m.%Y").to_string()),
            ("ВремИнфПр", &local.format("%H.%M.%S").to_string()),
            ("НаимЭконСубСост", &econ),
        ],
    )?;
    header(&mut w, s)?;
    table(&mut w, s)?;
    open(&mut w, "СвПродПер", &[])?;
    open(&mut w, "СвПер", &[("СодОпер", "Товары переданы, услуги оказаны"), ("ДатаПер", &date(s.issued_on))])?;
    empty(
        &mut w,
        "ОснПер",
        &[("РеквНаимДок", "Заказ"), ("РеквНомерДок", &s.order_number), ("РеквДатаДок", &date(s.order_date))],
    )?;
    close(&mut w, "СвПер")?;
    close(&mut w, "СвПродПер")?;
    open(&mut w, "Подписант", &[("Должн", "Руководитель"), ("СпосПодтПолном", "1")])?;
    write_fio(&mut w, &s.director)?;
    close(&mut w, "Подписант")?;
    close(&mut w, "Документ")?;
    close(&mut w, "Файл")?;
    let utf8 = String::from_utf8(w.into_inner()).map_err(io)?;
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&utf8);
    Ok((format!("{id}.xml"), bytes.into_owned()))
}

fn header(w: &mut W, s: &Snapshot) -> AppResult<()> {
    open(w, "СвСчФакт", &[("НомерДок", &s.number), ("ДатаДок", &date(s.issued_on))])?;
    open(w, "СвПрод", &[])?;
    party(w, &s.seller, true)?;
    close(w, "СвПрод")?;
    open(w, "ГрузОт", &[])?;
    text_el(w, "ОнЖе", "он же")?;
    close(w, "ГрузОт")?;
    open(w, "ГрузПолуч", &[])?;
    party(w, &s.buyer, false)?;
    close(w, "ГрузПолуч")?;
    empty(
        w,
        "ДокПодтвОтгрНом",
        &[
            ("РеквНаимДок", "Универсальный передаточный документ"),
            ("РеквНомерДок", &s.number),
            ("РеквДатаДок", &date(s.issued_on)),
        ],
    )?;
    open(w, "СвПокуп", &[])?;
    party(w, &s.buyer, false)?;
    close(w, "СвПокуп")?;
    let (code, name) =
        if s.currency == "RUB" { ("643", "Российский рубль") } else { ("000", s.currency.as_str()) };
    empty(w, "ДенИзм", &[("КодОКВ", code), ("НаимОКВ", name)])?;
    open(w, "ИнфПолФХЖ1", &[])?;
    empty(w, "ТекстИнф", &[("Идентиф", "НомерЗаказа"), ("Значен", &s.order_number)])?;
    close(w, "ИнфПолФХЖ1")?;
    close(w, "СвСчФакт")
}

fn table(w: &mut W, s: &Snapshot) -> AppResult<()> {
    open(w, "ТаблСчФакт", &[])?;
    for l in &s.lines {
        let nal = rate(s, &l.vat_rate);
        let without = nal == "без НДС";
        open(
            w,
            "СведТов",
            &[
                ("НомСтр", &l.no.to_string()),
                ("НаимТов", &l.name),
                ("ОКЕИ_Тов", &l.okei),
                ("НаимЕдИзм", &l.unit_name),
                ("КолТов", &format_qty(l.qty)),
                ("ЦенаТов", &format(l.price_net)),
                ("СтТовБезНДС", &format(l.net)),
                ("НалСт", &nal),
                ("СтТовУчНал", &format(l.gross)),
            ],
        )?;
        open(w, "Акциз", &[])?;
        text_el(w, "БезАкциз", "без акциза")?;
        close(w, "Акциз")?;
        tax(w, "СумНал", without, l.vat)?;
        empty(w, "ДопСведТов", &[("ПрТовРаб", if l.service { "3" } else { "1" }), ("КодТов", &l.sku)])?;
        close(w, "СведТов")?;
    }
    open(w, "ВсегоОпл", &[("СтТовБезНДСВсего", &format(s.net_total)), ("СтТовУчНалВсего", &format(s.total))])?;
    let none = s.upd_status == 2 || s.lines.iter().all(|l| rate(s, &l.vat_rate) == "без НДС");
    tax(w, "СумНалВсего", none, s.vat_total)?;
    close(w, "ВсегоОпл")?;
    close(w, "ТаблСчФакт")
}
