//! From the element tree to the structs of `model.rs`. Every element is optional;
//! problems with one element become warnings.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::documents::{counterparty, document as sale_document, Counterparty, Document};
use super::model::*;
use super::xml::Node;

/// Items taken out of the tree while reading, so that memory stays bounded by one item.
#[derive(Default)]
pub struct Items {
    products: Vec<Product>,
    offers: Vec<Offer>,
    documents: Vec<Document>,
    counterparties: Vec<Counterparty>,
    warnings: Vec<Warning>,
    /// One shared copy of each id and name that offers repeat (see [`Price`]).
    names: HashSet<Arc<str>>,
}

fn intern(names: &mut HashSet<Arc<str>>, s: &str) -> Arc<str> {
    if let Some(known) = names.get(s) {
        return known.clone();
    }
    let new: Arc<str> = Arc::from(s);
    names.insert(new.clone());
    new
}

impl Items {
    /// `ancestors`: the open elements above `node`, the root first.
    pub fn take(&mut self, ancestors: &[Node], node: Node) -> Option<Node> {
        let parent = ancestors.last().map_or("", |p| p.name.as_str());
        // A document's lines and counterparties stay in the document until it closes.
        if ancestors.iter().any(|a| a.name == "Документ") {
            return Some(node);
        }
        match (parent, node.name.as_str()) {
            ("Товары", "Товар") => {
                match product(&node) {
                    Some(p) => self.products.push(p),
                    None => self.warn(node.line, "<Товар> without <Ид> skipped"),
                }
                None
            }
            ("Предложения", "Предложение") => {
                match offer(&node, &mut self.warnings, &mut self.names) {
                    Some(o) => self.offers.push(o),
                    None => self.warn(node.line, "<Предложение> without <Ид> skipped"),
                }
                None
            }
            ("КоммерческаяИнформация" | "Контейнер", "Документ") => {
                self.documents.push(sale_document(&node));
                None
            }
            // A contragents file: `КоммерческаяИнформация/Контрагенты/Контрагент`.
            ("Контрагенты", "Контрагент") if ancestors.len() == 2 => {
                self.counterparties.push(counterparty(&node));
                None
            }
            _ => Some(node),
        }
    }

    fn warn(&mut self, line: usize, message: impl Into<String>) {
        self.warnings.push(Warning { line, message: message.into() });
    }
}

pub fn document(root: &Node, mut items: Items) -> CmlDocument {
    let header = PackageHeader {
        schema_version: root.attr("ВерсияСхемы").unwrap_or_default().to_owned(),
        generated_at: root.attr("ДатаФормирования").map(str::to_owned),
    };
    let classifier = root.child("Классификатор").map(classifier);
    let catalog = root.child("Каталог").map(|n| Catalog {
        id: text(n, "Ид"),
        classifier_id: opt(n, "ИдКлассификатора"),
        name: text(n, "Наименование"),
        only_changes: only_changes(n),
        products: std::mem::take(&mut items.products),
    });
    let offers =
        root.child("ПакетПредложений").or_else(|| root.child("ИзмененияПакетаПредложений")).map(|n| OfferPackage {
            id: text(n, "Ид"),
            name: text(n, "Наименование"),
            catalog_id: opt(n, "ИдКаталога"),
            classifier_id: opt(n, "ИдКлассификатора"),
            only_changes: only_changes(n),
            price_types: price_types(n),
            warehouses: warehouses(n),
            offers: std::mem::take(&mut items.offers),
        });
    if let Some(pkg) = &offers {
        if !pkg.price_types.is_empty() {
            for o in pkg.offers.iter().filter(|o| o.prices.is_empty()) {
                items.warn(o.line, format!("offer {} has no price", o.id.full));
            }
        }
    }
    CmlDocument {
        header,
        classifier,
        catalog,
        offers,
        documents: items.documents,
        counterparties: items.counterparties,
        warnings: items.warnings,
    }
}

fn text(n: &Node, name: &str) -> String {
    n.child_text(name).unwrap_or_default().to_owned()
}

fn opt(n: &Node, name: &str) -> Option<String> {
    n.child_text(name).map(str::to_owned)
}

pub(super) fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `СодержитТолькоИзменения` as attribute (2.05+) or child element (older files).
fn only_changes(n: &Node) -> bool {
    is_true(n.attr("СодержитТолькоИзменения").or_else(|| n.child_text("СодержитТолькоИзменения")))
}

