//! The pure part of the engine: inputs in, a price with its explanation out. No database,
//! no clock: the caller loads what applies today (see `load.rs`).

use rust_decimal::Decimal;
use serde::Serialize;

use super::{percent_of, vat_of, VatMode, VatRate};

/// The customer group a buyer belongs to, with the price of the group's type for this
/// product when there is one.
#[derive(Debug, Clone)]
pub struct GroupTerms {
    pub code: String,
    pub name: String,
    pub price_type: String,
    /// The price type's name as staff called it ("Дилерская").
    pub price_type_name: String,
    pub type_price: Option<Decimal>,
    pub discount_percent: Decimal,
}

/// A promotion that runs now for this product and buyer.
#[derive(Debug, Clone)]
pub struct Promo {
    pub id: i64,
    pub name: String,
    /// `true`: `value` is a percentage off; `false`: `value` is the price.
    pub percent: bool,
    pub value: Decimal,
}

#[derive(Debug, Clone)]
pub struct Inputs {
    pub base: Decimal,
    pub group: Option<GroupTerms>,
    /// The contract price of the buyer's company valid today.
    pub contract: Option<Decimal>,
    /// `(min_qty, discount_percent)`, any order.
    pub breaks: Vec<(Decimal, Decimal)>,
    pub customer_discount: Decimal,
    pub promotions: Vec<Promo>,
    pub vat_rate: VatRate,
    pub vat_mode: VatMode,
    pub qty: Decimal,
}

/// One line of "why this price".
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Step {
    /// `price_type`, `contract`, `quantity_break`, `group_discount`, `customer_discount`, `promotion`.
    pub kind: &'static str,
    /// The price type, group or promotion name; the break's quantity.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_money")]
    pub percent: Option<Decimal>,
    /// The change this step made (negative is cheaper).
    #[serde(with = "money")]
    pub amount: Decimal,
    /// The price after this step.
    #[serde(with = "money")]
    pub price: Decimal,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Breakdown {
    #[serde(with = "money")]
    pub base: Decimal,
    pub steps: Vec<Step>,
    /// The step that set the price (`base` when nothing applied).
    pub rule: String,
    #[serde(rename = "final", with = "money")]
    pub final_price: Decimal,
    pub vat_rate: &'static str,
    pub vat_mode: &'static str,
    #[serde(rename = "vat", with = "money")]
    pub vat_amount: Decimal,
    #[serde(with = "money")]
    pub price_without_vat: Decimal,
    #[serde(with = "money")]
    pub price_with_vat: Decimal,
    #[serde(with = "qty")]
    pub qty: Decimal,
}

mod qty {
    use rust_decimal::Decimal;
    pub fn serialize<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::money::format_qty(*d))
    }
}

mod money {
    use rust_decimal::Decimal;
    pub fn serialize<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::money::format(*d))
    }
}

mod opt_money {
    use rust_decimal::Decimal;
    pub fn serialize<S: serde::Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&crate::money::format(*d)),
            None => s.serialize_none(),
        }
    }
}

/// Applies a percentage discount as a step.
fn discount(price: Decimal, percent: Decimal, kind: &'static str, name: String, steps: &mut Vec<Step>) -> Decimal {
    if percent <= Decimal::ZERO {
        return price;
    }
    let cut = percent_of(price, percent).min(price);
    let after = price - cut;
    steps.push(Step { kind, name, percent: Some(percent), amount: -cut, price: after });
    after
}

