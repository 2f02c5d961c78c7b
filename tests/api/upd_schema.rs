//! The УПД XML checked against a schema written here, since the FNS XSD's licence is not
//! clear enough to ship it: the elements and attributes `ON_NSCHFDOPPR` 5.03 requires and
//! their order, enumerations (`Функция`, `НалСт`), lengths and patterns (ИНН, КПП, dates,
//! times), the file name rule, the windows-1251 prolog, and the sums (each line: without VAT
//! + VAT = with VAT; the lines add up to the totals).

use std::str::FromStr;

use quick_xml::events::Event;
use quick_xml::Reader;
use quick_xml::XmlVersion;
use rust_decimal::Decimal;

/// An element with its attributes and children.
#[derive(Debug, Default, Clone)]
pub struct El {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<El>,
    pub text: String,
}

impl El {
    pub fn attr(&self, k: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
    pub fn req(&self, k: &str) -> &str {
        self.attr(k).unwrap_or_else(|| panic!("{} has no required attribute {k}: {:?}", self.name, self.attrs))
    }
    pub fn child(&self, n: &str) -> &El {
        self.children.iter().find(|c| c.name == n).unwrap_or_else(|| panic!("{} has no {n}", self.name))
    }
    pub fn all(&self, n: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == n).collect()
    }
}

fn element(e: &quick_xml::events::BytesStart) -> El {
    El {
        name: e.name().as_ref().to_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.expect("attribute");
                (a.key.as_ref().to_owned(), a.normalized_value(XmlVersion::Implicit1_0).expect("value").into_owned())
            })
            .collect(),
        ..El::default()
    }
}