fn deleted(n: &Node) -> bool {
    let status = n.attr("Статус").or_else(|| n.child_text("Статус"));
    status.is_some_and(|s| s.to_lowercase() == "удален") || is_true(n.child_text("ПометкаУдаления"))
}

/// A decimal from 1C text: `1 719,50`, `1719.5`, `20`; never through f64.
pub fn decimal(raw: &str) -> Option<Decimal> {
    let cleaned: String = raw.chars().filter(|c| !c.is_whitespace()).map(|c| if c == ',' { '.' } else { c }).collect();
    if cleaned.is_empty() {
        return None;
    }
    Decimal::from_str(&cleaned).ok()
}

fn classifier(n: &Node) -> Classifier {
    Classifier {
        id: text(n, "Ид"),
        name: text(n, "Наименование"),
        groups: n.child("Группы").map(|g| groups(g, None)).unwrap_or_default(),
        properties: properties(n),
        price_types: price_types(n),
        warehouses: warehouses(n),
    }
}

fn groups(list: &Node, parent: Option<&str>) -> Vec<Group> {
    list.children_named("Группа")
        .map(|g| {
            let id = text(g, "Ид");
            let children = g.child("Группы").map(|sub| groups(sub, Some(&id))).unwrap_or_default();
            Group {
                name: text(g, "Наименование"),
                parent_id: parent.map(str::to_owned),
                deleted: deleted(g),
                children,
                id,
            }
        })
        .collect()
}

