//! The buyer's order pages: carts (`/cart`), checkout, the order history with its XLSX
//! export, and one order. Thin handlers over `ordering::*`, called inside `with_tenant` the
//! way `order_api` calls them; forms post and redirect, so everything works without script.

mod cart;
mod checkout;
pub(crate) mod history;
mod quick;
mod reserve;

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use fluent_bundle::FluentArgs;
use serde_json::Value;

use super::see_other;
use crate::app::AppState;
use crate::ordering::Actor;
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::locale;
use crate::web::roles::BuyerCtx;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/cart").route(web::get().to(cart::show)))
        .service(web::resource("/cart/add").route(web::post().to(cart::add)))
        .service(web::resource("/cart/new").route(web::post().to(cart::create)))
        .service(web::resource("/cart/{id}/rename").route(web::post().to(cart::rename)))
        .service(web::resource("/cart/{id}/delete").route(web::post().to(cart::delete)))
        .service(web::resource("/cart/{id}/update").route(web::post().to(cart::update)))
        .service(web::resource("/cart/{id}/remove").route(web::post().to(cart::remove)))
        .service(web::resource("/cart/{id}/transfer").route(web::post().to(cart::transfer)))
        .service(web::resource("/cart/{id}/quick").route(web::post().to(quick::quick)))
        .service(web::resource("/cart/{id}/upload").route(web::post().to(quick::upload)))
        .service(web::resource("/checkout").route(web::get().to(checkout::show)).route(web::post().to(checkout::place)))
        .service(web::resource("/orders").route(web::get().to(history::list)))
        .service(web::resource("/orders/export.xlsx").route(web::get().to(history::export)))
        .service(web::resource("/orders/{number}").route(web::get().to(history::show)))
        .service(web::resource("/orders/{number}/cancel").route(web::post().to(history::cancel)))
        .service(web::resource("/orders/{number}/repeat").route(web::post().to(history::repeat)))
        .service(web::resource("/orders/{number}/approve").route(web::post().to(history::approve)))
        .service(web::resource("/orders/{number}/decline").route(web::post().to(history::decline)))
        .service(
            web::resource("/reservations")
                .route(web::get().to(reserve::reservations_list))
                .route(web::post().to(reserve::reserve)),
        )
        .service(web::resource("/reservations/{id}/release").route(web::post().to(reserve::release)))
        .service(web::resource("/reservations/{id}/order").route(web::post().to(reserve::order)))
        .service(
            web::resource("/waitlist")
                .route(web::get().to(reserve::waitlist_list))
                .route(web::post().to(reserve::subscribe)),
        )
        .service(web::resource("/waitlist/{id}/remove").route(web::post().to(reserve::remove)));
}

/// Texts in the page's language: Fluent keys (with arguments), and the domain's English
/// messages translated through `messages.tsv`.
pub(crate) struct Tx<'a> {
    state: &'a AppState,
    pub lang: String,
}

