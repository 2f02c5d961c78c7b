//! `Документ` (orders, payments, opening balances) and `Контрагент` (counterparties) of the
//! sale exchange, from the element tree into plain structs. Each `Документ` is taken out of
//! the tree when it closes, so memory stays bounded by one document.

use rust_decimal::Decimal;

use super::extract::{decimal, is_true, unit};
use super::model::{ExtId, Requisite, Unit};
use super::xml::Node;

/// One `Документ`: an order (`ХозОперация` «Заказ товара»), a payment, an opening balance…
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub id: String,
    pub number: String,
    /// `Дата` as written (`YYYY-MM-DD`).
    pub date: Option<String>,
    pub time: Option<String>,
    /// `ХозОперация`.
    pub operation: String,
    /// `Роль` (`Продавец`).
    pub role: String,
    pub currency: Option<String>,
    pub rate: Option<Decimal>,
    pub sum: Option<Decimal>,
    pub comment: Option<String>,
    pub counterparties: Vec<Counterparty>,
    pub lines: Vec<DocumentLine>,
    pub requisites: Vec<Requisite>,
    /// `Номер1С`/`Дата1С` (2.09+); older files send them as requisites `Номер по 1С`/`Дата по 1С`.
    pub number_1c: Option<String>,
    pub date_1c: Option<String>,
    /// `ПометкаУдаления` as element or requisite.
    pub deleted: bool,
    /// Line of the `<Документ>` in the file, for messages.
    pub line: usize,
}

impl Document {
    /// The value of requisite `name` (case-insensitive), trimmed; `T` (1C's "empty") is none.
    pub fn requisite(&self, name: &str) -> Option<&str> {
        self.requisites
            .iter()
            .find(|r| r.name.trim().to_lowercase() == name.to_lowercase())
            .map(|r| r.value.trim())
            .filter(|v| !v.is_empty() && *v != "T")
    }

    /// Whether requisite `name` says `true`.
    pub fn flag(&self, name: &str) -> bool {
        is_true(self.requisite(name))
    }

    /// The 1C number: `Номер1С` or the requisite `Номер по 1С`.
    pub fn number_in_1c(&self) -> Option<&str> {
        self.number_1c.as_deref().or_else(|| self.requisite("Номер по 1С"))
    }

    pub fn date_in_1c(&self) -> Option<&str> {
        self.date_1c.as_deref().or_else(|| self.requisite("Дата по 1С"))
    }

    /// The buyer among the counterparties (role `Покупатель`, else the first one).
    pub fn buyer(&self) -> Option<&Counterparty> {
        self.counterparties
            .iter()
            .find(|c| c.role.as_deref() == Some("Покупатель"))
            .or_else(|| self.counterparties.first())
    }
}

/// One `Товар` line of a document; `ORDER_DELIVERY` is the delivery pseudo line.
#[derive(Debug, Clone)]
pub struct DocumentLine {
    pub id: ExtId,
    pub catalog_id: Option<String>,
    pub article: Option<String>,
    pub name: String,
    pub unit: Option<Unit>,
    pub price: Option<Decimal>,
    pub quantity: Option<Decimal>,
    pub sum: Option<Decimal>,
    /// `СтавкиНалогов/СтавкаНалога/Ставка` of VAT, as written (`20`, `Без налога`).
    pub vat_rate: Option<String>,
    /// `Налоги/Налог/Сумма` of VAT.
    pub vat_sum: Option<Decimal>,
    pub requisites: Vec<Requisite>,
}

/// A `Контрагент` of a document or of a contragents file.
#[derive(Debug, Clone, Default)]
pub struct Counterparty {
    pub id: String,
    pub name: String,
    pub official_name: Option<String>,
    pub full_name: Option<String>,
    pub inn: Option<String>,
    pub kpp: Option<String>,
    /// The registration (legal) address as one line: `Представление`, else its fields joined.
    pub address: Option<String>,
    /// `Контакты/Контакт` as (type, value): `Почта`, `Телефон рабочий`, …
    pub contacts: Vec<(String, String)>,
    /// `Представители/Представитель` named as contact persons.
    pub representatives: Vec<String>,
    pub role: Option<String>,
    pub deleted: bool,
    pub line: usize,
}

impl Counterparty {
    /// The legal name to store: `ОфициальноеНаименование`, `ПолноеНаименование`, `Наименование`.
    pub fn legal_name(&self) -> &str {
        self.official_name.as_deref().or(self.full_name.as_deref()).unwrap_or(&self.name)
    }

    /// The first contact whose type mentions `kind` (`телефон`, `почта`).
    pub fn contact(&self, kind: &str) -> Option<&str> {
        self.contacts.iter().find(|(t, _)| t.to_lowercase().contains(kind)).map(|(_, v)| v.as_str())
    }
}

