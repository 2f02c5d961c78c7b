//! The supplier's legal and bank details (tenant settings), as they go on invoices and
//! reconciliation statements, with the checks a Russian accountant would make: INN and KPP,
//! OGRN check digits, a 9-digit BIC, and settlement and correspondent accounts whose control
//! key matches the BIC (Bank of Russia rules: weights 7, 1, 3 over BIC digits + account).

use serde_json::{Map, Value};

use crate::identity::inn::{check_inn, check_kpp};

/// Setting keys of the supplier's details, as `PATCH /api/v1/admin/settings` takes them.
pub const KEYS: &[&str] = &[
    "legal_name",
    "inn",
    "kpp",
    "ogrn",
    "address",
    "postal_address",
    "bank",
    "bic",
    "account",
    "correspondent_account",
    "director",
    "accountant",
    "phone",
];

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.chars().all(|c| c.is_ascii_digit())
}

/// OGRN (13 digits) or OGRNIP (15 digits) with its check digit.
pub fn check_ogrn(s: &str) -> Result<(), String> {
    let (body, check, modulus) = match s.len() {
        13 if digits(s, 13) => (&s[..12], &s[12..], 11u64),
        15 if digits(s, 15) => (&s[..14], &s[14..], 13u64),
        _ => return Err("must be 13 digits (OGRN) or 15 digits (OGRNIP)".into()),
    };
    let n: u64 = body.parse().map_err(|_| "must be digits".to_string())?;
    if (n % modulus % 10).to_string() == check {
        Ok(())
    } else {
        Err("check digit does not match: please check the number".into())
    }
}

/// Whether `account` (20 digits) belongs with `bic` (9 digits): the control key over the
/// BIC's last three digits (a settlement account) or "0" and its 5th–6th digits (the
/// correspondent account) followed by the account.
pub fn account_matches(bic: &str, account: &str, correspondent: bool) -> bool {
    if !digits(bic, 9) || !digits(account, 20) {
        return false;
    }
    let prefix = if correspondent { format!("0{}", &bic[4..6]) } else { bic[6..].to_owned() };
    let weights = [7u32, 1, 3];
    let sum: u32 = prefix
        .chars()
        .chain(account.chars())
        .enumerate()
        .filter_map(|(i, c)| c.to_digit(10).map(|d| d * weights[i % 3]))
        .sum();
    sum.is_multiple_of(10)
}

/// Checks one detail on its own; `None` when `key` is not a detail.
pub fn check(key: &str, v: &Value) -> Option<Result<Value, String>> {
    if !KEYS.contains(&key) {
        return None;
    }
    let Some(s) = v.as_str().map(str::trim) else {
        return Some(Err("must be text".into()));
    };
    let out = match key {
        _ if s.is_empty() => Ok(()),
        "inn" => check_inn(s).map(|_| ()),
        "kpp" => check_kpp(s),
        "ogrn" => check_ogrn(s),
        "bic" if !digits(s, 9) => Err("must be 9 digits".into()),
        "account" | "correspondent_account" if !digits(s, 20) => Err("must be 20 digits".into()),
        _ if s.chars().count() > 500 => Err("must be at most 500 characters".into()),
        _ => Ok(()),
    };
    Some(out.map(|_| Value::String(s.to_owned())))
}

/// The details as stored (every key, empty when unset).
pub fn load(conn: &mut diesel::PgConnection) -> crate::error::AppResult<Map<String, Value>> {
    use crate::db::schema_tenant::settings;
    use diesel::prelude::*;
    let rows: Vec<(String, Value)> =
        settings::table.filter(settings::key.eq_any(KEYS)).select((settings::key, settings::value)).load(conn)?;
    let mut out = Map::new();
    for k in KEYS {
        let v = rows.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or(Value::String(String::new()));
        out.insert((*k).to_owned(), v);
    }
    Ok(out)
}

/// Cross-checks the accounts against the BIC in the details as they will be after a change
/// (`stored` overlaid with `changed`): errors by key.
pub fn check_accounts(stored: &Map<String, Value>, changed: &[(String, Value)]) -> Vec<(String, String)> {
    let get = |k: &str| {
        changed
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v)
            .or_else(|| stored.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let bic = get("bic");
    let mut errors = Vec::new();
    for (key, correspondent) in [("account", false), ("correspondent_account", true)] {
        let account = get(key);
        let touched = changed.iter().any(|(k, _)| k == key || k == "bic");
        if touched && !bic.is_empty() && !account.is_empty() && !account_matches(&bic, &account, correspondent) {
            errors.push((key.to_owned(), "does not match the BIC: please check the account and the BIC".into()));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_correspondent_accounts_match_their_banks() {
        // Published details of three Moscow banks.
        assert!(account_matches("044525225", "30101810400000000225", true));
        assert!(account_matches("044525974", "30101810145250000974", true));
        assert!(account_matches("044525593", "30101810200000000593", true));
        assert!(!account_matches("044525225", "30101810400000000226", true), "one digit off");
        // St Petersburg: its own correspondent account, not Moscow's.
        assert!(account_matches("044030653", "30101810500000000653", true));
        assert!(!account_matches("044030653", "30101810400000000225", true), "another region's account");
    }

    #[test]
    fn settlement_accounts_use_the_last_three_bic_digits() {
        assert!(account_matches("044525225", "40702810200000000001", false));
        assert!(!account_matches("044525225", "40702810300000000001", false));
        assert!(!account_matches("04452522", "40702810200000000001", false), "short BIC");
    }

    #[test]
    fn ogrn_check_digits() {
        assert!(check_ogrn("1027700132195").is_ok(), "Sberbank's OGRN");
        assert!(check_ogrn("1027700132196").is_err());
        assert!(check_ogrn("304500116000157").is_ok(), "an OGRNIP");
        assert!(check_ogrn("12345").is_err());
    }
}
