//! What staff set for the exchange: checked here for both the JSON API and the page, so a
//! refused change stores nothing and says which field is wrong.

use serde::Deserialize;
use serde_json::{json, Value};

use super::ExchangeOptions;
use crate::error::FieldErrors;
use crate::exchange::report::AnswerEncoding;

/// `PUT /api/v1/admin/exchange-1c` and the form on `/admin/exchange`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupBody {
    pub enabled: bool,
    pub login: String,
    /// A new password; omitted or empty keeps the stored one.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub zip: Option<bool>,
    #[serde(default)]
    pub file_limit: Option<u64>,
}

/// Smallest and largest `file_limit` staff may set (1C sends chunks of at most this).
pub const MIN_FILE_LIMIT: u64 = 64 * 1024;

/// The options after `b`, and the new password to hash (if one was given). `max_limit` is
/// the server's `exchange.file_limit`.
pub fn apply(
    current: &ExchangeOptions,
    b: &SetupBody,
    max_limit: u64,
) -> Result<(ExchangeOptions, Option<String>), FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut next = current.clone();
    let login = b.login.trim();
    if login.is_empty() && b.enabled {
        errors.insert("login".into(), "enter the login 1C will use".into());
    } else if login.chars().count() > 64 || login.contains(':') || login.chars().any(char::is_control) {
        errors.insert("login".into(), "use at most 64 characters, without a colon".into());
    }
    let password = b.password.as_deref().filter(|p| !p.is_empty()).map(str::to_owned);
    match &password {
        Some(p) => {
            if let Err(e) = crate::identity::password::check_strength(p) {
                errors.insert("password".into(), format!("the password {e}"));
            }
        }
        None if b.enabled && current.password_hash.is_none() => {
            errors.insert("password".into(), "choose a password for 1C".into());
        }
        None => {}
    }
    if let Some(e) = &b.encoding {
        match AnswerEncoding::parse(e) {
            Some(enc) => next.encoding = enc,
            None => {
                errors.insert("encoding".into(), "choose windows_1251 or utf8_bom".into());
            }
        }
    }
    if let Some(limit) = b.file_limit {
        if !(MIN_FILE_LIMIT..=max_limit).contains(&limit) {
            errors.insert("file_limit".into(), format!("must be between {MIN_FILE_LIMIT} and {max_limit} bytes"));
        } else {
            next.file_limit = limit;
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    next.enabled = b.enabled;
    next.login = login.to_owned();
    next.zip = b.zip.unwrap_or(next.zip);
    next.file_limit = next.file_limit.min(max_limit);
    Ok((next, password))
}

/// The options as staff see them (never the password), with the addresses to enter in 1C.
pub fn view(o: &ExchangeOptions, urls: &[String]) -> Value {
    json!({
        "enabled": o.enabled,
        "login": o.login,
        "has_password": o.password_hash.is_some(),
        "encoding": o.encoding.as_str(),
        "zip": o.zip,
        "file_limit": o.file_limit,
        "ready": o.usable(),
        "urls": urls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(enabled: bool, login: &str, password: Option<&str>) -> SetupBody {
        SetupBody {
            enabled,
            login: login.into(),
            password: password.map(Into::into),
            encoding: None,
            zip: None,
            file_limit: None,
        }
    }

    #[test]
    fn turning_on_needs_a_login_and_a_password() {
        let cur = ExchangeOptions::default();
        let e = apply(&cur, &body(true, "", None), 1 << 27).expect_err("refused");
        assert!(e.contains_key("login") && e.contains_key("password"));
        let e = apply(&cur, &body(true, "a:b", Some("short")), 1 << 27).expect_err("refused");
        assert!(e.contains_key("login") && e.contains_key("password"));
        let (next, pw) = apply(&cur, &body(true, " 1c-exchange ", Some("Obmen-s-1C-2026")), 1 << 27).expect("valid");
        assert_eq!(next.login, "1c-exchange");
        assert_eq!(pw.as_deref(), Some("Obmen-s-1C-2026"));
        // A stored password is kept when none is sent.
        let stored = ExchangeOptions { password_hash: Some("x".into()), ..next };
        let (again, pw) = apply(&stored, &body(true, "1c-exchange", Some("")), 1 << 27).expect("valid");
        assert!(pw.is_none() && again.password_hash.is_some());
    }

    #[test]
    fn encoding_and_limits_are_checked() {
        let cur = ExchangeOptions::default();
        let mut b = body(false, "x", None);
        b.encoding = Some("koi8".into());
        b.file_limit = Some(10);
        let e = apply(&cur, &b, 1 << 27).expect_err("refused");
        assert!(e.contains_key("encoding") && e.contains_key("file_limit"));
        b.encoding = Some("utf8_bom".into());
        b.file_limit = Some(200 * 1024);
        let (next, _) = apply(&cur, &b, 1 << 27).expect("valid");
        assert_eq!((next.encoding, next.file_limit), (AnswerEncoding::Utf8Bom, 200 * 1024));
    }
}
