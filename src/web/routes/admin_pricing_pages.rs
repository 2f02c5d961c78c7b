//! Supplier back-office pricing pages: customer groups and promotions (`/admin/pricing`) and
//! a customer's contract prices (`/admin/customers/{id}/prices`). Thin handlers over
//! `pricing::manage`; staff who see customers may look, `MANAGE_PRICES` may change.

mod contracts;
mod overview;

use actix_web::{web, HttpRequest};
use chrono::{DateTime, NaiveDate, Utc};
use fluent_bundle::FluentArgs;

use crate::app::AppState;
use crate::error::AppError;
use crate::web::render::locale;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/pricing").route(web::get().to(overview::page)))
        .service(web::resource("/admin/pricing/groups").route(web::post().to(overview::add_group)))
        .service(web::resource("/admin/pricing/groups/{code}").route(web::post().to(overview::update_group)))
        .service(web::resource("/admin/pricing/promotions").route(web::post().to(overview::create_promotion)))
        .service(
            web::resource("/admin/pricing/promotions/{id}/delete").route(web::post().to(overview::delete_promotion)),
        )
        .service(
            web::resource("/admin/customers/{id}/prices")
                // A price list of a few thousand lines is larger than the default form limit.
                .app_data(contracts::form_config())
                .route(web::get().to(contracts::page))
                .route(web::post().to(contracts::replace)),
        );
}

/// Domain messages (English) with a Fluent key of their own here; the rest go through
/// the shared message table.
const MESSAGES: &[(&str, &str)] = &[
    ("must be between 0 and 100", "admin-pricing-err-percent-range"),
    ("must be after starts_at", "admin-pricing-err-ends-after"),
    ("must not be before valid_from", "admin-pricing-err-to-after-from"),
    ("a fixed price applies to products, not categories", "admin-pricing-err-fixed-categories"),
    ("name the products or categories the promotion is for", "admin-pricing-err-no-targets"),
    ("must be a date or time like 2026-12-01 or 2026-12-01T00:00:00Z", "admin-pricing-err-date-time"),
    ("must be a date like 2026-12-31", "admin-pricing-err-date"),
    ("kind must be percent or fixed_price", "admin-pricing-err-kind"),
    ("is too large", "admin-pricing-err-too-large"),
];

/// Texts of the pricing pages in the page's language.
pub(crate) struct Tx<'a> {
    state: &'a AppState,
    pub(crate) lang: String,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(state: &'a AppState, req: &HttpRequest, t: &TenantCtx) -> Tx<'a> {
        Tx { state, lang: locale(req, Some(t)) }
    }

    pub(crate) fn t(&self, key: &str) -> String {
        self.state.i18n.tr(&self.lang, key, None)
    }

    pub(crate) fn t_with(&self, key: &str, name: &'static str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value.to_owned());
        self.state.i18n.tr(&self.lang, key, Some(&args))
    }

    /// A validation message of `pricing::manage` for people.
    pub(crate) fn msg(&self, english: &str) -> String {
        if let Some(sku) = english.strip_prefix("unknown SKU ") {
            return self.t_with("admin-pricing-err-unknown-sku", "sku", sku);
        }
        if let Some(code) = english.strip_prefix("unknown category ") {
            return self.t_with("admin-pricing-err-unknown-category", "code", code);
        }
        match MESSAGES.iter().find(|(m, _)| *m == english) {
            Some((_, key)) => self.t(key),
            None => self.state.i18n.message(&self.lang, english),
        }
    }

    pub(crate) fn errors(&self, errors: crate::error::FieldErrors) -> crate::error::FieldErrors {
        errors.into_iter().map(|(k, v)| (k, self.msg(&v))).collect()
    }

    /// Problems of a list typed one item per line: `<index>.<field>` errors of the domain
    /// become "Line N: field: message", in line order (`lines[index]` is the line number).
    pub(crate) fn line_errors(&self, e: AppError, lines: &[usize]) -> Result<Vec<String>, AppError> {
        let AppError::Validation(errors) = e else { return Err(e) };
        let mut out: Vec<(usize, String)> = errors
            .into_iter()
            .map(|(k, v)| {
                let (i, field) = k.split_once('.').unwrap_or(("", k.as_str()));
                let line = i.parse::<usize>().ok().and_then(|i| lines.get(i).copied()).unwrap_or(0);
                let field = self.t(&format!("admin-pricing-field-{field}"));
                (
                    line,
                    format!(
                        "{}: {field}: {}",
                        self.t_with("admin-pricing-line", "line", &line.to_string()),
                        self.msg(&v)
                    ),
                )
            })
            .collect();
        out.sort_by_key(|(line, _)| *line);
        Ok(out.into_iter().map(|(_, m)| m).collect())
    }

    pub(crate) fn date(&self, d: NaiveDate) -> String {
        match self.lang.as_str() {
            "ru" => d.format("%d.%m.%Y").to_string(),
            _ => d.format("%Y-%m-%d").to_string(),
        }
    }

    pub(crate) fn time(&self, t: DateTime<Utc>) -> String {
        match t.time() == chrono::NaiveTime::MIN {
            true => self.date(t.date_naive()),
            false => format!("{} {}", self.date(t.date_naive()), t.format("%H:%M")),
        }
    }
}

/// Splits a line typed into a textarea at `;` (or a tab, as pasted from a spreadsheet).
pub(crate) fn cells(line: &str, n: usize) -> Vec<String> {
    let sep = if line.contains(';') { ';' } else { '\t' };
    line.splitn(n, sep).map(|c| c.trim().to_owned()).collect()
}

/// A decimal typed by a person: a comma works as the decimal point; empty is "is required".
pub(crate) fn typed_number(s: &str) -> Result<String, String> {
    match s.trim() {
        "" => Err("is required".into()),
        s => Ok(s.replace(',', ".").replace(' ', "")),
    }
}

/// Number lines of a textarea: the non-empty ones with their 1-based line numbers.
pub(crate) fn numbered(text: &str) -> Vec<(usize, &str)> {
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| (i + 1, l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_split() {
        let text = "A-1;10,50\n\n  \nB-2\t7\tx\n";
        assert_eq!(numbered(text), vec![(1, "A-1;10,50"), (4, "B-2\t7\tx")]);
        assert_eq!(cells("A-1; 10,50 ;;;note; with ;", 5), vec!["A-1", "10,50", "", "", "note; with ;"]);
        assert_eq!(cells("B-2\t7\tx", 5), vec!["B-2", "7", "x"]);
        assert_eq!(typed_number("1 234,50"), Ok("1234.50".to_string()));
        assert!(typed_number(" ").is_err());
    }
}
