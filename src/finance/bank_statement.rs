//! Bank statements in the 1C client-bank exchange format (`1CClientBankExchange`, version
//! 1.02/1.03), the text file every Russian bank client exports for 1C: a header of
//! `Key=Value` lines, an account section, then one `СекцияДокумент=…` … `КонецДокумента`
//! section per payment, and `КонецФайла`. The file says its encoding (`Кодировка=Windows`
//! for windows-1251, `DOS` for cp866; UTF-8 is accepted when declared or marked by a BOM).
//!
//! Parsing checks the whole file before anything is imported: a file in another encoding
//! than it declares, or cut short, is refused with the reason.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::parse_amount;

/// One payment document of the statement.
#[derive(Debug, Clone, PartialEq)]
pub struct BankDoc {
    /// Its position among the file's documents, from 1 (for the report).
    pub index: usize,
    pub kind: String,
    pub number: String,
    pub date: Option<NaiveDate>,
    /// The day the money arrived on the receiving account, when the bank says.
    pub received: Option<NaiveDate>,
    pub amount: Result<Decimal, String>,
    pub payer_inn: String,
    pub payer_kpp: String,
    pub payer_name: String,
    pub payer_account: String,
    pub payee_inn: String,
    pub payee_account: String,
    pub purpose: String,
}

impl BankDoc {
    /// The key that makes a bank document unique: number, date, payer's INN and account, amount.
    pub fn bank_ref(&self) -> String {
        let amount = self.amount.as_ref().map(|a| a.to_string()).unwrap_or_default();
        let date = self.date.map(|d| d.to_string()).unwrap_or_default();
        format!("{}|{}|{}|{}|{}", self.number, date, self.payer_inn, self.payer_account, amount)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub encoding: &'static str,
    pub account: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub documents: Vec<BankDoc>,
}

/// Files larger than this are not statements a bank client writes for a day or a month.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
const MAX_DOCUMENTS: usize = 50_000;

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%d.%m.%Y").ok()
}

/// Decodes the file as its `Кодировка=` line says.
fn decode(bytes: &[u8]) -> Result<(String, &'static str), String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(|s| (s.to_owned(), "UTF-8"))
            .map_err(|_| "the file starts as UTF-8 but is not valid UTF-8".to_string());
    }
    if !bytes.starts_with(b"1CClientBankExchange") {
        return Err("this is not a 1C client-bank statement: the first line must be 1CClientBankExchange".into());
    }
    // The keys are Cyrillic, so look for the encoding line in each candidate encoding.
    let declared = ["Windows", "DOS", "UTF-8", "UTF8"]
        .into_iter()
        .find(|name| {
            let line_1251 = encoding_rs::WINDOWS_1251.encode(&format!("Кодировка={name}")).0.into_owned();
            let line_866 = encoding_rs::IBM866.encode(&format!("Кодировка={name}")).0.into_owned();
            let line_utf8 = format!("Кодировка={name}").into_bytes();
            [line_1251, line_866, line_utf8].iter().any(|l| bytes.windows(l.len()).any(|w| w == l.as_slice()))
        })
        .unwrap_or("Windows");
    let utf8 = std::str::from_utf8(bytes).ok();
    let non_ascii = bytes.iter().any(|b| *b >= 0x80);
    match declared {
        "UTF-8" | "UTF8" => utf8.map(|s| (s.to_owned(), "UTF-8")).ok_or_else(|| "the file declares Кодировка=UTF-8 but is not valid UTF-8".into()),
        // Cyrillic in windows-1251 or cp866 is practically never valid UTF-8: such a file was
        // re-saved in another encoding than the one it declares.
        _ if non_ascii && utf8.is_some() => Err(format!(
            "the file declares Кодировка={declared} but is written in UTF-8: export it from the bank client again without converting it"
        )),
        "DOS" => Ok((encoding_rs::IBM866.decode_without_bom_handling(bytes).0.into_owned(), "cp866")),
        _ => Ok((encoding_rs::WINDOWS_1251.decode_without_bom_handling(bytes).0.into_owned(), "windows-1251")),
    }
}

