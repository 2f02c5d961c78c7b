//! Tenant slugs: the name in `<slug>.<base domain>` and `/s/<slug>/`.

use std::fmt;

/// Words that would collide with platform hosts or paths.
pub const RESERVED: &[&str] = &[
    "www",
    "api",
    "admin",
    "platform",
    "static",
    "assets",
    "s",
    "mail",
    "smtp",
    "imap",
    "pop",
    "ftp",
    "app",
    "apps",
    "auth",
    "login",
    "logout",
    "register",
    "account",
    "accounts",
    "dashboard",
    "status",
    "help",
    "support",
    "docs",
    "blog",
    "cdn",
    "media",
    "img",
    "images",
    "files",
    "public",
    "tenant",
    "tenants",
    "root",
    "system",
    "operator",
    "metrics",
    "health",
    "healthz",
    "readyz",
    "webhooks",
    "billing",
    "payments",
    "search",
    "shop",
    "store",
    "marketplace",
    "localhost",
    "tradeport",
];

/// A validated slug: 3–40 of `a–z`, `0–9` and `-`, starting with a letter, not ending
/// with `-`, and not a reserved word.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: &str) -> Result<Slug, String> {
        let s = input.trim();
        if !(3..=40).contains(&s.len()) {
            return Err("must be 3 to 40 characters long".into());
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err("may contain only lowercase latin letters, digits and '-'".into());
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("must start with a letter".into());
        }
        if s.ends_with('-') || s.contains("--") {
            return Err("must not end with '-' or contain '--'".into());
        }
        if RESERVED.contains(&s) {
            return Err(format!("'{s}' is reserved"));
        }
        Ok(Slug(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_good_slugs() {
        for ok in ["acme", "okna-plus", "tex2024", "abc", &"a".repeat(40)] {
            assert!(Slug::parse(ok).is_ok(), "{ok} refused");
        }
    }

    #[test]
    fn refuses_bad_and_reserved_slugs() {
        for bad in [
            "ab",
            "1acme",
            "-acme",
            "acme-",
            "ac--me",
            "Acme",
            "ac_me",
            "ac.me",
            "acme!",
            "окна",
            "www",
            "admin",
            "platform",
            "static",
            "assets",
            "mail",
            "api",
            &"a".repeat(41),
            "",
            "a b c",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
