//! The store's contract and agreement templates: handlebars written by the supplier's staff,
//! rendered to plain text with a few structure markers (see [`super::text`]). A template is
//! checked before it is saved: it must compile and render with sample data in strict mode,
//! so a misspelt variable is refused with the reason instead of failing at a customer's
//! approval. The sandbox: a fresh registry per render with only the built-in helpers (no
//! helper reads files or runs scripts), no partials, no decorators, bounded size.

use chrono::NaiveDate;
use diesel::prelude::*;
use handlebars::Handlebars;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::db::schema_tenant::contract_templates as ct;
use crate::error::{AppError, AppResult};
use crate::money::{format, grouped};
use crate::pdf::words;

pub const KINDS: &[&str] = &["contract", "agreement"];
pub const LANGS: &[&str] = &["ru", "en"];
/// Longest template and longest rendered text accepted.
pub const MAX_TEMPLATE: usize = 100_000;
const MAX_TEXT: usize = 400_000;

/// The shipped default for `kind` in `lang`.
pub fn default_body(kind: &str, lang: &str) -> &'static str {
    match (kind, lang) {
        ("agreement", "en") => include_str!("../../../templates/documents/agreement_en.hbs"),
        ("agreement", _) => include_str!("../../../templates/documents/agreement_ru.hbs"),
        (_, "en") => include_str!("../../../templates/documents/contract_en.hbs"),
        _ => include_str!("../../../templates/documents/contract_ru.hbs"),
    }
}

/// `kind` and `lang` as given, or a field error.
pub fn parse_kind_lang(kind: Option<&str>, lang: Option<&str>) -> AppResult<(&'static str, &'static str)> {
    let kind = match kind.unwrap_or("contract") {
        k if KINDS.contains(&k) => KINDS.iter().find(|x| **x == k).copied().unwrap_or("contract"),
        _ => return Err(AppError::field("kind", "must be contract or agreement")),
    };
    let lang = match lang.unwrap_or("ru") {
        l if LANGS.contains(&l) => LANGS.iter().find(|x| **x == l).copied().unwrap_or("ru"),
        _ => return Err(AppError::field("lang", "must be ru or en")),
    };
    Ok((kind, lang))
}

/// The store's template (and whether it is the store's own rather than the default).
pub fn load(conn: &mut PgConnection, kind: &str, lang: &str) -> AppResult<(String, bool)> {
    let own: Option<String> = ct::table.find((kind, lang)).select(ct::body).first(conn).optional()?;
    Ok(match own {
        Some(body) => (body, true),
        None => (default_body(kind, lang).to_owned(), false),
    })
}

/// Checks `body` with sample data and stores it; answers the sample text. Nothing is stored
/// when the check fails (422 with the reason in `fields.body`).
pub fn save(conn: &mut PgConnection, kind: &str, lang: &str, body: &str, actor: i64) -> AppResult<String> {
    let text = check(kind, lang, body).map_err(|e| AppError::field("body", e))?;
    diesel::insert_into(ct::table)
        .values((ct::kind.eq(kind), ct::lang.eq(lang), ct::body.eq(body), ct::updated_by.eq(actor)))
        .on_conflict((ct::kind, ct::lang))
        .do_update()
        .set((ct::body.eq(body), ct::updated_by.eq(actor), ct::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(text)
}

/// The text `body` renders with sample data, or why it cannot be used.
pub fn check(kind: &str, lang: &str, body: &str) -> Result<String, String> {
    render(body, &sample(kind, lang))
}

/// Partials and decorators could recurse or pull in other templates: refused.
fn sandboxed(body: &str) -> Result<(), String> {
    if body.trim().is_empty() {
        return Err("the template is empty".into());
    }
    if body.len() > MAX_TEMPLATE {
        return Err(format!("the template is longer than {MAX_TEMPLATE} bytes"));
    }
    for (i, _) in body.match_indices("{{") {
        let rest = body[i + 2..].trim_start_matches(['{', '~', ' ']);
        if rest.starts_with('>') || rest.starts_with("#>") || rest.starts_with('*') || rest.starts_with("#*") {
            return Err("partials and decorators ({{> …}}, {{#> …}}, {{* …}}) are not available in documents".into());
        }
    }
    Ok(())
}

/// Renders `body` with `ctx` in strict mode, without HTML escaping (the text goes to a PDF).
pub fn render(body: &str, ctx: &Value) -> Result<String, String> {
    sandboxed(body)?;
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_template_string("document", body).map_err(|e| format!("the template does not compile: {e}"))?;
    let text = hb.render("document", ctx).map_err(|e| {
        let at = e.line_no.map(|l| format!(" (line {l})")).unwrap_or_default();
        match e.reason() {
            handlebars::RenderErrorReason::MissingVariable(Some(name)) => {
                format!("the template cannot be filled in: unknown variable {name}{at}")
            }
            other => format!("the template cannot be filled in: {other}{at}"),
        }
    })?;
    if text.len() > MAX_TEXT {
        return Err(format!("the text is longer than {MAX_TEXT} bytes"));
    }
    Ok(text)
}

/// Payment terms as a document states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub days: i32,
    pub credit_limit: Decimal,
}

/// Everything a contract or an agreement is filled in with.
pub struct Facts<'a> {
    pub lang: &'a str,
    pub number: &'a str,
    pub date: NaiveDate,
    /// An agreement's number and date.
    pub agreement: Option<(i32, NaiveDate)>,
    pub supplier: &'a Map<String, Value>,
    pub buyer: &'a Map<String, Value>,
    pub terms: Terms,
    pub old: Option<Terms>,
    pub currency: &'a str,
    pub vat_included: bool,
    pub store_name: &'a str,
    pub store_url: &'a str,
}