/// Decodes windows-1251 (as the prolog says) and builds the tree: (prolog, root).
pub fn parse(bytes: &[u8]) -> (String, El) {
    let (text, _, bad) = encoding_rs::WINDOWS_1251.decode(bytes);
    assert!(!bad, "windows-1251 decodes cleanly");
    let mut r = Reader::from_str(&text);
    let mut stack: Vec<El> = vec![El::default()];
    let mut prolog = String::new();
    loop {
        match r.read_event().expect("well-formed XML") {
            Event::Decl(d) => {
                prolog = format!("encoding=\"{}\"", d.encoding().and_then(Result::ok).unwrap_or_default())
            }
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let el = element(&e);
                stack.last_mut().expect("parent").children.push(el);
            }
            Event::Text(t) => {
                let t = t.xml_content(XmlVersion::Implicit1_0).into_owned();
                stack.last_mut().expect("element").text.push_str(t.trim());
            }
            Event::End(_) => {
                let el = stack.pop().expect("open element");
                stack.last_mut().expect("parent").children.push(el);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut doc = stack.pop().expect("document");
    assert_eq!(doc.children.len(), 1, "one root element");
    (prolog, doc.children.remove(0))
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("{s:?} is not a decimal with a point"))
}

fn date(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 10 && b[2] == b'.' && b[5] == b'.' && chrono::NaiveDate::parse_from_str(s, "%d.%m.%Y").is_ok()
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.chars().all(|c| c.is_ascii_digit())
}

fn len(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}

const NAL_ST: &[&str] = &[
    "без НДС",
    "0%",
    "5%",
    "7%",
    "10%",
    "20%",
    "5/105",
    "7/107",
    "10/110",
    "20/120",
    "9,09%",
    "16,67%",
    "НДС исчисляется налоговым агентом",
];

fn party(p: &El) {
    let id = p.child("ИдСв");
    match id.children.first().map(|c| c.name.as_str()) {
        Some("СвЮЛУч") => {
            let ul = id.child("СвЮЛУч");
            assert!(len(ul.req("НаимОрг"), 1, 1000));
            assert!(digits(ul.req("ИННЮЛ"), 10), "ИННЮЛ is 10 digits");
            if let Some(kpp) = ul.attr("КПП") {
                assert!(kpp.len() == 9, "КПП is 9 characters: {kpp}");
            }
        }
        Some("СвИП") => assert!(digits(id.child("СвИП").req("ИННФЛ"), 12), "ИННФЛ is 12 digits"),
        other => panic!("ИдСв holds {other:?}"),
    }
    let a = p.child("Адрес").child("АдрИнф");
    assert!(digits(a.req("КодСтр"), 3));
    assert!(len(a.req("АдрТекст"), 1, 1000));
}

/// Checks `bytes` (the file named `file_name`) against the 5.03 structure; answers the root.
pub fn check(file_name: &str, bytes: &[u8]) -> El {
    let (prolog, root) = parse(bytes);
    assert!(prolog.to_lowercase().contains("encoding=\"windows-1251\""), "prolog: {prolog}");
    assert_eq!(root.name, "Файл");
    let id = root.req("ИдФайл");
    assert_eq!(format!("{id}.xml"), file_name, "the file is named after ИдФайл");
    assert!(id.starts_with("ON_NSCHFDOPPR_") && len(id, 1, 255));
    assert_eq!(root.req("ВерсФорм"), "5.03");
    assert!(len(root.req("ВерсПрог"), 1, 40));
    let doc = root.child("Документ");
    assert_eq!(doc.req("КНД"), "1115131");
    assert!(["СЧФ", "СЧФДОП", "ДОП"].contains(&doc.req("Функция")));
    assert!(date(doc.req("ДатаИнфПр")));
    let t = doc.req("ВремИнфПр");
    assert!(t.len() == 8 && chrono::NaiveTime::parse_from_str(t, "%H.%M.%S").is_ok(), "ВремИнфПр {t}");
    let order: Vec<&str> = doc.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(order, ["СвСчФакт", "ТаблСчФакт", "СвПродПер", "Подписант"], "Документ's sequence");
    let inv = doc.child("СвСчФакт");
    assert!(len(inv.req("НомерДок"), 1, 1000));
    assert!(date(inv.req("ДатаДок")));
    party(inv.child("СвПрод"));
    party(inv.child("СвПокуп"));
    assert_eq!(inv.child("ДенИзм").req("КодОКВ").len(), 3);
    let table = doc.child("ТаблСчФакт");
    let (mut net, mut vat, mut gross) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (i, line) in table.all("СведТов").iter().enumerate() {
        assert_eq!(line.req("НомСтр"), (i + 1).to_string(), "lines are numbered in order");
        assert!(len(line.req("НаимТов"), 1, 1000));
        assert!(line.req("ОКЕИ_Тов").len() >= 3);
        assert!(NAL_ST.contains(&line.req("НалСт")), "НалСт {}", line.req("НалСт"));
        let (n, g) = (d(line.req("СтТовБезНДС")), d(line.req("СтТовУчНал")));
        d(line.req("КолТов"));
        d(line.req("ЦенаТов"));
        let tax = line.child("СумНал");
        let v = match tax.children.first().map(|c| c.name.as_str()) {
            Some("СумНал") => d(&tax.child("СумНал").text),
            Some("БезНДС") => {
                assert_eq!(line.req("НалСт"), "без НДС");
                Decimal::ZERO
            }
            other => panic!("СумНал holds {other:?}"),
        };
        assert_eq!(n + v, g, "line {}: without VAT + VAT = with VAT", i + 1);
        line.child("Акциз");
        (net, vat, gross) = (net + n, vat + v, gross + g);
    }
    assert!(!table.all("СведТов").is_empty());
    let total = table.child("ВсегоОпл");
    assert_eq!(d(total.req("СтТовБезНДСВсего")), net, "Σ lines without VAT");
    assert_eq!(d(total.req("СтТовУчНалВсего")), gross, "Σ lines with VAT");
    let all_tax = total.child("СумНалВсего");
    match all_tax.children.first().map(|c| c.name.as_str()) {
        Some("СумНал") => assert_eq!(d(&all_tax.child("СумНал").text), vat, "Σ VAT"),
        Some("БезНДС") => assert_eq!(vat, Decimal::ZERO),
        other => panic!("СумНалВсего holds {other:?}"),
    }
    let per = doc.child("СвПродПер").child("СвПер");
    assert!(len(per.req("СодОпер"), 1, 255));
    assert!(date(per.req("ДатаПер")));
    let osn = per.child("ОснПер");
    assert!(date(osn.req("РеквДатаДок")));
    let signer = doc.child("Подписант");
    assert!(["1", "2", "3", "4", "5", "6"].contains(&signer.req("СпосПодтПолном")));
    let fio = signer.child("ФИО");
    assert!(len(fio.req("Фамилия"), 1, 60) && len(fio.req("Имя"), 1, 60));
    root
}
