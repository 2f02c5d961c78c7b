//! From parsed CommerceML values to values our tables accept: SKUs (the `products.sku`
//! pattern, unique), units (OKEI codes), VAT rates, barcodes, codes derived from 1C ids.
//! Pure functions, unit-tested below.

use std::collections::HashSet;

use rust_decimal::{Decimal, RoundingStrategy};
use sha2::{Digest, Sha256};

use crate::exchange::commerceml::{Characteristic, Unit};

/// Longest SKU `products.sku` accepts.
const SKU_MAX: usize = 64;

/// Hex of the SHA-256 of `s`, cut to `n` characters: stable codes from any 1C id.
pub fn short_hash(s: &str, n: usize) -> String {
    let mut h = hex::encode(Sha256::digest(s.as_bytes()));
    h.truncate(n);
    h
}

/// A category or warehouse code (`^[a-z0-9][a-z0-9_-]{0,39}$`) for a 1C id.
pub fn code_for(external_id: &str) -> String {
    format!("1c-{}", short_hash(external_id, 16))
}

/// An attribute code (`^[a-z][a-z0-9_]{0,39}$`) for a 1C property id.
pub fn attribute_code(external_id: &str) -> String {
    format!("x1c_{}", short_hash(external_id, 16))
}

fn sku_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

/// `raw` made into a SKU: letters and digits kept, `._/-` kept inside, anything else a `-`.
/// `None` when nothing usable is left.
pub fn sku_from(raw: &str) -> Option<String> {
    let mut out = String::new();
    for c in raw.trim().chars() {
        if sku_char(c) || (!out.is_empty() && matches!(c, '.' | '_' | '/' | '-')) {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out.chars().take(SKU_MAX).collect();
    while out.ends_with(|c: char| !sku_char(c)) {
        out.pop();
    }
    (!out.is_empty()).then_some(out)
}

/// SKUs handed out in one file, compared case-insensitively as the unique index does.
#[derive(Default)]
pub struct SkuSet(HashSet<String>);

impl SkuSet {
    /// The SKU for a product: its article, else `1C-` and the start of its id; a taken one
    /// gets `-` and a hash of the 1C id appended.
    pub fn take(&mut self, article: Option<&str>, suffix: &[String], external_id: &str) -> String {
        let base = article.and_then(sku_from).unwrap_or_else(|| {
            let id: String = external_id.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
            format!("1C-{}", id.to_uppercase())
        });
        let mut sku = base.clone();
        for part in suffix.iter().filter_map(|s| sku_from(s)) {
            sku = format!("{sku}-{part}");
        }
        let mut sku: String = sku.chars().take(SKU_MAX).collect();
        if self.0.contains(&sku.to_lowercase()) {
            sku = unique_variant(&sku, external_id);
        }
        self.0.insert(sku.to_lowercase());
        sku
    }
}

/// `sku` cut to leave room for `-` and a hash of the 1C id (used again in SQL when the SKU
/// belongs to another product already in the database).
pub fn unique_variant(sku: &str, external_id: &str) -> String {
    let head: String = sku.chars().take(SKU_MAX - 7).collect();
    format!("{}-{}", head.trim_end_matches(|c: char| !sku_char(c)), short_hash(external_id, 6))
}

/// Our unit for a 1C base unit: by OKEI code, else by its short name; `None` = unknown.
pub fn unit_of(u: &Unit) -> Option<&'static str> {
    let by_code = match u.code.as_deref().map(str::trim) {
        Some("796") => Some("pcs"),
        Some("006") => Some("m"),
        Some("055") => Some("m2"),
        Some("113") => Some("m3"),
        Some("166") => Some("kg"),
        Some("112") => Some("l"),
        Some("778") => Some("pack"),
        Some("704") => Some("set"),
        Some("736") => Some("roll"),
        _ => None,
    };
    by_code.or_else(|| match u.name.as_deref().map(|n| n.trim().trim_end_matches('.').to_lowercase()).as_deref() {
        Some("шт") => Some("pcs"),
        Some("м") => Some("m"),
        Some("м2") | Some("кв.м") | Some("м²") => Some("m2"),
        Some("м3") | Some("куб.м") | Some("м³") => Some("m3"),
        Some("кг") => Some("kg"),
        Some("л") => Some("l"),
        Some("упак") => Some("pack"),
        Some("компл") => Some("set"),
        Some("рул") => Some("roll"),
        _ => None,
    })
}

/// Our VAT rate for a 1C `Ставка`; the second value says it was an old rate taken as today's.
pub fn vat_of(raw: &str) -> Option<(&'static str, bool)> {
    let r = raw.trim().trim_end_matches('%').trim().to_lowercase();
    match r.as_str() {
        "20" => Some(("20", false)),
        "10" => Some(("10", false)),
        "0" => Some(("0", false)),
        "18" => Some(("20", true)),
        _ if r.starts_with("без") || r == "none" => Some(("none", false)),
        _ => None,
    }
}

/// A barcode `product_barcodes` accepts: 8–14 digits with a right GTIN check digit.
pub fn valid_barcode(raw: &str) -> Option<String> {
    let b = raw.trim();
    if !(8..=14).contains(&b.len()) || !b.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits: Vec<u32> = b.bytes().map(|c| u32::from(c - b'0')).collect();
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d }).sum();
    ((10 - sum % 10) % 10 == check[0]).then(|| b.to_owned())
}

