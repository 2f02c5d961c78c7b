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

    use proptest::prelude::*;

    fn kopecks() -> impl Strategy<Value = Decimal> {
        (1i64..10_000_000).prop_map(|k| Decimal::new(k, 2))
    }
    /// Whole pieces (1..1000) or metres with up to three decimals.
    fn quantity() -> impl Strategy<Value = Decimal> {
        prop_oneof![(1i64..1000).prop_map(Decimal::from), (1i64..1_000_000).prop_map(|k| Decimal::new(k, 3))]
    }
    fn rate() -> impl Strategy<Value = VatRate> {
        prop_oneof![Just(VatRate::R20), Just(VatRate::R10), Just(VatRate::R0), Just(VatRate::None)]
    }
    fn priced(price: Decimal, rate: VatRate, mode: VatMode) -> Breakdown {
        crate::pricing::engine::compute(&crate::pricing::engine::Inputs {
            base: price,
            group: None,
            contract: None,
            breaks: vec![],
            customer_discount: Decimal::ZERO,
            promotions: vec![],
            vat_rate: rate,
            vat_mode: mode,
            qty: Decimal::ONE,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        // T18: a document of up to 30 lines adds up in kopecks, whatever the VAT mode.
        #[test]
        fn document_totals_are_the_sum_of_their_lines_in_kopecks(
            lines in proptest::collection::vec((kopecks(), quantity(), rate()), 1..30), included in any::<bool>(),
        ) {
            let mode = if included { VatMode::Included } else { VatMode::Excluded };
            let mut totals = Totals::default();
            let (mut payable, mut vat) = (Decimal::ZERO, Decimal::ZERO);
            for (price, qty, r) in &lines {
                let m = money(&priced(*price, *r, mode), *qty, *r, mode);
                for x in [m.price, m.amount, m.vat, m.payable] {
                    prop_assert!(x >= Decimal::ZERO && x.scale() <= 2, "{x}");
                }
                // Net + VAT = what is paid: VAT inside the amount, or on top of it.
                match mode {
                    VatMode::Included => prop_assert!(m.payable == m.amount && m.vat <= m.amount),
                    VatMode::Excluded => prop_assert_eq!(m.payable, m.amount + m.vat),
                }
                payable += m.payable;
                vat += m.vat;
                totals.add(&m);
            }
            prop_assert_eq!(totals.total, payable);
            prop_assert_eq!(totals.vat_total, vat);
            prop_assert_eq!(totals.lines, lines.len());
            // A card processor gets exactly the total in kopecks.
            let minor = crate::money::minor_units(totals.total);
            prop_assert_eq!(minor.map(|m| Decimal::new(m, 2)), Some(totals.total));
        }

        // T18: a line's amount is price × quantity rounded half-up to kopecks, never to even.
        #[test]
        fn line_amounts_round_half_up(price in kopecks(), milli in 1i64..1_000_000) {
            let qty = Decimal::new(milli, 3);
            // Exact: kopecks × thousandths = 10^-5 roubles; half-up to kopecks on integers.
            let exact = i128::from(price.mantissa() as i64) * i128::from(milli);
            let expected = (exact + 500) / 1000;
            prop_assert_eq!(crate::pricing::line_amount(price, qty), Decimal::new(expected as i64, 2));
        }

        // T18: a price entered with VAT and the same price entered without it (rounded to
        // kopecks) cost the buyer the same, within the rounding of the unit price times the
        // quantity plus a kopeck.
        #[test]
        fn prices_with_and_without_vat_agree(gross in kopecks(), qty in 1i64..1000, r in rate()) {
            let q = Decimal::from(qty);
            let pct = r.percent();
            let net = crate::pricing::round_money(gross * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + pct));
            let inc = money(&priced(gross, r, VatMode::Included), q, r, VatMode::Included);
            let exc = money(&priced(net, r, VatMode::Excluded), q, r, VatMode::Excluded);
            let bound = Decimal::new(5, 3) * q * (Decimal::ONE_HUNDRED + pct) / Decimal::ONE_HUNDRED + Decimal::new(2, 2);
            prop_assert!((inc.payable - exc.payable).abs() <= bound, "{} vs {} (bound {bound})", inc.payable, exc.payable);
        }
    }
}
