//! The pricing engine: what one buyer pays for one product, and why.
//!
//! Order of application (each step works on the previous step's price, rounded half-up to
//! kopecks, so the breakdown a buyer sees adds up exactly):
//! 1. **Base price**: the product's price of the `base` price type.
//! 2. **Price type** of the buyer's customer group (dealer, wholesale …) replaces the base
//!    price when the product has a price of that type.
//! 3. **Contract price**: an individual price of the buyer's company, valid today, replaces
//!    the price; it is final: steps 4–6 do not apply on top of it.
//! 4. **Quantity break**: from a quantity the price is lower by a percentage (the largest
//!    break the quantity reaches).
//! 5. **Group discount** of the customer group, in percent.
//! 6. **Customer discount** (individual loyalty terms), in percent.
//! 7. **Promotion**: a running promotion for the product, its category or the buyer's group
//!    (percent off the step-2 price, or a fixed price) replaces the result only when it is
//!    cheaper. Promotions never stack with each other; the cheapest one wins.
//!
//! VAT is then derived per unit: with prices entered including VAT (the default) the VAT
//! part is `price × rate / (100 + rate)`; otherwise `price × rate / 100` is added.

pub mod engine;
pub mod load;
pub mod manage;

use rust_decimal::{Decimal, RoundingStrategy};

pub use engine::{compute, Breakdown, GroupTerms, Inputs, Promo, Step};

/// Rounds half-up (away from zero at the midpoint) to kopecks. Never banker's rounding.
pub fn round_money(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `amount × percent / 100`, rounded half-up.
pub fn percent_of(amount: Decimal, percent: Decimal) -> Decimal {
    round_money(amount * percent / Decimal::ONE_HUNDRED)
}

/// A line amount: unit price × quantity, rounded half-up.
pub fn line_amount(unit_price: Decimal, qty: Decimal) -> Decimal {
    round_money(unit_price * qty)
}

/// VAT rates a product may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatRate {
    R20,
    R10,
    R0,
    None,
}

impl VatRate {
    pub fn parse(s: &str) -> Option<VatRate> {
        match s.trim().trim_end_matches('%') {
            "20" => Some(VatRate::R20),
            "10" => Some(VatRate::R10),
            "0" => Some(VatRate::R0),
            "none" | "без НДС" => Some(VatRate::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VatRate::R20 => "20",
            VatRate::R10 => "10",
            VatRate::R0 => "0",
            VatRate::None => "none",
        }
    }

    pub fn percent(self) -> Decimal {
        match self {
            VatRate::R20 => Decimal::from(20),
            VatRate::R10 => Decimal::from(10),
            VatRate::R0 | VatRate::None => Decimal::ZERO,
        }
    }
}

/// Whether entered prices include VAT (tenant setting `vat_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatMode {
    Included,
    Excluded,
}

impl VatMode {
    pub fn parse(s: &str) -> Option<VatMode> {
        match s {
            "included" => Some(VatMode::Included),
            "excluded" => Some(VatMode::Excluded),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VatMode::Included => "included",
            VatMode::Excluded => "excluded",
        }
    }
}

/// The VAT in `amount` (included mode) or on top of it (excluded mode), rounded half-up.
pub fn vat_of(amount: Decimal, rate: VatRate, mode: VatMode) -> Decimal {
    let r = rate.percent();
    match mode {
        VatMode::Included => round_money(amount * r / (Decimal::ONE_HUNDRED + r)),
        VatMode::Excluded => percent_of(amount, r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn rounding_is_half_up_not_bankers() {
        assert_eq!(round_money(d("0.125")), d("0.13"));
        assert_eq!(round_money(d("0.135")), d("0.14"));
        assert_eq!(round_money(d("2.5050")), d("2.51"));
        assert_eq!(round_money(d("2.5049")), d("2.50"));
        // rust_decimal's default `round_dp` would give 0.12 here.
        assert_eq!(d("0.125").round_dp(2), d("0.12"));
    }

    #[test]
    fn vat_included_and_excluded() {
        assert_eq!(vat_of(d("120.00"), VatRate::R20, VatMode::Included), d("20.00"));
        assert_eq!(vat_of(d("100.00"), VatRate::R20, VatMode::Excluded), d("20.00"));
        assert_eq!(vat_of(d("110.00"), VatRate::R10, VatMode::Included), d("10.00"));
        assert_eq!(vat_of(d("99.99"), VatRate::None, VatMode::Included), d("0"));
        assert_eq!(VatRate::parse("20%"), Some(VatRate::R20));
        assert_eq!(VatRate::parse("18"), None);
    }
}
