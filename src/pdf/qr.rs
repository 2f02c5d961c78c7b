//! The payment QR code of GOST R 56042-2014 («Стандарты финансовых операций. Двумерные
//! символы штрихового кода для осуществления платежей физическими лицами»), which banking
//! apps read to fill in a transfer: `ST0001` + encoding `2` (UTF-8), then `Key=Value` pairs
//! separated by `|`. Required: Name, PersonalAcc, BankName, BIC, CorrespAcc; we add the
//! payee's INN and KPP, the sum in kopecks, the purpose and the payer's INN.

use qrcode::{Color, EcLevel, QrCode};
use rust_decimal::Decimal;

use super::Doc;
use crate::money::minor_units;

/// What goes into the code.
pub struct Payment<'a> {
    pub name: &'a str,
    pub account: &'a str,
    pub bank: &'a str,
    pub bic: &'a str,
    pub correspondent: &'a str,
    pub inn: &'a str,
    pub kpp: &'a str,
    pub sum: Decimal,
    pub purpose: &'a str,
    pub payer_inn: &'a str,
}

/// A value as the format allows it: no separator, no line breaks, at most `max` characters.
fn clean(v: &str, max: usize) -> String {
    v.chars().map(|c| if c == '|' || c.is_control() { ' ' } else { c }).take(max).collect::<String>().trim().to_owned()
}

/// The text of the code; `None` when a required detail is missing (no code is better than
/// one that fills in a wrong transfer).
pub fn payload(p: &Payment) -> Option<String> {
    let required = [
        ("Name", p.name, 160),
        ("PersonalAcc", p.account, 20),
        ("BankName", p.bank, 45),
        ("BIC", p.bic, 9),
        ("CorrespAcc", p.correspondent, 20),
    ];
    let mut out = String::from("ST00012");
    for (key, value, max) in required {
        let v = clean(value, max);
        if v.is_empty() {
            return None;
        }
        out.push_str(&format!("|{key}={v}"));
    }
    let sum = minor_units(p.sum).filter(|s| *s > 0)?;
    for (key, value, max) in [("PayeeINN", p.inn, 12), ("KPP", p.kpp, 9)] {
        let v = clean(value, max);
        if !v.is_empty() {
            out.push_str(&format!("|{key}={v}"));
        }
    }
    out.push_str(&format!("|Sum={sum}|Purpose={}", clean(p.purpose, 210)));
    let payer = clean(p.payer_inn, 12);
    if !payer.is_empty() {
        out.push_str(&format!("|PayerINN={payer}"));
    }
    Some(out)
}

/// Draws `text` as a QR code `side` points wide with its top-left corner at (x, y), with the
/// quiet zone inside the square. False when the text does not fit a QR code.
pub fn draw(doc: &mut Doc, x: f32, y: f32, side: f32, text: &str) -> bool {
    let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) else {
        return false;
    };
    let n = code.width();
    let colors = code.to_colors();
    let module = side / (n + 8) as f32;
    let (ox, oy) = (x + 4.0 * module, y + 4.0 * module);
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] != Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < n && colors[row * n + col] == Color::Dark {
                col += 1;
            }
            // A hair wider than the module, so no seams show between neighbours.
            doc.fill(
                ox + start as f32 * module,
                oy + row as f32 * module,
                (col - start) as f32 * module + 0.02,
                module + 0.02,
                0.0,
            );
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn payment(sum: &str) -> Payment<'static> {
        Payment {
            name: "ООО «Ромашка|Опт»",
            account: "40702810200000000001",
            bank: "ПАО Сбербанк",
            bic: "044525225",
            correspondent: "30101810400000000225",
            inn: "7701234567",
            kpp: "770101001",
            sum: Decimal::from_str(sum).expect("sum"),
            purpose: "Оплата по счёту № 12 от 27.11.2026\nв т.ч. НДС 20 %",
            payer_inn: "",
        }
    }

    #[test]
    fn payload_follows_gost_56042() {
        let p = payload(&payment("124500.50")).expect("payload");
        assert!(p.starts_with("ST00012|Name=ООО «Ромашка Опт»|PersonalAcc=40702810200000000001|BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225"), "{p}");
        assert!(p.contains("|Sum=12450050|"), "sum in kopecks: {p}");
        assert!(p.contains("|Purpose=Оплата по счёту № 12 от 27.11.2026 в т.ч. НДС 20 %"), "no line break: {p}");
        assert!(!p.contains("PayerINN"));
        assert_eq!(p.matches('|').count(), 9, "separators only between fields");
    }

    #[test]
    fn no_code_without_the_required_details_or_a_sum() {
        let mut p = payment("10");
        p.bic = "";
        assert!(payload(&p).is_none());
        assert!(payload(&payment("0")).is_none());
    }

    #[test]
    fn the_code_is_drawn() {
        let fonts = crate::pdf::tests::fonts();
        let mut doc = Doc::new(&fonts).expect("doc");
        let text = payload(&payment("1")).expect("payload");
        assert!(draw(&mut doc, 400.0, 40.0, 120.0, &text));
        let pdf = doc.finish("qr").expect("pdf");
        assert!(pdf.len() > 1000);
    }
}
