//! Thin handlers, one file per area.

pub mod account_api;
pub mod account_pages;
pub mod admin_api;
pub mod admin_catalog_api;
pub mod admin_catalog_pages;
pub mod admin_order_api;
pub mod admin_order_pages;
pub mod admin_pages;
pub mod admin_pricing_api;
pub mod admin_pricing_pages;
pub mod admin_returns_api;
pub mod admin_returns_pages;
pub mod admin_settings_pages;
pub mod assets;
pub mod auth_api;
pub mod card_api;
pub mod card_pages;
pub mod catalog_api;
pub mod catalog_pages;
pub mod contract_api;
pub mod contract_pages;
pub mod documents_api;
pub mod documents_pages;
pub mod edo_api;
pub mod exchange_1c;
pub mod exchange_admin_api;
pub mod exchange_admin_pages;
pub mod exchange_catalog_api;
pub mod exchange_catalog_pages;
pub mod finance_api;
pub mod finance_docs;
pub mod finance_import;
pub mod finance_pages;
pub mod integrations_api;
pub mod integrations_pages;
pub mod landing;
pub mod openapi;
pub mod order_api;
pub mod order_pages;
pub mod platform_api;
pub mod platform_pages;
pub mod reservation_api;
pub mod returns_api;
pub mod returns_pages;
pub mod store_pages;
pub mod storefront;
pub mod stripe_webhook;

use actix_web::web;

/// Routes of a storefront, mounted under `/s/{tenant}` and on tenant hosts.
pub fn tenant_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(storefront::home)))
        .service(web::resource("/logo").route(web::get().to(storefront::logo)))
        .service(web::resource("/lang/{code}").route(web::get().to(storefront::set_language)))
        .service(web::resource("/api/v1/storefront").route(web::get().to(storefront::info)))
        .configure(auth_api::configure)
        .configure(account_api::configure)
        // Before admin_api and admin_order_api: `/admin/orders/export` is not an order number.
        .configure(integrations_api::configure)
        .configure(admin_api::configure)
        .configure(catalog_api::configure)
        .configure(catalog_pages::configure)
        .configure(admin_catalog_api::configure)
        .configure(admin_pricing_api::configure)
        .configure(order_api::configure)
        .configure(reservation_api::configure)
        .configure(finance_api::configure)
        .configure(finance_docs::configure)
        .configure(documents_api::configure)
        .configure(edo_api::configure)
        .configure(documents_pages::configure)
        .configure(contract_api::configure)
        .configure(exchange_catalog_api::configure)
        .configure(finance_import::configure)
        .configure(card_api::configure)
        .configure(admin_order_api::configure)
        .configure(returns_api::configure)
        .configure(admin_returns_api::configure)
        .configure(store_pages::configure)
        .configure(account_pages::configure)
        .configure(admin_pages::configure)
        .configure(admin_catalog_pages::configure)
        .configure(admin_pricing_pages::configure)
        .configure(admin_settings_pages::configure)
        .configure(order_pages::configure)
        .configure(admin_order_pages::configure)
        .configure(finance_pages::configure)
        .configure(returns_pages::configure)
        .configure(admin_returns_pages::configure)
        .configure(card_pages::configure)
        .configure(contract_pages::configure)
        .configure(exchange_1c::configure)
        .configure(exchange_admin_api::configure)
        .configure(exchange_admin_pages::configure)
        .configure(integrations_pages::configure)
        .configure(exchange_catalog_pages::configure);
}

/// Routes of the platform host.
pub fn platform_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(landing::landing)))
        .service(web::resource("/lang/{code}").route(web::get().to(storefront::set_language)))
        .service(web::resource("/api/v1/openapi.json").route(web::get().to(openapi::document)))
        .service(web::resource("/api/v1/marketplace/search").route(web::get().to(landing::marketplace_search)))
        .configure(auth_api::configure)
        .configure(platform_api::configure)
        .configure(platform_pages::configure)
        .configure(stripe_webhook::configure)
        .configure(store_pages::reset_routes);
}

/// 303 to `location` (after a form post).
pub fn see_other(location: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther().insert_header(("Location", location.to_owned())).finish()
}

/// A relative, same-site path to return to after an action; anything else becomes `fallback`.
pub fn safe_next(next: Option<&str>, fallback: &str) -> String {
    // Only plain same-site paths: no scheme, no authority ("//", "/\\"), no whitespace or
    // control characters (browsers strip tabs and newlines, turning "/\t/host" into "//host").
    let plain = |n: &str| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.contains("://")
            && n.chars().all(|c| c.is_ascii_graphic())
    };
    match next {
        Some(n) if plain(n) => n.to_owned(),
        _ => fallback.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_links_stay_on_site() {
        assert_eq!(safe_next(Some("/s/acme/"), "/"), "/s/acme/");
        for bad in [
            "//evil.com",
            "https://evil.com",
            "/\\evil.com",
            "javascript:alert(1)",
            "/\t/evil.com",
            "/\n/evil.com",
            "/ /x",
        ] {
            assert_eq!(safe_next(Some(bad), "/"), "/", "{bad}");
        }
    }
}
