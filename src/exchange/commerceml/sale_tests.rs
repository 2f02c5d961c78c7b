//! The sale exchange's documents and counterparties, on the real samples and on the shapes
//! 1C sends (`Контейнер`, contragents files).

use rust_decimal::Decimal;

use super::*;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/../shared/samples/commerceml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

#[test]
fn irpsv_orders_both_ways() {
    let doc = parse(&sample("irpsv__commerceml__off-doc-1c_orders.xml")).expect("parse");
    assert!(doc.catalog.is_none(), "document lines are not catalog products");
    assert_eq!(doc.documents.len(), 3);
    let d = &doc.documents[0];
    assert_eq!(
        (d.id.as_str(), d.number.as_str(), d.operation.as_str(), d.role.as_str()),
        ("36", "36", "Заказ товара", "Продавец")
    );
    assert_eq!((d.date.as_deref(), d.time.as_deref()), (Some("2007-10-30"), Some("15:19:27")));
    assert_eq!((d.sum, d.rate, d.currency.as_deref()), (Some(dec("6734.47")), Some(Decimal::ONE), Some("руб")));
    assert_eq!(d.lines.len(), 2);
    assert_eq!(d.lines[0].id.full, "ORDER_DELIVERY");
    assert_eq!((d.lines[0].price, d.lines[0].quantity), (Some(dec("340.00")), Some(Decimal::ONE)));
    assert_eq!(d.lines[1].catalog_id.as_deref(), Some("bd72d8f9-55bc-11d9-848a-00112f43529a"));
    assert_eq!(d.lines[1].unit.as_ref().and_then(|u| u.code.as_deref()), Some("796"));
    assert!(d.lines[1].requisites.iter().any(|r| r.name == "ВидНоменклатуры" && r.value == "Товар"));
    let buyer = d.buyer().expect("buyer");
    assert_eq!(
        (buyer.id.as_str(), buyer.name.as_str(), buyer.role.as_deref()),
        ("1#admin# admin", "admin", Some("Покупатель"))
    );
    assert_eq!(buyer.address.as_deref(), Some("ггг"));
    assert_eq!(buyer.representatives, ["admin"]);
    assert_eq!(d.requisite("статус заказа"), Some("[N] Принят"));
    assert!(!d.flag("Отменен"));
    let status = &doc.documents[1];
    assert_eq!(
        (status.number.as_str(), status.number_in_1c(), status.date_in_1c()),
        ("92", Some("MM92"), Some("2015-08-12"))
    );
    assert!(!status.deleted);
    assert!(status.lines.is_empty() && status.counterparties.is_empty());
    assert_eq!(doc.documents[2].number_in_1c(), Some("MM93"));
}

#[test]
fn carono_order_in_windows_1251() {
    let doc = parse(&sample("carono__php-commerceml__orders.xml")).expect("parse");
    let d = &doc.documents[0];
    assert_eq!((d.number.as_str(), d.sum, d.time.as_deref()), ("20", Some(dec("9683.42")), Some("15:40:40")));
    assert_eq!(d.buyer().map(|c| c.name.as_str()), Some("Петр Петров"));
    assert_eq!(d.lines.len(), 2);
    assert_eq!(d.lines[1].name, "Комбайн MOULINEX A77 4C");
    assert_eq!(d.requisite("Номер платежного документа"), Some("ТК000000026"));
    assert!(d.flag("Заказ оплачен") && d.flag("Финальный статус"));
}

#[test]
fn bitrix_query_answer() {
    let doc = parse(&sample("dobromyslov__commerceml-parser__bitrix-query-response-full.xml")).expect("parse");
    assert_eq!(doc.header.schema_version, "2.05");
    assert_eq!(doc.documents.len(), 2);
    let (a, b) = (&doc.documents[0], &doc.documents[1]);
    assert_eq!((a.number.as_str(), a.sum, a.lines.len()), ("132", Some(dec("231.74")), 1));
    assert_eq!(a.requisite("Сайт"), Some("[s1] Сайт по умолчанию"));
    assert_eq!(a.requisite("Статуса заказа ИД"), Some("N"));
    assert_eq!((b.number.as_str(), b.sum, b.lines.len()), ("133", Some(dec("14380.58")), 7));
    let total: Decimal = b.lines.iter().filter_map(|l| l.sum).sum();
    assert_eq!(total, dec("14380.58"));
}

