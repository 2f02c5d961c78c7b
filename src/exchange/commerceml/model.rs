//! Plain structs a CommerceML document parses into: no database types, no I/O.

use std::sync::Arc;

use rust_decimal::Decimal;

/// An external id from 1C, kept verbatim; `product#variant` is split into its two parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtId {
    pub full: String,
    pub product: String,
    pub variant: Option<String>,
}

impl ExtId {
    pub fn parse(raw: &str) -> Self {
        let full = raw.trim().to_owned();
        match full.split_once('#') {
            Some((product, variant)) => Self {
                product: product.to_owned(),
                variant: (!variant.is_empty()).then(|| variant.to_owned()),
                full: full.clone(),
            },
            None => Self { product: full.clone(), variant: None, full },
        }
    }
}

/// The whole parsed document.
#[derive(Debug, Clone, Default)]
pub struct CmlDocument {
    pub header: PackageHeader,
    pub classifier: Option<Classifier>,
    pub catalog: Option<Catalog>,
    pub offers: Option<OfferPackage>,
    /// `Документ` elements (orders, payments; in the root or in `Контейнер`).
    pub documents: Vec<super::documents::Document>,
    /// `Контрагенты/Контрагент` at the root (a contragents file).
    pub counterparties: Vec<super::documents::Counterparty>,
    pub warnings: Vec<Warning>,
}

/// A non-fatal problem with one element, e.g. an offer without a price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct PackageHeader {
    /// `ВерсияСхемы`, e.g. "2.07" or "3.1".
    pub schema_version: String,
    /// `ДатаФормирования` as written.
    pub generated_at: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Classifier {
    pub id: String,
    pub name: String,
    /// Top-level groups; each carries its children (the category tree).
    pub groups: Vec<Group>,
    pub properties: Vec<Property>,
    /// 3.x: price types and warehouses may be declared here.
    pub price_types: Vec<PriceType>,
    pub warehouses: Vec<Warehouse>,
}

impl Classifier {
    /// Number of groups at every level of the tree.
    pub fn group_count(&self) -> usize {
        fn count(groups: &[Group]) -> usize {
            groups.iter().map(|g| 1 + count(&g.children)).sum()
        }
        count(&self.groups)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub deleted: bool,
    pub children: Vec<Group>,
}

#[derive(Debug, Clone, Default)]
pub struct Property {
    pub id: String,
    pub name: String,
    /// `ТипЗначений`: `Справочник`, `Строка`, `Число`, …
    pub value_type: Option<String>,
    /// `ВариантыЗначений/Справочник` for reference properties.
    pub values: Vec<ReferenceValue>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceValue {
    pub id: String,
    pub value: String,
}

#[derive(Debug, Clone, Default)]
pub struct PriceType {
    pub id: String,
    pub name: String,
    pub currency: Option<String>,
    /// `Налог/УчтеноВСумме`: whether the price includes the tax.
    pub tax_included: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct Warehouse {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub id: String,
    pub classifier_id: Option<String>,
    pub name: String,
    /// `СодержитТолькоИзменения`: true = incremental (upsert only), false = full snapshot.
    pub only_changes: bool,
    pub products: Vec<Product>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    /// `Код` (OKEI), trimmed.
    pub code: Option<String>,
    /// Short name: the element text (`шт`) or `НаименованиеКраткое`.
    pub name: Option<String>,
    pub full_name: Option<String>,
    pub international: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyValue {
    pub property_id: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requisite {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Characteristic {
    pub id: Option<String>,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: ExtId,
    pub article: Option<String>,
    pub name: String,
    pub base_unit: Option<Unit>,
    pub description: Option<String>,
    pub group_ids: Vec<String>,
    pub images: Vec<String>,
    pub barcode: Option<String>,
    /// `СтавкиНалогов/СтавкаНалога[Наименование=НДС]/Ставка` as written (`20`, `без НДС`).
    pub vat_rate: Option<String>,
    pub properties: Vec<PropertyValue>,
    pub requisites: Vec<Requisite>,
    pub characteristics: Vec<Characteristic>,
    /// `ПометкаУдаления=true`, `Статус="Удален"` (attribute or child).
    pub deleted: bool,
    /// Line of the `<Товар>` in the file, for messages.
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct OfferPackage {
    pub id: String,
    pub name: String,
    pub catalog_id: Option<String>,
    pub classifier_id: Option<String>,
    pub only_changes: bool,
    pub price_types: Vec<PriceType>,
    pub warehouses: Vec<Warehouse>,
    pub offers: Vec<Offer>,
}

#[derive(Debug, Clone)]
pub struct Price {
    /// Interned: a file repeats a handful of price types, currencies and units for every
    /// offer; one shared copy each keeps a 50,000-offer package small.
    pub price_type_id: Arc<str>,
    pub amount: Decimal,
    pub currency: Option<Arc<str>>,
    pub unit: Option<Arc<str>>,
    pub coefficient: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stock {
    /// Interned, like the ids of [`Price`].
    pub warehouse_id: Arc<str>,
    pub quantity: Decimal,
}

#[derive(Debug, Clone)]
pub struct Offer {
    pub id: ExtId,
    pub article: Option<String>,
    pub name: Option<String>,
    pub base_unit: Option<Unit>,
    pub characteristics: Vec<Characteristic>,
    pub prices: Vec<Price>,
    /// `Количество`: the total stock.
    pub quantity: Option<Decimal>,
    /// Per warehouse: `<Склад ИдСклада КоличествоНаСкладе/>` or `Остатки/Остаток/Склад`.
    pub stocks: Vec<Stock>,
    pub deleted: bool,
    /// Line of the `<Предложение>` in the file, for messages.
    pub line: usize,
}