/// Parses a statement file; every problem that makes the file unusable is an error.
pub fn parse(bytes: &[u8]) -> Result<Statement, String> {
    if bytes.len() > MAX_BYTES {
        return Err("the file is larger than 20 MB".into());
    }
    let (text, encoding) = decode(bytes)?;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some("1CClientBankExchange") {
        return Err("this is not a 1C client-bank statement: the first line must be 1CClientBankExchange".into());
    }
    let mut st = Statement { encoding, account: String::new(), from: None, to: None, documents: Vec::new() };
    let mut doc: Option<Vec<(String, String)>> = None;
    let mut in_account = false;
    let mut ended = false;
    for (n, line) in lines.enumerate() {
        if ended {
            return Err(format!("line {}: text after КонецФайла", n + 2));
        }
        let (key, value) = line.split_once('=').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((line, ""));
        match key {
            "КонецФайла" => {
                if doc.is_some() {
                    return Err("the file is truncated: a document has no КонецДокумента".into());
                }
                ended = true;
            }
            "СекцияДокумент" => {
                if doc.is_some() {
                    return Err(format!(
                        "line {}: a document starts before the previous one ends (КонецДокумента missing)",
                        n + 2
                    ));
                }
                doc = Some(vec![("СекцияДокумент".into(), value.to_owned())]);
            }
            "КонецДокумента" => {
                let fields =
                    doc.take().ok_or_else(|| format!("line {}: КонецДокумента without СекцияДокумент", n + 2))?;
                if st.documents.len() >= MAX_DOCUMENTS {
                    return Err("more than 50,000 documents in one file".into());
                }
                st.documents.push(document(st.documents.len() + 1, &fields));
            }
            "СекцияРасчСчет" => in_account = true,
            "КонецРасчСчет" => in_account = false,
            _ => match doc.as_mut() {
                Some(fields) => fields.push((key.to_owned(), value.to_owned())),
                None => match key {
                    "РасчСчет" if st.account.is_empty() || in_account => st.account = value.to_owned(),
                    "ДатаНачала" if st.from.is_none() => st.from = date(value),
                    "ДатаКонца" if st.to.is_none() => st.to = date(value),
                    _ => {}
                },
            },
        }
    }
    if !ended {
        return Err("the file is truncated: it does not end with КонецФайла".into());
    }
    Ok(st)
}