/// «г. Москва» from an address such as «123456, г. Москва, ул. …» (empty when there is none).
pub fn city(address: &str) -> String {
    address
        .split(',')
        .map(str::trim)
        .find(|p| p.starts_with("г.") || p.starts_with("г ") || p.starts_with("город "))
        .unwrap_or_default()
        .to_owned()
}

/// «21 календарного дня», «30 календарных дней» (after «в течение»), "1 calendar day".
pub fn days_text(days: i32, ru: bool) -> String {
    match (ru, days % 10, days % 100) {
        (true, 1, r) if r != 11 => format!("{days} календарного дня"),
        (true, ..) => format!("{days} календарных дней"),
        (false, ..) if days == 1 => "1 calendar day".into(),
        (false, ..) => format!("{days} calendar days"),
    }
}

fn terms_value(t: Terms, ru: bool, currency: &str) -> Value {
    let cur = if currency == "RUB" && ru { "руб." } else { currency };
    let in_words = if ru { words::russian(t.credit_limit, currency) } else { words::english(t.credit_limit, currency) };
    json!({
        "payment_terms_days": t.days,
        "days_text": days_text(t.days, ru),
        "prepayment": t.days == 0,
        "credit_limit": grouped(&format(t.credit_limit), if ru { "ru" } else { "en" }),
        "credit_limit_words": in_words,
        "has_credit_limit": !t.credit_limit.is_zero(),
        "currency": cur,
    })
}

/// The data a template sees (the staff page lists these names).
pub fn context(f: &Facts) -> Value {
    let ru = f.lang != "en";
    let mut supplier = f.supplier.clone();
    let address = supplier.get("address").and_then(Value::as_str).unwrap_or_default().to_owned();
    supplier.insert("city".into(), json!(city(&address)));
    let mut terms = terms_value(f.terms, ru, f.currency);
    terms["vat_included"] = json!(f.vat_included);
    let mut ctx = json!({
        "contract": {"number": f.number, "date": words::long_date(f.date, ru), "date_short": words::short_date(f.date, ru)},
        "supplier": supplier,
        "buyer": f.buyer,
        "terms": terms,
        "store": {"name": f.store_name, "url": f.store_url},
    });
    if let Some((n, d)) = f.agreement {
        ctx["agreement"] =
            json!({"number": n, "date": words::long_date(d, ru), "date_short": words::short_date(d, ru)});
    }
    if let Some(old) = f.old {
        ctx["old"] = terms_value(old, ru, f.currency);
    }
    ctx
}