/// The price for `inputs`, with every step that changed it.
pub fn compute(inputs: &Inputs) -> Breakdown {
    let base = inputs.base.max(Decimal::ZERO);
    let mut steps = Vec::new();
    let mut price = base;
    let mut rule = "base".to_string();

    if let Some(g) = &inputs.group {
        if let Some(p) = g.type_price.filter(|_| g.price_type != "base") {
            let p = p.max(Decimal::ZERO);
            steps.push(Step {
                kind: "price_type",
                name: g.price_type_name.clone(),
                percent: None,
                amount: p - price,
                price: p,
            });
            price = p;
            rule = format!("price_type:{}", g.price_type);
        }
    }
    let typed_price = price;

    if let Some(c) = inputs.contract {
        let c = c.max(Decimal::ZERO);
        steps.push(Step { kind: "contract", name: String::new(), percent: None, amount: c - price, price: c });
        price = c;
        rule = "contract".into();
    } else {
        let brk = inputs
            .breaks
            .iter()
            .filter(|(min, pct)| inputs.qty >= *min && *pct > Decimal::ZERO && *pct < Decimal::ONE_HUNDRED)
            .max_by_key(|(min, _)| *min);
        if let Some((min, pct)) = brk {
            price = discount(price, *pct, "quantity_break", crate::money::format_qty(*min), &mut steps);
            rule = "quantity_break".into();
        }
        if let Some(g) = &inputs.group {
            let before = price;
            price = discount(price, g.discount_percent, "group_discount", g.name.clone(), &mut steps);
            if price != before {
                rule = format!("group_discount:{}", g.code);
            }
        }
        let before = price;
        price = discount(price, inputs.customer_discount, "customer_discount", String::new(), &mut steps);
        if price != before {
            rule = "customer_discount".into();
        }
    }

    let best_promo = inputs
        .promotions
        .iter()
        .map(|p| {
            let candidate =
                if p.percent { typed_price - percent_of(typed_price, p.value).min(typed_price) } else { p.value };
            (candidate.max(Decimal::ZERO), p)
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    if let Some((candidate, p)) = best_promo {
        if candidate < price {
            steps.push(Step {
                kind: "promotion",
                name: p.name.clone(),
                percent: p.percent.then_some(p.value),
                amount: candidate - price,
                price: candidate,
            });
            price = candidate;
            rule = format!("promotion:{}", p.id);
        }
    }

    let vat = vat_of(price, inputs.vat_rate, inputs.vat_mode);
    let (without, with) = match inputs.vat_mode {
        VatMode::Included => (price - vat, price),
        VatMode::Excluded => (price, price + vat),
    };
    Breakdown {
        base,
        steps,
        rule,
        final_price: price,
        vat_rate: inputs.vat_rate.as_str(),
        vat_mode: inputs.vat_mode.as_str(),
        vat_amount: vat,
        price_without_vat: without,
        price_with_vat: with,
        qty: inputs.qty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn plain(base: &str) -> Inputs {
        Inputs {
            base: d(base),
            group: None,
            contract: None,
            breaks: vec![],
            customer_discount: Decimal::ZERO,
            promotions: vec![],
            vat_rate: VatRate::R20,
            vat_mode: VatMode::Included,
            qty: Decimal::ONE,
        }
    }

    fn dealer(type_price: Option<&str>, discount: &str) -> GroupTerms {
        GroupTerms {
            code: "dealer".into(),
            name: "Дилеры".into(),
            price_type: "dealer".into(),
            price_type_name: "Дилерская".into(),
            type_price: type_price.map(d),
            discount_percent: d(discount),
        }
    }

    #[test]
    fn a_guest_pays_the_base_price() {
        let b = compute(&plain("1200.00"));
        assert_eq!((b.final_price, b.rule.as_str(), b.steps.len()), (d("1200.00"), "base", 0));
        assert_eq!((b.vat_amount, b.price_without_vat), (d("200.00"), d("1000.00")));
    }

    #[test]
    fn the_documented_order_with_every_step() {
        let mut i = plain("1000.00");
        i.group = Some(dealer(Some("900.00"), "5"));
        i.breaks = vec![(d("10"), d("2")), (d("50"), d("4"))];
        i.customer_discount = d("3");
        i.qty = d("60");
        let b = compute(&i);
        let kinds: Vec<_> = b.steps.iter().map(|s| (s.kind, s.price)).collect();
        // 900 → −4 % = 864 → −5 % = 820.80 → −3 % (24.62) = 796.18
        assert_eq!(
            kinds,
            vec![
                ("price_type", d("900.00")),
                ("quantity_break", d("864.00")),
                ("group_discount", d("820.80")),
                ("customer_discount", d("796.18"))
            ]
        );
        assert_eq!(b.final_price, d("796.18"));
        assert_eq!(b.steps[0].name, "Дилерская", "the price list is named as staff named it");
        assert_eq!(b.rule, "customer_discount");
    }

    #[test]
    fn a_contract_price_is_final_but_a_cheaper_promotion_wins() {
        let mut i = plain("1000.00");
        i.group = Some(dealer(Some("900.00"), "10"));
        i.contract = Some(d("850.00"));
        i.customer_discount = d("5");
        let b = compute(&i);
        assert_eq!((b.final_price, b.rule.as_str()), (d("850.00"), "contract"));
        i.promotions = vec![Promo { id: 7, name: "Black Friday".into(), percent: true, value: d("10") }];
        // 10 % off the dealer price 900 is 810, cheaper than the contract's 850.
        let b = compute(&i);
        assert_eq!((b.final_price, b.rule.as_str()), (d("810.00"), "promotion:7"));
    }

    #[test]
    fn promotions_do_not_stack_and_only_help() {
        let mut i = plain("1000.00");
        i.promotions = vec![
            Promo { id: 1, name: "A".into(), percent: true, value: d("10") },
            Promo { id: 2, name: "B".into(), percent: false, value: d("880.00") },
            Promo { id: 3, name: "C".into(), percent: false, value: d("1100.00") },
        ];
        let b = compute(&i);
        assert_eq!((b.final_price, b.rule.as_str()), (d("880.00"), "promotion:2"));
        assert_eq!(b.steps.len(), 1);
    }

    #[test]
    fn a_group_without_a_price_of_its_type_keeps_the_base_price() {
        let mut i = plain("500.00");
        i.group = Some(dealer(None, "0"));
        let b = compute(&i);
        assert_eq!((b.final_price, b.rule.as_str()), (d("500.00"), "base"));
    }

    fn money() -> impl Strategy<Value = Decimal> {
        (0i64..100_000_000).prop_map(|k| Decimal::new(k, 2))
    }
    fn pct() -> impl Strategy<Value = Decimal> {
        (0i64..9_999).prop_map(|k| Decimal::new(k, 2))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn prices_are_kopecks_never_negative_and_the_steps_add_up(
            base in money(), type_price in proptest::option::of(money()), contract in proptest::option::of(money()),
            gd in pct(), cd in pct(), brk in pct(), qty in 1i64..1000, promo in proptest::option::of((any::<bool>(), pct(), money())),
            included in any::<bool>(),
        ) {
            let mut i = plain("0");
            i.base = base;
            i.group = Some(GroupTerms { code: "g".into(), name: "g".into(), price_type: "t".into(), price_type_name: "t".into(), type_price, discount_percent: gd });
            i.contract = contract;
            i.breaks = vec![(Decimal::from(10), brk)];
            i.customer_discount = cd;
            i.qty = Decimal::from(qty);
            i.vat_mode = if included { VatMode::Included } else { VatMode::Excluded };
            if let Some((percent, p, fixed)) = promo {
                i.promotions = vec![Promo { id: 1, name: "p".into(), percent, value: if percent { p } else { fixed } }];
            }
            let b = compute(&i);
            prop_assert!(b.final_price >= Decimal::ZERO);
            prop_assert!(b.final_price.scale() <= 2 && b.vat_amount.scale() <= 2);
            // The explanation adds up exactly: base + Σ step amounts = final.
            let sum: Decimal = b.steps.iter().map(|s| s.amount).sum();
            prop_assert_eq!(b.base + sum, b.final_price);
            // Net + VAT = gross, exactly.
            prop_assert_eq!(b.price_without_vat + b.vat_amount, b.price_with_vat);
            // Without a contract or a price type, discounts only lower the price.
            if contract.is_none() && type_price.is_none() {
                prop_assert!(b.final_price <= b.base);
            }
            // Same inputs, same answer.
            prop_assert_eq!(compute(&i), b);
        }

        #[test]
        fn half_up_rounding_matches_integer_arithmetic(k in 0i64..10_000_000, p in 0i64..10_000) {
            // amount in kopecks × percent in hundredths → exact value in 10^-6 units.
            let exact = (k as i128) * (p as i128); // kopecks × hundredths of a percent = 10^-6 roubles
            let expected_kopecks = (exact + 5_000) / 10_000; // half-up on non-negative values
            let got = super::super::percent_of(Decimal::new(k, 2), Decimal::new(p, 2));
            prop_assert_eq!(got, Decimal::new(expected_kopecks as i64, 2));
        }
    }
}
