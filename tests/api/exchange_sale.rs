//! The 1C order exchange (`type=sale`) as 1C drives it: `mode=query` answers the orders 1C
//! does not have yet, in windows-1251 or UTF-8 with BOM, until `mode=success`; a file from 1C
//! numbers, ships, pays and cancels our orders through the same code staff use, once;
//! counterparties create and update buyer companies by INN; bad files change nothing.

use chrono::Utc;
use serde_json::{json, Value};
use tradeport::exchange::commerceml::{parse, CmlDocument};
use tradeport::exchange::report::{AnswerEncoding, ImportError, ImportReport};
use tradeport::exchange::sale;

use crate::catalog::api;
use crate::helpers::{unique, TestApp, TestTenant};
use crate::identity::INNS;
use crate::ordering::{buyer, order, stock_of, store};

async fn query(app: &TestApp, t: &TestTenant, enc: AnswerEncoding) -> Vec<u8> {
    let schema = t.tenant.schema.clone();
    app.db(move |c| tradeport::db::in_tenant(c, &schema, |c| sale::query(c, enc)).expect("query")).await
}

async fn success(app: &TestApp, t: &TestTenant) -> u64 {
    let schema = t.tenant.schema.clone();
    app.db(move |c| tradeport::db::in_tenant(c, &schema, sale::success).expect("success")).await
}

/// `mode=query` in windows-1251, parsed back.
async fn sent(app: &TestApp, t: &TestTenant) -> CmlDocument {
    parse(&query(app, t, AnswerEncoding::Windows1251).await).expect("the answer parses")
}

async fn import(app: &TestApp, t: &TestTenant, xml: &str) -> Result<ImportReport, ImportError> {
    let path = std::env::temp_dir().join(format!("{}.xml", unique("sale")));
    std::fs::write(&path, xml).expect("write file");
    let r = sale::import_file(&app.state, t.tenant.id, &t.tenant.schema, "orders.xml", &path).await;
    let _ = std::fs::remove_file(&path);
    r
}

fn applied(r: Result<ImportReport, ImportError>) -> ImportReport {
    r.unwrap_or_else(|e| panic!("import refused: {e}"))
}