fn document(index: usize, fields: &[(String, String)]) -> BankDoc {
    let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let first = |keys: &[&str]| keys.iter().map(|k| get(k)).find(|v| !v.is_empty()).unwrap_or_default();
    BankDoc {
        index,
        kind: get("СекцияДокумент"),
        number: get("Номер"),
        date: date(&get("Дата")),
        received: date(&get("ДатаПоступило")),
        amount: parse_amount(&get("Сумма").replace(',', ".")),
        payer_inn: get("ПлательщикИНН"),
        payer_kpp: get("ПлательщикКПП"),
        payer_name: first(&["Плательщик1", "Плательщик"]),
        payer_account: first(&["ПлательщикСчет", "ПлательщикРасчСчет"]),
        payee_inn: get("ПолучательИНН"),
        payee_account: first(&["ПолучательСчет", "ПолучательРасчСчет"]),
        purpose: [get("НазначениеПлатежа"), get("НазначениеПлатежа1"), get("НазначениеПлатежа2")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Invoice numbers a payment purpose names: the token after «№», «N» or «No» that follows
/// «счет»/«счёт»/«сч.» (and "invoice"), e.g. «Оплата по счету № 2026-15 от 20.11.2026».
pub fn invoice_numbers(purpose: &str) -> Vec<String> {
    let lower = purpose.to_lowercase().replace('ё', "е");
    let mut out = Vec::new();
    for marker in ["счет", "сч.", "invoice", "inv."] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(marker) {
            let start = from + at + marker.len();
            from = start;
            let rest = &lower[start..];
            let rest = rest.trim_start_matches(|c: char| c.is_alphabetic() && c != 'n' || c == '.' || c == ' ');
            let rest = rest
                .strip_prefix('№')
                .or_else(|| rest.strip_prefix("no"))
                .or_else(|| rest.strip_prefix('n'))
                .map(|r| r.trim_start_matches(['.', ' ', ':']))
                .unwrap_or(rest);
            let token: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '/').collect();
            if token.chars().any(|c| c.is_ascii_digit()) && !out.contains(&token) {
                out.push(token.to_uppercase());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SAMPLE: &str = "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\nОтправитель=Сбербанк Бизнес Онлайн\r\n\
ДатаНачала=01.11.2026\r\nДатаКонца=27.11.2026\r\nРасчСчет=40702810200000000001\r\nСекцияРасчСчет\r\nДатаНачала=01.11.2026\r\n\
РасчСчет=40702810200000000001\r\nНачальныйОстаток=0.00\r\nКонецРасчСчет\r\nСекцияДокумент=Платежное поручение\r\nНомер=512\r\n\
Дата=25.11.2026\r\nСумма=1500.50\r\nПлательщикСчет=40702810900000000002\r\nПлательщикИНН=7707083893\r\n\
Плательщик1=ООО \"Покупатель\"\r\nПолучательСчет=40702810200000000001\r\nДатаПоступило=26.11.2026\r\nПолучательИНН=7701234567\r\n\
НазначениеПлатежа=Оплата по счёту № 15 от 20.11.2026, в т.ч. НДС 20% - 250.08\r\nКонецДокумента\r\nКонецФайла\r\n";

    fn cp1251(s: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1251.encode(s).0.into_owned()
    }

    #[test]
    fn windows_1251_statement_is_read() {
        let st = parse(&cp1251(SAMPLE)).expect("statement");
        assert_eq!(st.encoding, "windows-1251");
        assert_eq!(st.account, "40702810200000000001");
        assert_eq!(st.documents.len(), 1);
        let d = &st.documents[0];
        assert_eq!(d.number, "512");
        assert_eq!(d.amount, Ok(Decimal::new(150050, 2)));
        assert_eq!(d.payer_inn, "7707083893");
        assert_eq!(d.payer_name, "ООО \"Покупатель\"");
        assert_eq!(d.received, NaiveDate::from_ymd_opt(2026, 11, 26));
        assert_eq!(invoice_numbers(&d.purpose), vec!["15"]);
    }

    #[test]
    fn wrong_encoding_and_truncation_are_refused() {
        let err = parse(SAMPLE.as_bytes()).expect_err("UTF-8 declared as Windows");
        assert!(err.contains("UTF-8"), "{err}");
        let bytes = cp1251(SAMPLE);
        let cut = &bytes[..bytes.len() - 40];
        assert!(parse(cut).expect_err("truncated").contains("truncated"));
        let no_end = cp1251(&SAMPLE.replace("КонецДокумента\r\n", ""));
        assert!(parse(&no_end).expect_err("open document").contains("КонецДокумента"));
        assert!(parse(b"hello").expect_err("not a statement").contains("1CClientBankExchange"));
        let utf8 = SAMPLE.replace("Кодировка=Windows", "Кодировка=UTF-8");
        assert_eq!(parse(utf8.as_bytes()).expect("declared UTF-8").documents.len(), 1);
        let dos = encoding_rs::IBM866.encode(&SAMPLE.replace("Кодировка=Windows", "Кодировка=DOS")).0.into_owned();
        assert_eq!(parse(&dos).expect("cp866").documents[0].payer_name, "ООО \"Покупатель\"");
    }

    #[test]
    fn invoice_numbers_in_purposes() {
        assert_eq!(invoice_numbers("Оплата по счету №15 от 20.11.2026"), vec!["15"]);
        assert_eq!(invoice_numbers("Оплата по сч. N 2026-7, без НДС"), vec!["2026-7"]);
        assert_eq!(invoice_numbers("Оплата счёта № 15 и счета № 16"), vec!["15", "16"]);
        assert_eq!(invoice_numbers("Payment of invoice No. 42"), vec!["42"]);
        assert!(invoice_numbers("Оплата по договору 5 от 01.01.2026").is_empty());
    }
}