const CONTAINER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" ВерсияСхемы="3.1">
 <Контейнер><Документ><Ид>a1</Ид><Номер>TP-7</Номер><Дата>2024-03-01</Дата>
  <Номер1С>ЦБ-15</Номер1С><Дата1С>2024-03-02</Дата1С><ПометкаУдаления>true</ПометкаУдаления>
  <ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль>
  <Контрагенты><Контрагент><Ид>c-1</Ид><Наименование>Ромашка</Наименование>
   <ЮридическоеЛицо><ОфициальноеНаименование>ООО "Ромашка"</ОфициальноеНаименование><ИНН>7707083893</ИНН><КПП>773601001</КПП></ЮридическоеЛицо>
   <Контакты><Контакт><Тип>Телефон рабочий</Тип><Значение>+7 495 000-00-00</Значение></Контакт></Контакты>
  </Контрагент></Контрагенты>
  <Товары><Товар><Ид>p-1#v-2</Ид><Наименование>Ручка</Наименование><ЦенаЗаЕдиницу>100</ЦенаЗаЕдиницу><Количество>2</Количество><Сумма>200</Сумма>
   <СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>
   <Налоги><Налог><Наименование>НДС</Наименование><УчтеноВСумме>true</УчтеноВСумме><Сумма>33.33</Сумма></Налог></Налоги>
  </Товар></Товары>
  <ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Номер оплаты по 1С</Наименование><Значение>T</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>
 </Документ></Контейнер>
</КоммерческаяИнформация>"#;

#[test]
fn documents_in_a_container_with_2_09_fields() {
    let doc = parse(CONTAINER.as_bytes()).expect("parse");
    assert!(doc.catalog.is_none());
    let d = &doc.documents[0];
    assert_eq!((d.number_in_1c(), d.date_in_1c(), d.deleted), (Some("ЦБ-15"), Some("2024-03-02"), true));
    assert_eq!(d.requisite("Номер оплаты по 1С"), None, "T means empty");
    let c = d.buyer().expect("counterparty");
    assert_eq!(
        (c.legal_name(), c.inn.as_deref(), c.kpp.as_deref()),
        ("ООО \"Ромашка\"", Some("7707083893"), Some("773601001"))
    );
    assert_eq!(c.contact("телефон"), Some("+7 495 000-00-00"));
    let l = &d.lines[0];
    assert_eq!((l.id.product.as_str(), l.id.variant.as_deref()), ("p-1", Some("v-2")));
    assert_eq!((l.vat_rate.as_deref(), l.vat_sum, l.sum), (Some("20"), Some(dec("33.33")), Some(dec("200"))));
}

#[test]
fn a_contragents_file() {
    let xml = r#"<КоммерческаяИнформация ВерсияСхемы="2.09"><Контрагенты>
      <Контрагент><Ид>k1</Ид><Наименование>Альфа</Наименование><ОфициальноеНаименование>АО «Альфа»</ОфициальноеНаименование>
        <ИНН>7736207543</ИНН><КПП>773601001</КПП><АдресРегистрации><АдресноеПоле><Тип>Почтовый индекс</Тип><Значение>101000</Значение></АдресноеПоле>
        <АдресноеПоле><Тип>Город</Тип><Значение>Москва</Значение></АдресноеПоле></АдресРегистрации></Контрагент>
      <Контрагент><Ид>k2</Ид><Наименование>ИП Петров</Наименование><ИНН>500100732259</ИНН><ПометкаУдаления>true</ПометкаУдаления></Контрагент>
    </Контрагенты></КоммерческаяИнформация>"#;
    let doc = parse(xml.as_bytes()).expect("parse");
    assert!(doc.documents.is_empty());
    assert_eq!(doc.counterparties.len(), 2);
    let a = &doc.counterparties[0];
    assert_eq!((a.id.as_str(), a.legal_name(), a.address.as_deref()), ("k1", "АО «Альфа»", Some("101000, Москва")));
    assert!(doc.counterparties[1].deleted);
}