fn properties(n: &Node) -> Vec<Property> {
    let Some(list) = n.child("Свойства") else {
        return Vec::new();
    };
    list.children
        .iter()
        .filter(|p| p.name == "Свойство" || p.name == "СвойствоНоменклатуры")
        .map(|p| Property {
            id: text(p, "Ид"),
            name: text(p, "Наименование"),
            value_type: opt(p, "ТипЗначений"),
            values: p
                .child("ВариантыЗначений")
                .map(|v| {
                    v.children_named("Справочник")
                        .map(|r| ReferenceValue {
                            id: text(r, "ИдЗначения"), value: text(r, "Значение")
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

fn price_types(n: &Node) -> Vec<PriceType> {
    let Some(list) = n.child("ТипыЦен") else {
        return Vec::new();
    };
    list.children_named("ТипЦены")
        .map(|t| PriceType {
            id: text(t, "Ид"),
            name: text(t, "Наименование"),
            currency: opt(t, "Валюта"),
            tax_included: t.child("Налог").and_then(|tax| tax.child_text("УчтеноВСумме")).map(|v| is_true(Some(v))),
        })
        .collect()
}

fn warehouses(n: &Node) -> Vec<Warehouse> {
    let Some(list) = n.child("Склады") else {
        return Vec::new();
    };
    list.children_named("Склад").map(|w| Warehouse { id: text(w, "Ид"), name: text(w, "Наименование") }).collect()
}

pub(super) fn unit(n: &Node) -> Unit {
    Unit {
        code: n.attr("Код").or_else(|| n.child_text("Код")).map(str::to_owned),
        name: n
            .value()
            .or_else(|| n.attr("НаименованиеКраткое"))
            .or_else(|| n.child_text("НаименованиеКраткое"))
            .map(str::to_owned),
        full_name: n.attr("НаименованиеПолное").map(str::to_owned),
        international: n.attr("МеждународноеСокращение").map(str::to_owned),
    }
}

fn characteristics(n: &Node) -> Vec<Characteristic> {
    n.child("ХарактеристикиТовара")
        .map(|list| {
            list.children_named("ХарактеристикаТовара")
                .map(|c| Characteristic {
                    id: opt(c, "Ид"), name: text(c, "Наименование"), value: text(c, "Значение")
                })
                .collect()
        })
        .unwrap_or_default()
}

fn nested<'a>(n: &'a Node, list: &str, item: &'a str) -> Vec<&'a Node> {
    n.child(list).map(|l| l.children_named(item).collect()).unwrap_or_default()
}

/// The VAT rate among `СтавкиНалогов` (the one named НДС, else the only one).
fn vat_rate(n: &Node) -> Option<String> {
    let rates = nested(n, "СтавкиНалогов", "СтавкаНалога");
    let named = rates.iter().find(|r| r.child_text("Наименование").is_some_and(|v| v.to_lowercase() == "ндс"));
    named.or(rates.first()).and_then(|r| r.child_text("Ставка")).map(str::to_owned)
}

fn product(n: &Node) -> Option<Product> {
    let id = ExtId::parse(n.child_text("Ид")?);
    let properties = nested(n, "ЗначенияСвойств", "ЗначенияСвойства")
        .into_iter()
        .flat_map(|p| {
            let pid = text(p, "Ид");
            p.children_named("Значение")
                .filter_map(Node::value)
                .map(move |v| PropertyValue { property_id: pid.clone(), value: v.to_owned() })
                .collect::<Vec<_>>()
        })
        .collect();
    let requisites = nested(n, "ЗначенияРеквизитов", "ЗначениеРеквизита")
        .into_iter()
        .map(|r| Requisite { name: text(r, "Наименование"), value: text(r, "Значение") })
        .collect();
    Some(Product {
        article: opt(n, "Артикул"),
        name: text(n, "Наименование"),
        base_unit: n.child("БазоваяЕдиница").map(unit),
        description: opt(n, "Описание"),
        group_ids: n
            .child("Группы")
            .map(|g| g.children_named("Ид").filter_map(Node::value).map(str::to_owned).collect())
            .unwrap_or_default(),
        images: n.children_named("Картинка").filter_map(Node::value).map(str::to_owned).collect(),
        barcode: opt(n, "Штрихкод"),
        vat_rate: vat_rate(n),
        properties,
        requisites,
        characteristics: characteristics(n),
        deleted: deleted(n),
        line: n.line,
        id,
    })
}

fn offer(n: &Node, warnings: &mut Vec<Warning>, names: &mut HashSet<Arc<str>>) -> Option<Offer> {
    let id = ExtId::parse(n.child_text("Ид")?);
    let mut warn = |message: String| warnings.push(Warning { line: n.line, message });
    let mut prices = Vec::new();
    for p in n.child("Цены").iter().flat_map(|l| l.children_named("Цена")) {
        let Some(amount) = p.child_text("ЦенаЗаЕдиницу").and_then(decimal) else {
            warn(format!("offer {}: price without a valid <ЦенаЗаЕдиницу>", id.full));
            continue;
        };
        prices.push(Price {
            price_type_id: intern(names, p.child_text("ИдТипаЦены").unwrap_or_default()),
            amount,
            currency: p.child_text("Валюта").map(|c| intern(names, c)),
            unit: p.child_text("Единица").map(|u| intern(names, u)),
            coefficient: p.child_text("Коэффициент").and_then(decimal),
        });
    }
    let mut stocks = Vec::new();
    // 2.07/2.08: <Склад ИдСклада="…" КоличествоНаСкладе="…"/>
    for s in n.children_named("Склад") {
        match (s.attr("ИдСклада"), s.attr("КоличествоНаСкладе").and_then(decimal)) {
            (Some(w), Some(q)) => stocks.push(Stock { warehouse_id: intern(names, w), quantity: q }),
            _ => warn(format!("offer {}: <Склад> without id or quantity", id.full)),
        }
    }
    // 2.09+/3.x: <Остатки><Остаток><Склад><Ид/><Количество/></Склад></Остаток></Остатки>
    let mut rest_total = None;
    for rest in n.child("Остатки").iter().flat_map(|l| l.children_named("Остаток")) {
        for s in rest.children_named("Склад") {
            match (s.child_text("Ид"), s.child_text("Количество").and_then(decimal)) {
                (Some(w), Some(q)) => stocks.push(Stock { warehouse_id: intern(names, w), quantity: q }),
                _ => warn(format!("offer {}: <Остаток/Склад> without id or quantity", id.full)),
            }
        }
        if let Some(q) = rest.child_text("Количество").and_then(decimal) {
            rest_total = Some(q);
        }
    }
    let quantity = n.child_text("Количество").and_then(decimal).or(rest_total);
    Some(Offer {
        article: opt(n, "Артикул"),
        name: opt(n, "Наименование"),
        base_unit: n.child("БазоваяЕдиница").map(unit),
        characteristics: characteristics(n),
        prices,
        quantity,
        stocks,
        deleted: deleted(n),
        line: n.line,
        id,
    })
}