/// "Размер: 40; Цвет: белый"
pub fn variant_label(chars: &[Characteristic]) -> String {
    let label = chars
        .iter()
        .filter(|c| !c.value.is_empty())
        .map(|c| if c.name.is_empty() { c.value.clone() } else { format!("{}: {}", c.name, c.value) })
        .collect::<Vec<_>>()
        .join("; ");
    label.chars().take(300).collect()
}

/// The currency as we name it: `руб`, `RUR`, `643` are `RUB`.
pub fn currency_code(raw: &str) -> String {
    let c = raw.trim().trim_end_matches('.').to_uppercase();
    match c.as_str() {
        "РУБ" | "RUR" | "643" | "RUB" => "RUB".into(),
        "USD" | "840" | "$" => "USD".into(),
        "EUR" | "978" | "€" => "EUR".into(),
        _ => c,
    }
}

/// The price of one of our units: 1C's `ЦенаЗаЕдиницу` is for `Коэффициент` base units,
/// so it is divided by the coefficient and rounded half-up to kopecks.
pub fn unit_price(amount: Decimal, coefficient: Option<Decimal>) -> Option<Decimal> {
    let k = coefficient.unwrap_or(Decimal::ONE);
    if k <= Decimal::ZERO || amount < Decimal::ZERO {
        return None;
    }
    Some((amount / k).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

/// A text cut to `n` characters.
pub fn cut(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_follow_the_pattern_and_stay_unique() {
        assert_eq!(sku_from("Б-130001").as_deref(), Some("Б-130001"));
        assert_eq!(sku_from("  /AB 12 (x)  ").as_deref(), Some("AB-12-x"));
        assert_eq!(sku_from("***"), None);
        let mut set = SkuSet::default();
        assert_eq!(set.take(Some("A 1"), &[], "g1"), "A-1");
        let again = set.take(Some("a-1"), &[], "g2");
        assert!(again.starts_with("a-1-") && again.len() == 10, "{again}");
        assert_eq!(set.take(None, &[], "05e26d70-01e4"), "1C-05E26D70");
        assert_eq!(set.take(Some("Б-1"), &["40".into()], "p#v"), "Б-1-40");
        let long = "X".repeat(80);
        assert_eq!(set.take(Some(&long), &[], "g3").chars().count(), 64);
    }

    #[test]
    fn units_vat_barcodes_prices() {
        let u = |code: &str| Unit { code: Some(code.into()), ..Unit::default() };
        assert_eq!(unit_of(&u("796 ")), Some("pcs"));
        assert_eq!(unit_of(&u("166")), Some("kg"));
        assert_eq!(unit_of(&u("715")), None);
        assert_eq!(unit_of(&Unit { name: Some("упак".into()), ..Unit::default() }), Some("pack"));
        assert_eq!(vat_of("Без НДС"), Some(("none", false)));
        assert_eq!(vat_of("18"), Some(("20", true)));
        assert_eq!(vat_of("12"), None);
        assert_eq!(valid_barcode("2000018987155").as_deref(), Some("2000018987155"));
        assert_eq!(valid_barcode("2000018987156"), None);
        assert_eq!(valid_barcode("12ab5678"), None);
        assert_eq!(currency_code("руб."), "RUB");
        let d = |s: &str| s.parse::<Decimal>().expect("decimal");
        assert_eq!(unit_price(d("100"), Some(d("3"))), Some(d("33.33")));
        assert_eq!(unit_price(d("0.125"), None), Some(d("0.13")));
        assert_eq!(unit_price(d("5"), Some(Decimal::ZERO)), None);
        assert!(code_for("any id").len() <= 40 && attribute_code("x").starts_with("x1c_"));
    }
}