pub async fn place(app: &TestApp, t: &TestTenant, token: &str, body: Value) -> String {
    let r = order(app, t, token, &body, Some(&unique("k"))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["number"].as_str().expect("number").to_owned()
}

async fn staff_order(app: &TestApp, t: &TestTenant, s: &str, number: &str) -> Value {
    let r = app.get(&api(t, &format!("/admin/orders/{number}")), Some(s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

async fn customers(app: &TestApp, t: &TestTenant, s: &str) -> Value {
    app.get(&api(t, "/admin/customers?per_page=50"), Some(s)).await.json()
}

fn numbers(doc: &CmlDocument) -> Vec<String> {
    doc.documents.iter().map(|d| d.number.clone()).collect()
}

/// A file as 1C sends it back (shape of off-doc-1c orders.xml), one `Документ` per entry.
pub fn from_1c(docs: &[(&str, &[(&str, &str)])]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.03\" ДатаФормирования=\"2026-01-01T10:00:00\">\n",
    );
    for (number, requisites) in docs {
        xml.push_str(&format!(
            "<Документ><Ид>{number}</Ид><Номер>{number}</Номер><Дата>2026-01-01</Дата><ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><ЗначенияРеквизитов>"
        ));
        for (k, v) in *requisites {
            xml.push_str(&format!(
                "<ЗначениеРеквизита><Наименование>{k}</Наименование><Значение>{v}</Значение></ЗначениеРеквизита>"
            ));
        }
        xml.push_str("</ЗначенияРеквизитов></Документ>\n");
    }
    xml.push_str("</КоммерческаяИнформация>\n");
    xml
}

#[actix_web::test]
async fn orders_go_to_1c_in_both_encodings_until_it_confirms_them_and_again_when_they_change() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let first = place(
        &app,
        &t,
        &b,
        json!({"lines": [{"sku": "PCS-1", "qty": 2}], "po_number": "PO-77", "comment": "Срочно ✓"}),
    )
    .await;
    let addresses = app.get(&api(&t, "/account/addresses"), Some(&b)).await.json();
    let address = addresses["items"][0]["id"].as_i64().expect("an address");
    let second = place(
        &app,
        &t,
        &b,
        json!({"lines": [{"sku": "M-1", "qty": 3}], "delivery": {"method": "delivery", "address_id": address}}),
    )
    .await;

    // windows-1251: the declaration says so, the bytes are cp1251, ✓ is a character reference.
    let bytes = query(&app, &t, AnswerEncoding::Windows1251).await;
    assert!(bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"windows-1251\"?>"), "{:?}", &bytes[..60]);
    assert!(std::str::from_utf8(&bytes).is_err(), "Cyrillic in cp1251 is not UTF-8");
    let text = encoding_rs::WINDOWS_1251.decode(&bytes).0.into_owned();
    assert!(text.contains("Срочно &#10003;"), "{text}");
    let doc = parse(&bytes).expect("parses");
    assert_eq!(doc.header.schema_version, "2.05");
    assert_eq!(numbers(&doc), [first.clone(), second.clone()]);
    let d = &doc.documents[0];
    assert_eq!((d.id.as_str(), d.operation.as_str(), d.role.as_str()), (first.as_str(), "Заказ товара", "Продавец"));
    assert_eq!(d.sum.map(|s| s.to_string()).as_deref(), Some("200.00"));
    assert!(d.comment.as_deref().is_some_and(|c| c.contains("PO-77") && c.contains("Срочно ✓")), "{:?}", d.comment);
    let c = d.buyer().expect("the buyer company");
    assert_eq!(
        (c.inn.as_deref(), c.kpp.as_deref(), c.legal_name()),
        (Some(INNS[0]), Some("773601001"), "ООО «Стройка»")
    );
    assert_eq!((c.role.as_deref(), c.address.as_deref()), (Some("Покупатель"), Some("Москва, ул. Ленина, 1")));
    assert_eq!(d.lines.len(), 1);
    let l = &d.lines[0];
    assert_eq!((l.id.full.as_str(), l.name.as_str(), l.vat_rate.as_deref()), ("PCS-1", "Ручка оконная", Some("20")));
    let shown = |v: Option<rust_decimal::Decimal>| v.map(|x| x.to_string()).unwrap_or_default();
    assert_eq!((shown(l.price), shown(l.quantity), shown(l.sum)), ("100.00".into(), "2".into(), "200.00".into()));
    assert_eq!(l.unit.as_ref().and_then(|u| u.code.as_deref()), Some("796"));
    assert_eq!(shown(l.vat_sum), "33.33");
    assert_eq!((d.requisite("Статуса заказа ИД"), d.requisite("Отменен")), (Some("new"), Some("false")));
    assert!(d.requisite("Сайт").is_some_and(|s| s.contains(&t.slug)));
    let delivery = &doc.documents[1].lines;
    assert_eq!(delivery.iter().map(|l| l.id.full.as_str()).collect::<Vec<_>>(), ["M-1", "ORDER_DELIVERY"]);
    assert_eq!(delivery[0].unit.as_ref().and_then(|u| u.code.as_deref()), Some("006"), "metres");

    // UTF-8 with a BOM says UTF-8 and carries the same orders.
    let bytes = query(&app, &t, AnswerEncoding::Utf8Bom).await;
    assert!(bytes.starts_with(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(std::str::from_utf8(&bytes[3..]).is_ok_and(|s| s.contains("Срочно ✓")));
    assert_eq!(numbers(&parse(&bytes).expect("parses")), [first.clone(), second.clone()]);

    // 1C stored them: nothing to send until something changes.
    assert_eq!(success(&app, &t).await, 2);
    let empty = sent(&app, &t).await;
    assert!(empty.documents.is_empty());
    assert_eq!(empty.header.schema_version, "2.05", "an empty answer is still a document");
    assert_eq!(success(&app, &t).await, 0);

    // Staff confirm the first: it goes again, with its new status, until 1C confirms it.
    let r =
        app.patch_json(&api(&t, &format!("/admin/orders/{first}")), &json!({"status": "confirmed"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for _ in 0..2 {
        let doc = sent(&app, &t).await;
        assert_eq!(numbers(&doc), std::slice::from_ref(&first));
        assert_eq!(doc.documents[0].requisite("Статуса заказа ИД"), Some("confirmed"));
    }
    assert_eq!(success(&app, &t).await, 1);
    assert!(sent(&app, &t).await.documents.is_empty());
}

#[actix_web::test]
async fn a_file_from_1c_numbers_ships_pays_and_cancels_orders_once() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[1]).await;
    let first = place(&app, &t, &b, json!({"lines": [{"sku": "PCS-1", "qty": 2}]})).await;
    let second = place(&app, &t, &b, json!({"lines": [{"sku": "M-1", "qty": 4}]})).await;
    assert_eq!(stock_of(&app, &t, "M-1").await, "96");
    query(&app, &t, AnswerEncoding::Windows1251).await;
    success(&app, &t).await;
    // Another store whose order has the same number.
    let (other, os) = store(&app).await;
    let (ob, _, _) = buyer(&app, &other, INNS[1]).await;
    assert_eq!(place(&app, &other, &ob, json!({"lines": [{"sku": "PCS-1", "qty": 2}]})).await, first);

    let today = Utc::now().date_naive().to_string();
    let xml = from_1c(&[
        (
            first.as_str(),
            &[
                ("Номер по 1С", "ЦБ-101"),
                ("Дата по 1С", today.as_str()),
                ("Проведен", "true"),
                ("Статус заказа", "Открыт"),
                ("Номер отгрузки по 1С", "РТ-5"),
                ("Дата отгрузки по 1С", today.as_str()),
                ("Номер оплаты по 1С", "ПП-9"),
                ("Дата оплаты по 1С", today.as_str()),
            ],
        ),
        (second.as_str(), &[("Отменен", "true"), ("Номер оплаты по 1С", "T")]),
        ("ZZ-404", &[("Номер по 1С", "ЦБ-404")]),
    ]);
    let report = applied(import(&app, &t, &xml).await);
    assert_eq!((report.kind.as_str(), report.counts["orders"].updated), ("orders", 2), "{report:?}");
    assert_eq!(report.counts["payments"].created, 1, "{report:?}");
    assert!(report.warnings.iter().any(|w| w.contains("ZZ-404") && w.contains("not found")), "{report:?}");

    // Shipped through the staff code: the ledger has the shipment and the payment.
    let o = staff_order(&app, &t, &s, &first).await;
    assert_eq!((&o["status"], &o["number_1c"], &o["date_1c"]), (&json!("shipped"), &json!("ЦБ-101"), &json!(today)));
    // The staff order page shows it too.
    let page = format!("/s/{}/admin/orders/{first}", t.slug);
    let shown = crate::order_pages::sign_in(&app, &t, &t.admin_email, &page).await.get(&page).await;
    assert!(
        shown.body.contains("Номер в 1С: ЦБ-101 от") || shown.body.contains("Number in 1C: ЦБ-101 of"),
        "{}",
        shown.body
    );
    let ledger = app.get(&api(&t, "/account/ledger"), Some(&b)).await.json();
    let moves: Vec<(String, String, String)> = ledger["movements"]
        .as_array()
        .expect("movements")
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap_or("").into(),
                m["debit"].as_str().unwrap_or("").into(),
                m["credit"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [("shipment".into(), "200.00".into(), "0.00".into()), ("payment".into(), "0.00".into(), "200.00".into())]
    );
    assert_eq!(app.get(&api(&t, "/account"), Some(&b)).await.json()["balance"], "0.00");
    // Cancelled: its stock is back.
    assert_eq!(staff_order(&app, &t, &s, &second).await["status"], "cancelled");
    assert_eq!(stock_of(&app, &t, "M-1").await, "100");
    // 1C's own changes are not sent back to it.
    assert!(sent(&app, &t).await.documents.is_empty());

    // The same file again changes nothing: no second payment.
    let again = applied(import(&app, &t, &xml).await);
    assert_eq!((again.counts["orders"].updated, again.counts["orders"].unchanged), (0, 2), "{again:?}");
    assert!(!again.counts.contains_key("payments"), "{again:?}");
    let payments = app.get(&api(&t, "/admin/payments"), Some(&s)).await.json();
    assert_eq!(payments["total"], 1);

    // The other store's order of the same number is untouched.
    let o = staff_order(&app, &other, &os, &first).await;
    assert_eq!((&o["status"], &o["number_1c"]), (&json!("new"), &Value::Null));
}

#[actix_web::test]
async fn illegal_moves_and_unknown_statuses_are_warnings() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[2]).await;
    let n = place(&app, &t, &b, json!({"lines": [{"sku": "PCS-1", "qty": 2}]})).await;
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{n}")), &json!({"status": "shipped"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let xml =
        from_1c(&[(n.as_str(), &[("ПометкаУдаления", "true")]), (n.as_str(), &[("Статус заказа", "Что-то своё")])]);
    let report = applied(import(&app, &t, &xml).await);
    assert_eq!(report.warnings.len(), 2, "{report:?}");
    assert!(report.warnings[0].contains("cannot become cancelled"), "{report:?}");
    assert!(report.warnings[1].contains("Что-то своё"), "{report:?}");
    assert_eq!(staff_order(&app, &t, &s, &n).await["status"], "shipped");
}

#[actix_web::test]
async fn counterparties_payments_and_opening_balances_by_inn() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let inn = INNS[5];
    let contragents = |name: &str, address: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.09\"><Контрагенты>\
             <Контрагент><Ид>k-1</Ид><Наименование>Альфа</Наименование><ОфициальноеНаименование>{name}</ОфициальноеНаименование>\
             <ИНН>{inn}</ИНН><КПП>771001001</КПП><АдресРегистрации><Представление>{address}</Представление></АдресРегистрации></Контрагент>\
             <Контрагент><Ид>k-2</Ид><Наименование>Опечатка</Наименование><ИНН>7707083894</ИНН><КПП>773601001</КПП></Контрагент>\
             </Контрагенты></КоммерческаяИнформация>"
        )
    };
    let report = applied(import(&app, &t, &contragents("АО «Альфа»", "Москва, Тверская, 1")).await);
    assert_eq!((report.kind.as_str(), report.counts["companies"].created), ("contragents", 1), "{report:?}");
    assert!(report.warnings.iter().any(|w| w.contains("7707083894") && w.contains("check digits")), "{report:?}");
    let list = customers(&app, &t, &s).await;
    assert_eq!(list["total"], 1, "{list}");
    let company = &list["items"][0];
    assert_eq!(
        (&company["company"]["name"], &company["company"]["inn"], &company["status"]),
        (&json!("АО «Альфа»"), &json!(inn), &json!("active"))
    );
    let id = company["id"].as_i64().expect("id");

    let renamed = contragents("АО «Альфа-Плюс»", "Москва, Тверская, 2");
    assert_eq!(applied(import(&app, &t, &renamed).await).counts["companies"].updated, 1);
    assert_eq!(applied(import(&app, &t, &renamed).await).counts["companies"].unchanged, 1);
    let list = customers(&app, &t, &s).await;
    assert_eq!((&list["total"], &list["items"][0]["company"]["name"]), (&json!(1), &json!("АО «Альфа-Плюс»")));

    // An opening debt of 500 and a payment of 150 from 1C, each once.
    let money = format!(
        "<КоммерческаяИнформация ВерсияСхемы=\"2.05\">\
         <Документ><Ид>ost-1</Ид><Номер>ОСТ-1</Номер><Дата>2026-01-01</Дата><ХозОперация>Ввод начальных остатков</ХозОперация>\
          <Сумма>500.00</Сумма><Контрагенты><Контрагент><Ид>k-1</Ид><ИНН>{inn}</ИНН><КПП>771001001</КПП><Роль>Покупатель</Роль></Контрагент></Контрагенты></Документ>\
         <Документ><Ид>pp-1</Ид><Номер>77</Номер><Дата>2026-01-05</Дата><ХозОперация>Оплата от покупателя</ХозОперация>\
          <Сумма>150.00</Сумма><Контрагенты><Контрагент><Ид>k-1</Ид><ИНН>{inn}</ИНН><КПП>771001001</КПП><Роль>Покупатель</Роль></Контрагент></Контрагенты></Документ>\
         </КоммерческаяИнформация>"
    );
    let report = applied(import(&app, &t, &money).await);
    assert_eq!((report.counts["opening_balances"].created, report.counts["payments"].created), (1, 1), "{report:?}");
    applied(import(&app, &t, &money).await);
    let ledger = app.get(&api(&t, &format!("/admin/customers/{id}/ledger?from=2025-12-01")), Some(&s)).await.json();
    assert_eq!(ledger["closing_balance"], "-350.00", "{ledger}");
    assert_eq!(ledger["movements"].as_array().map(Vec::len), Some(2), "{ledger}");
}

#[actix_web::test]
async fn a_malformed_file_is_refused_and_nothing_is_applied() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[3]).await;
    let n = place(&app, &t, &b, json!({"lines": [{"sku": "PCS-1", "qty": 2}]})).await;
    let good = from_1c(&[(n.as_str(), &[("Номер по 1С", "ЦБ-1"), ("Отменен", "true")])]);
    let truncated: String = good.chars().take(good.chars().count() - 30).collect();
    let Err(ImportError::Refused(why)) = import(&app, &t, &truncated).await else {
        panic!("a truncated file is refused")
    };
    assert!(why.contains("line"), "{why}");
    let Err(ImportError::Refused(_)) = import(&app, &t, "<КоммерческаяИнформация/>").await else {
        panic!("a file without documents is refused")
    };
    let o = staff_order(&app, &t, &s, &n).await;
    assert_eq!((&o["status"], &o["number_1c"]), (&json!("new"), &Value::Null));
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "8");
}
