//! Order quantities and priced lines: the checks a quantity must pass for a product (whole
//! pieces, minimum, multiple) and a line's amount and VAT from its breakdown.

use rust_decimal::Decimal;

use crate::catalog::products::Product;
use crate::money::{format, format_qty};
use crate::pricing::{line_amount, vat_of, Breakdown, VatMode, VatRate};

/// Units that are counted, never measured: their quantities are whole numbers.
pub const COUNTED_UNITS: &[&str] = &["pcs", "pack", "set", "roll"];

/// Why a quantity cannot be ordered, as `(code, message)`.
pub fn check_qty(p: &Product, qty: Decimal) -> Result<(), (&'static str, String)> {
    if qty <= Decimal::ZERO {
        return Err(("invalid_qty", "must be greater than zero".into()));
    }
    if qty >= Decimal::from(1_000_000_000) {
        return Err(("invalid_qty", "is too large".into()));
    }
    if COUNTED_UNITS.contains(&p.unit.as_str()) && !qty.fract().is_zero() {
        return Err(("whole_units", format!("must be a whole number ({})", p.unit)));
    }
    if qty < p.min_qty {
        return Err(("below_minimum", format!("the minimum order is {} {}", format_qty(p.min_qty), p.unit)));
    }
    if p.order_multiple > Decimal::ZERO && !(qty % p.order_multiple).is_zero() {
        return Err(("not_a_multiple", format!("must be a multiple of {} {}", format_qty(p.order_multiple), p.unit)));
    }
    Ok(())
}

/// Whether a product can be ordered now (`order`), or only pre-ordered.
pub fn orderable(p: &Product) -> Result<(), (&'static str, String)> {
    let today = chrono::Utc::now().date_naive();
    match p.status.as_str() {
        "archived" => Err(("archived", "is no longer sold".into())),
        "upcoming" if p.available_from.is_none_or(|d| d > today) => {
            Err(("upcoming", "is not on sale yet: pre-order it".into()))
        }
        _ => Ok(()),
    }
}

/// A line's money: `amount` = price × qty (half-up), `vat` in or on it, `payable` what the
/// buyer pays for it (amount, plus VAT when prices exclude it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub price: Decimal,
    pub amount: Decimal,
    pub vat: Decimal,
    pub payable: Decimal,
}

pub fn money(b: &Breakdown, qty: Decimal, vat: VatRate, mode: VatMode) -> Money {
    let amount = line_amount(b.final_price, qty);
    let v = vat_of(amount, vat, mode);
    let payable = match mode {
        VatMode::Included => amount,
        VatMode::Excluded => amount + v,
    };
    Money { price: b.final_price, amount, vat: v, payable }
}

/// Totals of several lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub total: Decimal,
    pub vat_total: Decimal,
    pub lines: usize,
}

impl Totals {
    pub fn add(&mut self, m: &Money) {
        self.total += m.payable;
        self.vat_total += m.vat;
        self.lines += 1;
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"total": format(self.total), "vat_total": format(self.vat_total), "lines": self.lines})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn product(unit: &str, min: &str, multiple: &str) -> Product {
        Product {
            id: 1,
            sku: "A".into(),
            name: "A".into(),
            description: String::new(),
            brand: String::new(),
            category_id: None,
            unit: unit.into(),
            pack_size: Decimal::ONE,
            min_qty: d(min),
            order_multiple: d(multiple),
            weight_kg: None,
            volume_m3: None,
            vat_rate: "20".into(),
            price: d("100"),
            status: "active".into(),
            available_from: None,
            attributes: serde_json::json!({}),
            i18n: serde_json::json!({}),
            stock_available: d("10"),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn quantities_are_checked_against_the_product() {
        let pcs = product("pcs", "10", "5");
        assert_eq!(check_qty(&pcs, d("15")), Ok(()));
        assert_eq!(check_qty(&pcs, d("2.5")).map_err(|e| e.0), Err("whole_units"));
        assert_eq!(check_qty(&pcs, d("5")).map_err(|e| e.0), Err("below_minimum"));
        assert_eq!(check_qty(&pcs, d("12")).map_err(|e| e.0), Err("not_a_multiple"));
        assert_eq!(check_qty(&pcs, d("0")).map_err(|e| e.0), Err("invalid_qty"));
        assert_eq!(check_qty(&pcs, d("-5")).map_err(|e| e.0), Err("invalid_qty"));
        assert_eq!(check_qty(&pcs, d("1000000000")).map_err(|e| e.0), Err("invalid_qty"));
        let metres = product("m", "0.5", "0.1");
        assert_eq!(check_qty(&metres, d("2.7")), Ok(()));
        assert_eq!(check_qty(&metres, d("2.75")).map_err(|e| e.0), Err("not_a_multiple"));
    }
}