/// Sample parties and terms the check fills a template with.
pub fn sample(kind: &str, lang: &str) -> Value {
    let s = |pairs: &[(&str, &str)]| -> Map<String, Value> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned()))).collect()
    };
    let mut supplier = s(&[
        ("legal_name", "ООО «Поставщик»"),
        ("name", "ООО «Поставщик»"),
        ("inn", "7701234567"),
        ("kpp", "770101001"),
        ("ogrn", "1027700132195"),
        ("address", "123456, г. Москва, ул. Промышленная, д. 1"),
        ("postal_address", ""),
        ("bank", "ПАО Сбербанк"),
        ("bic", "044525225"),
        ("account", "40702810938000000001"),
        ("correspondent_account", "30101810400000000225"),
        ("director", "Иванов Иван Иванович"),
        ("accountant", "Петрова Анна Сергеевна"),
        ("phone", "+7 495 000-00-00"),
    ]);
    supplier.remove("legal_name");
    let buyer = s(&[
        ("name", "ООО «Покупатель»"),
        ("inn", "7707083893"),
        ("kpp", "773601001"),
        ("address", "117997, г. Москва, ул. Вавилова, д. 19"),
        ("phone", "+7 495 111-11-11"),
        ("contact_person", "Сидоров Пётр Петрович"),
    ]);
    let date = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default();
    let agreement = kind == "agreement";
    context(&Facts {
        lang,
        number: "Д-2026-0001",
        date,
        agreement: agreement.then_some((1, date)),
        supplier: &supplier,
        buyer: &buyer,
        terms: Terms { days: 30, credit_limit: Decimal::from(500_000) },
        old: agreement.then_some(Terms { days: 14, credit_limit: Decimal::from(300_000) }),
        currency: "RUB",
        vat_included: true,
        store_name: "Поставщик",
        store_url: "https://shop.example.ru",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_templates_render_with_sample_data() {
        for kind in KINDS {
            for lang in LANGS {
                let text = check(kind, lang, default_body(kind, lang)).expect("default template renders");
                assert!(text.contains("Д-2026-0001"), "{kind}/{lang}");
                assert!(text.contains("ООО «Покупатель»"), "{kind}/{lang}: the buyer");
            }
        }
        let ru = check("contract", "ru", default_body("contract", "ru")).expect("ru").replace('\u{a0}', " ");
        assert!(ru.contains("в течение 30 календарных дней"), "{ru}");
        assert_eq!(days_text(21, true), "21 календарного дня");
        assert_eq!(days_text(11, true), "11 календарных дней");
        assert_eq!(days_text(1, false), "1 calendar day");
        assert!(ru.contains("500 000,00 руб. (Пятьсот тысяч рублей 00 копеек)"), "{ru}");
        let agreement =
            check("agreement", "ru", default_body("agreement", "ru")).expect("agreement").replace('\u{a0}', " ");
        assert!(agreement.contains("в течение 30 календарных дней с даты поставки, отсрочка платежа (ранее: в течение 14 календарных дней)"), "{agreement}");
        assert!(agreement.contains("(ранее: 300 000,00 руб.)"), "{agreement}");
    }

    #[test]
    fn broken_or_unsafe_templates_are_refused_with_the_reason() {
        let e = check("contract", "ru", "{{#if buyer.name}}открыт").expect_err("unclosed block");
        assert!(e.contains("does not compile"), "{e}");
        let e = check("contract", "ru", "Покупатель: {{buyer.nmae}}").expect_err("misspelt");
        assert!(e.contains("cannot be filled in") && e.contains("nmae"), "{e}");
        let e = check("contract", "ru", "{{agreement.number}}").expect_err("agreement data in a contract");
        assert!(e.contains("cannot be filled in"), "{e}");
        for bad in
            ["{{> other}}", "{{#*inline \"a\"}}{{> a}}{{/inline}}{{> a}}", "{{~> x}}", "{{#> layout}}x{{/layout}}"]
        {
            assert!(check("contract", "ru", bad).expect_err(bad).contains("partials"), "{bad}");
        }
        assert!(check("contract", "ru", "  ").is_err());
        assert!(check("contract", "ru", &"x".repeat(MAX_TEMPLATE + 1)).is_err());
    }

    #[test]
    fn text_is_not_html_escaped_and_the_city_comes_from_the_address() {
        assert_eq!(render("{{a}}", &json!({"a": "ООО «Рога & копыта» <b>"})).as_deref(), Ok("ООО «Рога & копыта» <b>"));
        assert_eq!(city("123456, г. Москва, ул. Тверская, 1"), "г. Москва");
        assert_eq!(city("Moscow"), "");
    }
}