impl<'a> Tx<'a> {
    pub fn new(state: &'a AppState, req: &HttpRequest, t: &TenantCtx) -> Tx<'a> {
        Tx { state, lang: locale(req, Some(t)) }
    }

    pub fn t(&self, key: &str) -> String {
        self.state.i18n.tr(&self.lang, key, None)
    }

    pub fn t_args(&self, key: &str, args: &[(&'static str, String)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        self.state.i18n.tr(&self.lang, key, Some(&a))
    }

    pub fn msg(&self, english: &str) -> String {
        self.state.i18n.message(&self.lang, english)
    }

    pub fn unit(&self, unit: &str) -> String {
        self.t(&format!("unit-{unit}"))
    }

    pub fn status(&self, status: &str) -> String {
        self.t(&format!("order-status-{status}"))
    }

    pub fn kind(&self, kind: &str) -> String {
        self.t(&format!("order-kind-{kind}"))
    }

    /// "incl. VAT 12.34" (prices with VAT) or "VAT 12.34 on top" (prices without).
    pub fn vat_line(&self, mode: &Value, vat: &Value) -> String {
        let key = if mode == "excluded" { "cart-vat-line-excluded" } else { "cart-vat-line-included" };
        self.t_args(key, &[("vat", vat.as_str().unwrap_or_default().to_owned())])
    }

    /// A timestamp as JSON (RFC 3339) shown as a date and time (UTC).
    pub fn when(&self, v: &Value) -> String {
        let Some(s) = v.as_str() else { return String::new() };
        match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(d) if self.lang == "ru" => d.format("%d.%m.%Y %H:%M").to_string(),
            Ok(d) => d.format("%Y-%m-%d %H:%M").to_string(),
            Err(_) => s.to_owned(),
        }
    }

    /// A day (`YYYY-MM-DD`) as people write it in this language.
    pub fn day(&self, v: &Value) -> String {
        let Some(s) = v.as_str() else { return String::new() };
        match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if self.lang == "ru" => d.format("%d.%m.%Y").to_string(),
            _ => s.to_owned(),
        }
    }

    /// An amount (`-44500.00`) as this language writes it ([`crate::money::grouped`]).
    pub fn amount(&self, v: &Value) -> String {
        v.as_str().map(|s| crate::money::grouped(s, &self.lang)).unwrap_or_default()
    }

    /// Why a cart line cannot be ordered, from its `code` (see `ordering::lines`); `line`
    /// has the line's `unit`, `min_qty`, `order_multiple` and `available_qty`.
    pub fn problem(&self, code: &str, line: &Value) -> String {
        let s = |k: &str| line[k].as_str().unwrap_or_default().to_owned();
        let unit = self.unit(&s("unit"));
        match code {
            "whole_units" => self.t_args("cart-problem-whole_units", &[("unit", unit)]),
            "below_minimum" => self.t_args("cart-problem-below_minimum", &[("min", s("min_qty")), ("unit", unit)]),
            "not_a_multiple" => {
                self.t_args("cart-problem-not_a_multiple", &[("multiple", s("order_multiple")), ("unit", unit)])
            }
            "short" if line["available_qty"].is_string() => {
                self.t_args("cart-problem-short", &[("available", s("available_qty")), ("unit", unit)])
            }
            "short" => self.t("cart-problem-short-unknown"),
            "invalid_qty" | "archived" | "upcoming" | "out_of_stock" => self.t(&format!("cart-problem-{code}")),
            "unknown_sku" => self.t_args("cart-problem-unknown_sku", &[("sku", s("sku"))]),
            _ => {
                let m = s("message");
                match m.strip_prefix("quantity ") {
                    Some(rest) => self.t_args("cart-problem-qty", &[("reason", self.msg(rest))]),
                    None => self.msg(&m),
                }
            }
        }
    }
}

/// The buyer, or the page to go to instead: sign in (back to `here`), or the cabinet that
/// explains how to register a company.
pub(crate) async fn buyer(
    req: &HttpRequest,
    t: &TenantCtx,
    user: &MaybeUser,
    here: &str,
) -> Result<BuyerCtx, HttpResponse> {
    if user.0.is_none() {
        return Err(see_other(&format!("{}?next={}", t.link("/login"), urlencode(&t.link(here)))));
    }
    let mut payload = actix_web::dev::Payload::None;
    match <BuyerCtx as actix_web::FromRequest>::from_request(req, &mut payload).await {
        Ok(b) => Ok(b),
        Err(_) => Err(see_other(&t.link("/account?none=1"))),
    }
}

/// `buyer_or_return!(req, t, user, here)`: the buyer of a page handler, or it returns the
/// redirect.
macro_rules! buyer_or_return {
    ($req:expr, $t:expr, $user:expr, $here:expr) => {
        match $crate::web::routes::order_pages::buyer(&$req, &$t, &$user, $here).await {
            Ok(b) => b,
            Err(redirect) => return Ok(redirect),
        }
    };
}
pub(crate) use buyer_or_return;

pub(crate) fn actor(b: &BuyerCtx) -> Actor {
    super::order_api::actor(b)
}

/// A one-time message carried to the next page in a short-lived cookie (the report of a
/// repeated order, which is too long for a URL).
const FLASH: &str = "tp_flash";

pub(crate) fn with_flash(mut res: HttpResponse, value: &Value) -> HttpResponse {
    let cookie = Cookie::build(FLASH, hex::encode(value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(Duration::minutes(5))
        .finish();
    let _ = res.add_cookie(&cookie);
    res
}

/// The flash of this request, if any (the caller clears it with [`clear_flash`]).
pub(crate) fn flash(req: &HttpRequest) -> Option<Value> {
    let c = req.cookie(FLASH)?;
    let bytes = hex::decode(c.value()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub(crate) fn clear_flash(mut res: HttpResponse) -> HttpResponse {
    let mut cookie = Cookie::build(FLASH, "").path("/").http_only(true).finish();
    cookie.make_removal();
    let _ = res.add_cookie(&cookie);
    res
}

/// The value of query parameter `key` among `pairs`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

/// A query string of `pairs`.
pub(crate) fn qs(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}
