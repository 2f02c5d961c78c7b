//! The typed catalogue of platform features, their defaults per plan, and per-tenant
//! overrides. A disabled feature answers 404 and disappears from menus.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

macro_rules! features {
    ($($variant:ident = $name:literal [$start:literal, $business:literal, $enterprise:literal]),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Feature { $($variant),* }

        impl Feature {
            pub const ALL: &'static [Feature] = &[$(Feature::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Feature::$variant => $name),* }
            }

            pub fn parse(name: &str) -> Option<Feature> {
                match name { $($name => Some(Feature::$variant),)* _ => None }
            }

            /// Is the feature on by default for `plan`?
            pub fn default_for(self, plan: Plan) -> bool {
                match self {
                    $(Feature::$variant => match plan {
                        Plan::Start => $start,
                        Plan::Business => $business,
                        Plan::Enterprise => $enterprise,
                    }),*
                }
            }
        }
    };
}

features! {
    Preorders = "preorders" [false, true, true],
    Reservations = "reservations" [false, true, true],
    Multicart = "multicart" [true, true, true],
    Waitlist = "waitlist" [false, true, true],
    CardPayments = "card_payments" [false, true, true],
    Invoices = "invoices" [true, true, true],
    Documents = "documents" [true, true, true],
    Edo = "edo" [false, false, true],
    DeliveryCalc = "delivery_calc" [false, true, true],
    Returns = "returns" [true, true, true],
    Materials = "materials" [false, true, true],
    Marketing = "marketing" [false, true, true],
    Loyalty = "loyalty" [false, false, true],
    Chat = "chat" [false, true, true],
    Crm = "crm" [false, false, true],
    Production = "production" [false, false, true],
    Procurement = "procurement" [false, false, true],
    Exchange1c = "exchange_1c" [true, true, true],
    ApiAccess = "api_access" [false, true, true],
    MarketplaceListing = "marketplace_listing" [true, true, true],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Start,
    Business,
    Enterprise,
}

impl Plan {
    pub const ALL: &'static [Plan] = &[Plan::Start, Plan::Business, Plan::Enterprise];

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Start => "start",
            Plan::Business => "business",
            Plan::Enterprise => "enterprise",
        }
    }

    pub fn parse(s: &str) -> Option<Plan> {
        Plan::ALL.iter().copied().find(|p| p.as_str() == s)
    }
}

/// Operator overrides on top of the plan defaults.
pub type Overrides = BTreeMap<Feature, bool>;

/// Parses `{"name": bool}` from the API or the database, refusing unknown names.
pub fn parse_overrides(value: &serde_json::Value) -> Result<Overrides, String> {
    let obj = value.as_object().ok_or("features must be an object of name: true/false")?;
    let mut out = Overrides::new();
    for (name, on) in obj {
        let feature = Feature::parse(name).ok_or_else(|| format!("unknown feature '{name}'"))?;
        let on = on.as_bool().ok_or_else(|| format!("feature '{name}' must be true or false"))?;
        out.insert(feature, on);
    }
    Ok(out)
}

pub fn overrides_to_json(overrides: &Overrides) -> serde_json::Value {
    serde_json::Value::Object(
        overrides.iter().map(|(f, on)| (f.as_str().to_owned(), serde_json::Value::Bool(*on))).collect(),
    )
}

/// Effective state of every feature for a plan with overrides.
pub fn effective(plan: Plan, overrides: &Overrides) -> BTreeMap<Feature, bool> {
    Feature::ALL.iter().map(|f| (*f, overrides.get(f).copied().unwrap_or_else(|| f.default_for(plan)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for f in Feature::ALL {
            assert_eq!(Feature::parse(f.as_str()), Some(*f));
        }
        assert!(parse_overrides(&serde_json::json!({"teleport": true})).is_err());
        assert!(parse_overrides(&serde_json::json!({"edo": "yes"})).is_err());
    }

    #[test]
    fn overrides_win_over_plan_defaults() {
        let mut o = Overrides::new();
        assert!(!effective(Plan::Start, &o)[&Feature::Edo]);
        assert!(effective(Plan::Enterprise, &o)[&Feature::Edo]);
        o.insert(Feature::Edo, true);
        o.insert(Feature::Invoices, false);
        let e = effective(Plan::Start, &o);
        assert!(e[&Feature::Edo]);
        assert!(!e[&Feature::Invoices]);
    }
}
