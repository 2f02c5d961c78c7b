//! Unit tests on the real sample files in `../shared/samples/commerceml/`.

use rust_decimal::Decimal;

use super::*;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/../shared/samples/commerceml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parsed(name: &str) -> CmlDocument {
    parse(&sample(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn dec(s: &str) -> Decimal {
    extract::decimal(s).expect("test decimal")
}

#[test]
fn every_sample_parses() {
    let dir = format!("{}/../shared/samples/commerceml", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("samples dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "xml") {
            let bytes = std::fs::read(&path).expect("read");
            let doc = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!doc.header.schema_version.is_empty(), "{}", path.display());
            n += 1;
        }
    }
    assert_eq!(n, 10);
}

#[test]
fn carono_import() {
    let doc = parsed("carono__php-commerceml__import.xml");
    assert_eq!(doc.header.schema_version, "2.07");
    let cls = doc.classifier.expect("classifier");
    assert_eq!(cls.group_count(), 22);
    assert!(cls.groups.iter().any(|g| !g.children.is_empty()));
    let reference =
        cls.properties.iter().find(|p| p.value_type.as_deref() == Some("Справочник")).expect("a Справочник property");
    assert!(!reference.values.is_empty());
    let cat = doc.catalog.expect("catalog");
    assert_eq!(cat.products.len(), 2);
    let p = &cat.products[0];
    assert_eq!(p.id.full, "bd72d910-55bc-11d9-848a-00112f43529a");
    assert_eq!(p.id.variant, None);
    assert_eq!(p.article.as_deref(), Some("Б-130001"));
    assert_eq!(p.name, "Женские ботфорты коричневые");
    assert_eq!(p.barcode.as_deref(), Some("2000018987155"));
    let unit = p.base_unit.as_ref().expect("unit");
    assert_eq!(unit.code.as_deref(), Some("715"));
    assert_eq!(unit.full_name.as_deref(), Some("Пара (2 шт.)"));
    assert_eq!(p.group_ids, ["e5a4c309-a659-11dd-acee-0015e9b8c48d"]);
    assert!(p.images.iter().all(|i| i.starts_with("import_files/")));
    assert!(!p.images.is_empty());
    assert!(!p.properties.is_empty());
    assert!(p.requisites.iter().any(|r| r.name == "ОписаниеФайла"));
}

#[test]
fn carono_offers_variants_prices_stock() {
    let doc = parsed("carono__php-commerceml__offers.xml");
    let pkg = doc.offers.expect("offers");
    assert!(!pkg.price_types.is_empty());
    assert!(!pkg.warehouses.is_empty());
    let o = &pkg.offers[0];
    assert_eq!(o.id.product, "bd72d910-55bc-11d9-848a-00112f43529a");
    assert_eq!(o.id.variant.as_deref(), Some("90c55447-d3a8-11e4-9423-e0cb4ed5eed4"));
    assert_eq!(o.characteristics[0].name, "Размер");
    assert_eq!(o.characteristics[0].value, "40");
    assert_eq!(o.stocks, [Stock { warehouse_id: "b6112590-41ba-11dd-ac9d-0015e9b8c48d".into(), quantity: dec("20") }]);
    assert!(pkg.offers.iter().all(|o| o.id.variant.is_some()));
    assert_eq!(pkg.offers.len(), 5);
    assert_eq!(o.prices[0].amount, dec("1719"));
    assert_eq!(o.prices[0].currency.as_deref(), Some("RUB"));
}

#[test]
fn irpsv_import_and_offers() {
    let doc = parsed("irpsv__commerceml__off-doc-1c_import.xml");
    assert_eq!(doc.header.schema_version, "2.04");
    assert_eq!(doc.classifier.expect("classifier").group_count(), 1);
    let cat = doc.catalog.expect("catalog");
    assert!(!cat.only_changes);
    assert_eq!(cat.products.len(), 4);
    let table = &cat.products[0];
    assert_eq!(table.name, "Стол обеденный");
    assert_eq!(table.id.product, "05e26d70-01e4-11dc-a411-00055d80a2d1");
    assert_eq!(table.id.variant.as_deref(), Some("05e26d76-01e4-11dc-a411-00055d80a2d1"));
    let unit = table.base_unit.as_ref().expect("unit");
    assert_eq!(unit.code.as_deref(), Some("796"));
    assert_eq!(unit.name.as_deref(), Some("шт"));

    let doc = parsed("irpsv__commerceml__off-doc-1c_offers.xml");
    let pkg = doc.offers.expect("offers");
    assert_eq!(pkg.price_types.len(), 4);
    assert!(pkg.price_types.iter().any(|t| t.currency.as_deref() == Some("USD")));
    let o = &pkg.offers[0];
    assert_eq!(o.prices.len(), 4);
    assert_eq!(o.prices[0].amount, dec("4"));
    assert_eq!(o.prices[0].currency.as_deref(), Some("USD"));
    assert_eq!(o.prices[0].coefficient, Some(Decimal::ONE));
    assert_eq!(o.prices[2].currency.as_deref(), Some("руб"));
    assert_eq!(pkg.offers.len(), 2);
    assert_eq!(o.quantity, Some(Decimal::ZERO));
}

#[test]
fn dobromyslov_and_gillbeits() {
    let doc = parsed("dobromyslov__commerceml-parser__import0_1.xml");
    let cat = doc.catalog.expect("catalog");
    assert_eq!(cat.products.len(), 36);
    assert!(cat.products.iter().any(|p| p.deleted));
    assert_eq!(doc.classifier.expect("classifier").properties.len(), 12);
    let doc = parsed("dobromyslov__commerceml-parser__offers0_1.xml");
    let pkg = doc.offers.expect("offers");
    assert_eq!(pkg.warehouses.len(), 3);
    assert!(pkg.offers.iter().any(|o| !o.stocks.is_empty()));
    assert!(pkg.offers.iter().filter_map(|o| o.base_unit.as_ref()).any(|u| u.code.as_deref() == Some("796")));
    let doc = parsed("gillbeits__commerceml__rests___1af6e7b8.xml");
    let pkg = doc.offers.expect("rests");
    assert_eq!(pkg.offers.len(), 978);
    assert!(pkg.offers.iter().any(|o| !o.stocks.is_empty()));
}

#[test]
fn windows_1251_decodes_to_cyrillic() {
    let bytes = sample("carono__php-commerceml__orders.xml");
    let doc = parse(&bytes).expect("parse");
    assert_eq!(doc.header.schema_version, "2.03");
    assert_eq!(doc.documents.len(), 1);
}

#[test]
fn decimals_accept_comma_and_dot() {
    assert_eq!(extract::decimal("1 719,50"), Some(dec("1719.50")));
    assert_eq!(extract::decimal("0.1"), Some(Decimal::new(1, 1)));
    assert_eq!(extract::decimal("abc"), None);
}

const BOMB: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<КоммерческаяИнформация ВерсияСхемы="2.07">&lol2;</КоммерческаяИнформация>"#;

#[test]
fn dtd_and_entities_are_refused() {
    let err = parse(BOMB.as_bytes()).expect_err("bomb refused");
    assert!(matches!(err, CmlError::Forbidden { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("DOCTYPE"), "{err}");
    let undeclared = "<КоммерческаяИнформация>&xxe;</КоммерческаяИнформация>";
    let err = parse(undeclared.as_bytes()).expect_err("entity refused");
    assert!(matches!(err, CmlError::Forbidden { .. }), "{err}");
    let ok = "<КоммерческаяИнформация ВерсияСхемы=\"a&amp;b\">&lt;&#1040;</КоммерческаяИнформация>";
    assert_eq!(parse(ok.as_bytes()).expect("predefined").header.schema_version, "a&b");
}

#[test]
fn limits_are_enforced() {
    let deep = format!("<КоммерческаяИнформация>{}{}</КоммерческаяИнформация>", "<a>".repeat(100), "</a>".repeat(100));
    let err = parse(deep.as_bytes()).expect_err("too deep");
    assert!(err.to_string().contains("nesting deeper than 64"), "{err}");
    let small = Limits { max_bytes: 10, ..Limits::default() };
    assert!(matches!(parse_with(deep.as_bytes(), &small), Err(CmlError::TooLarge { .. })));
    let few = Limits { max_elements: 5, ..Limits::default() };
    let err = parse_with(deep.as_bytes(), &few).expect_err("too many");
    assert!(err.to_string().contains("more than 5 elements"), "{err}");
    let text = Limits { max_text_per_element: 4, ..Limits::default() };
    let err = parse_with("<a>12345</a>".as_bytes(), &text).expect_err("long text");
    assert!(err.to_string().contains("longer than 4"), "{err}");
}

#[test]
fn truncated_and_non_xml_are_refused() {
    let bytes = sample("irpsv__commerceml__off-doc-1c_offers.xml");
    let err = parse(&bytes[..bytes.len() / 2]).expect_err("truncated");
    assert!(matches!(err, CmlError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("line"), "{err}");
    let err = parse(b"PK\x03\x04 this is a zip").expect_err("not xml");
    assert!(matches!(err, CmlError::NotXml), "{err}");
    let err = parse("<a><b></a>".as_bytes()).expect_err("mismatch");
    assert!(err.to_string().contains("line 1"), "{err}");
    let err = parse(b"<root/>").expect_err("wrong root");
    assert!(matches!(err, CmlError::WrongRoot(_)), "{err}");
}

/// The document as read through buffers of `capacity` bytes (a multi-byte character or a
/// windows-1251 byte run split across reads), for comparison with the whole-slice parse.
fn streamed(bytes: &[u8], capacity: usize) -> Result<CmlDocument, CmlError> {
    parse_stream(&mut std::io::BufReader::with_capacity(capacity, bytes), &Limits::default())
}

#[test]
fn every_sample_reads_the_same_through_any_buffer_size_and_from_its_file() {
    let dir = format!("{}/../shared/samples/commerceml", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(&dir).expect("samples dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let whole = format!("{:?}", parse(&bytes).expect("parse"));
        for capacity in [1, 3, 7, 4096] {
            let doc = streamed(&bytes, capacity).unwrap_or_else(|e| panic!("{} at {capacity}: {e}", path.display()));
            assert_eq!(format!("{doc:?}"), whole, "{} through {capacity}-byte reads", path.display());
        }
        assert_eq!(format!("{:?}", parse_file(&path).expect("parse_file")), whole, "{}", path.display());
    }
}

#[test]
fn windows_1251_read_in_pieces_keeps_its_cyrillic_and_undefined_bytes_are_refused() {
    let head = "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n";
    let text = format!(
        "{head}<КоммерческаяИнформация ВерсияСхемы=\"2.07\"><Классификатор><Ид>1</Ид>\
         <Наименование>Классификатор (Основной каталог товаров)</Наименование></Классификатор></КоммерческаяИнформация>"
    );
    let (bytes, _, bad) = encoding_rs::WINDOWS_1251.encode(&text);
    assert!(!bad);
    for capacity in [1, 2, 5, 64 * 1024] {
        let doc = streamed(&bytes, capacity).expect("parse");
        assert_eq!(doc.classifier.expect("classifier").name, "Классификатор (Основной каталог товаров)");
    }
    // A byte the declared encoding leaves undefined (0xA5 in ISO-8859-3; windows-1251
    // defines all 256) is refused, never replaced, wherever the reads split.
    let broken = b"<?xml version=\"1.0\" encoding=\"ISO-8859-3\"?><a>ok \xa5</a>";
    for capacity in [1, 4096] {
        let err = streamed(broken, capacity).expect_err("undefined byte");
        assert!(matches!(err, CmlError::Encoding(ref m) if m.contains("ISO-8859-3")), "{err}");
    }
    // A broken tag before undefined bytes is the first problem, however the reads split
    // (found by the fuzz target: the whole-file read reported the bytes first).
    let mut utf16 = vec![0xFE, 0xFF];
    for unit in "<a b c='1'>текст".encode_utf16() {
        utf16.extend_from_slice(&unit.to_be_bytes());
    }
    utf16.extend_from_slice(&[0xDC, 0x00]); // a lone low surrogate
    for capacity in [1, 3, 15, 4096] {
        let err = streamed(&utf16, capacity).expect_err("broken");
        assert!(matches!(err, CmlError::Malformed { .. }), "{capacity}: {err}");
    }
    // Bytes that are not UTF-8 in a file that says (or implies) UTF-8.
    let err = parse(b"<\xd0\x9a\xff\xfe/>").expect_err("bad utf-8");
    assert!(matches!(err, CmlError::Encoding(_)), "{err}");
}

#[test]
fn lines_and_columns_count_characters_as_read() {
    // Line 4 holds an offer without <Ид>: the warning names it; the error names line 3.
    let doc = "<КоммерческаяИнформация>\n<ПакетПредложений><Предложения>\n\
               <Предложение><Ид>1</Ид></Предложение>\n<Предложение><Наименование>б</Наименование></Предложение>\n\
               </Предложения></ПакетПредложений></КоммерческаяИнформация>";
    for capacity in [1, 4096] {
        let parsed = streamed(doc.as_bytes(), capacity).expect("parse");
        assert_eq!(parsed.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), vec![4], "{:?}", parsed.warnings);
    }
    let err = parse("<КоммерческаяИнформация>\n<a>\nабв</b>".as_bytes()).expect_err("mismatch");
    assert!(matches!(err, CmlError::Malformed { line: 3, column: 8, .. }), "{err}");
}

#[test]
fn a_file_that_cannot_be_read_is_our_failure_not_1cs() {
    let err = parse_file(std::path::Path::new("/nonexistent/offers.xml")).expect_err("missing");
    assert!(matches!(err, CmlError::Io(_)), "{err}");
    assert!(matches!(crate::exchange::report::ImportError::from(err), crate::exchange::report::ImportError::App(_)));
}

#[test]
fn a_file_over_the_limit_is_refused_before_it_is_read() {
    // A sparse file: 1 byte over the limit on disk at once, nothing of it ever read.
    let path = std::env::temp_dir().join(format!("cml-too-large-{}.xml", std::process::id()));
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(MAX_FILE_BYTES as u64 + 1).expect("set_len");
    let err = parse_file(&path).expect_err("too large");
    let _ = std::fs::remove_file(&path);
    assert!(matches!(err, CmlError::TooLarge { size, .. } if size == MAX_FILE_BYTES + 1), "{err}");
}