fn text(n: &Node, name: &str) -> String {
    n.child_text(name).unwrap_or_default().to_owned()
}

fn opt(n: &Node, name: &str) -> Option<String> {
    n.child_text(name).map(str::to_owned)
}

fn requisites(n: &Node) -> Vec<Requisite> {
    n.child("ЗначенияРеквизитов")
        .map(|l| {
            l.children_named("ЗначениеРеквизита")
                .map(|r| Requisite { name: text(r, "Наименование"), value: text(r, "Значение") })
                .collect()
        })
        .unwrap_or_default()
}

pub fn document(n: &Node) -> Document {
    let requisites = requisites(n);
    let deleted = is_true(n.child_text("ПометкаУдаления"))
        || requisites.iter().any(|r| r.name.trim() == "ПометкаУдаления" && is_true(Some(r.value.trim())));
    Document {
        id: text(n, "Ид"),
        number: text(n, "Номер"),
        date: opt(n, "Дата"),
        time: opt(n, "Время"),
        operation: text(n, "ХозОперация"),
        role: text(n, "Роль"),
        currency: opt(n, "Валюта"),
        rate: n.child_text("Курс").and_then(decimal),
        sum: n.child_text("Сумма").and_then(decimal),
        comment: opt(n, "Комментарий"),
        counterparties: n
            .child("Контрагенты")
            .map(|l| l.children_named("Контрагент").map(counterparty).collect())
            .unwrap_or_default(),
        lines: n.child("Товары").map(|l| l.children_named("Товар").filter_map(line).collect()).unwrap_or_default(),
        number_1c: opt(n, "Номер1С"),
        date_1c: opt(n, "Дата1С"),
        deleted,
        requisites,
        line: n.line,
    }
}

fn line(n: &Node) -> Option<DocumentLine> {
    let id = ExtId::parse(n.child_text("Ид")?);
    let vat = |list: &str, item: &str, value: &str| {
        n.child(list).and_then(|l| {
            l.children_named(item)
                .find(|t| t.child_text("Наименование").is_some_and(|s| s.eq_ignore_ascii_case("НДС") || s == "НДС"))
                .and_then(|t| t.child_text(value))
                .map(str::to_owned)
        })
    };
    Some(DocumentLine {
        catalog_id: opt(n, "ИдКаталога"),
        article: opt(n, "Артикул"),
        name: text(n, "Наименование"),
        unit: n.child("БазоваяЕдиница").map(unit),
        price: n.child_text("ЦенаЗаЕдиницу").and_then(decimal),
        quantity: n.child_text("Количество").and_then(decimal),
        sum: n.child_text("Сумма").and_then(decimal),
        vat_rate: vat("СтавкиНалогов", "СтавкаНалога", "Ставка"),
        vat_sum: vat("Налоги", "Налог", "Сумма").as_deref().and_then(decimal),
        requisites: requisites(n),
        id,
    })
}

fn address(n: &Node) -> Option<String> {
    ["АдресРегистрации", "ЮридическийАдрес", "Адрес"].iter().filter_map(|name| n.child(name)).find_map(|a| {
        a.child_text("Представление").map(str::to_owned).or_else(|| {
            let parts: Vec<&str> = a.children_named("АдресноеПоле").filter_map(|f| f.child_text("Значение")).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        })
    })
}

pub fn counterparty(n: &Node) -> Counterparty {
    // A legal entity's details may sit in `ЮридическоеЛицо`/`ФизическоеЛицо` (2.09+).
    let legal = n.child("ЮридическоеЛицо").or_else(|| n.child("ФизическоеЛицо"));
    let pick = |name: &str| opt(n, name).or_else(|| legal.and_then(|l| opt(l, name)));
    let contacts = n
        .child("Контакты")
        .map(|l| {
            l.children_named("Контакт")
                .filter_map(|c| Some((text(c, "Тип"), c.child_text("Значение")?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let representatives = n
        .child("Представители")
        .map(|l| {
            l.children_named("Представитель")
                .filter_map(|p| {
                    let inner = p.child("Контрагент").unwrap_or(p);
                    let relation = inner.child_text("Отношение").unwrap_or("Контактное лицо");
                    (relation == "Контактное лицо").then(|| inner.child_text("Наименование").map(str::to_owned))?
                })
                .collect()
        })
        .unwrap_or_default();
    Counterparty {
        id: text(n, "Ид"),
        name: text(n, "Наименование"),
        official_name: pick("ОфициальноеНаименование"),
        full_name: pick("ПолноеНаименование"),
        inn: pick("ИНН"),
        kpp: pick("КПП"),
        address: address(n).or_else(|| legal.and_then(address)),
        contacts,
        representatives,
        role: opt(n, "Роль"),
        deleted: is_true(n.child_text("ПометкаУдаления")),
        line: n.line,
    }
}
