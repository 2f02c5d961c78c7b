//! Money at the edges: decimal strings, never floats.

use std::str::FromStr;

use rust_decimal::Decimal;

/// Parses an amount like `"1234.50"`: at most 2 decimal places, 0 ≤ amount ≤ 10^13.
pub fn parse_amount(input: &str) -> Result<Decimal, String> {
    let s = input.trim();
    let valid_chars = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') && s.matches('.').count() <= 1;
    let value = if valid_chars { Decimal::from_str(s).ok() } else { None };
    match value {
        Some(v) if v.scale() > 2 => Err("must have at most 2 decimal places".into()),
        Some(v) if v > Decimal::from(10_000_000_000_000_i64) => Err("is too large".into()),
        Some(v) => Ok(v),
        None => Err("must be a non-negative amount like 1234.50".into()),
    }
}

/// Parses a percentage between 0 and 100 with at most 2 decimal places.
pub fn parse_percent(input: &str) -> Result<Decimal, String> {
    let v = parse_amount(input).map_err(|_| "must be a percentage like 7.5".to_string())?;
    if v > Decimal::from(100) {
        return Err("must be at most 100".into());
    }
    Ok(v)
}

/// An amount as text (`-44500.00`) with its thousands grouped as `lang` writes them:
/// `-44 500,00` in Russian (a no-break space), `-44,500.00` in English. Anything that is
/// not such an amount comes back as it is.
pub fn grouped(s: &str, lang: &str) -> String {
    let (sign, digits) = s.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", s));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return s.to_owned();
    }
    let (group, point) = if lang == "ru" { ('\u{a0}', ',') } else { (',', '.') };
    let mut out = String::from(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(point);
        out.push_str(frac);
    }
    out
}

/// An amount in minor units (kopecks, cents), as card processors take it: `None` when it has
/// more than two decimal places, is negative, or does not fit.
pub fn minor_units(amount: Decimal) -> Option<i64> {
    if amount.is_sign_negative() || amount.scale() > 2 {
        return None;
    }
    let minor = amount * Decimal::ONE_HUNDRED;
    minor.normalize().to_string().parse::<i64>().ok()
}

/// Formats with exactly two decimal places.
pub fn format(amount: Decimal) -> String {
    format!("{:.2}", amount)
}

/// A quantity without trailing zeros: `10`, `2.5`, `0.125`.
pub fn format_qty(qty: Decimal) -> String {
    qty.normalize().to_string()
}

/// Parses a quantity: positive, at most 3 decimal places, below 10^9. Accepts a decimal comma.
pub fn parse_qty(input: &str) -> Result<Decimal, String> {
    let s = input.trim().replace(',', ".");
    let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') && s.matches('.').count() <= 1;
    match if ok { Decimal::from_str(&s).ok() } else { None } {
        Some(v) if v.scale() > 3 && v.normalize().scale() > 3 => Err("must have at most 3 decimal places".into()),
        Some(v) if v <= Decimal::ZERO => Err("must be greater than zero".into()),
        Some(v) if v >= Decimal::from(1_000_000_000) => Err("is too large".into()),
        Some(v) => Ok(v.normalize()),
        None => Err("must be a number like 10 or 2.5".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_are_exact_or_refused() {
        let d = |s: &str| Decimal::from_str(s).expect("decimal");
        assert_eq!(minor_units(d("1234.50")), Some(123_450));
        assert_eq!(minor_units(d("0.01")), Some(1));
        assert_eq!(minor_units(d("7")), Some(700));
        assert_eq!(minor_units(d("1.005")), None, "more than kopecks");
        assert_eq!(minor_units(d("-1.00")), None);
    }

    #[test]
    fn amounts_are_grouped_as_each_language_writes_them() {
        assert_eq!(grouped("-44500.00", "ru"), "-44\u{a0}500,00");
        assert_eq!(grouped("-44500.00", "en"), "-44,500.00");
        assert_eq!(grouped("1234567.5", "en"), "1,234,567.5");
        assert_eq!(grouped("999.99", "ru"), "999,99");
        assert_eq!(grouped("100000", "ru"), "100\u{a0}000");
        assert_eq!(grouped("0.00", "en"), "0.00");
        for odd in ["", "-", "abc", "1e3", "12.3x"] {
            assert_eq!(grouped(odd, "ru"), odd);
        }
    }

    #[test]
    fn amounts_are_decimal_strings_with_cents() {
        assert_eq!(parse_amount("1234.50").map(format), Ok("1234.50".to_string()));
        assert_eq!(parse_amount("0").map(format), Ok("0.00".to_string()));
        for bad in ["", "-1", "1.234", "1e3", "12,50", "abc", "1.2.3", "100000000000000"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        assert!(parse_percent("100.01").is_err());
        assert_eq!(parse_percent("7.5").map(format), Ok("7.50".to_string()));
    }
}
