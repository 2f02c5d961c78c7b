//! The stylesheet, embedded in the binary.

use actix_web::{web, HttpResponse};

const APP_CSS: &str = include_str!("../../../static/app.css");
const APP_JS: &str = include_str!("../../../static/app.js");
const CARD_JS: &str = include_str!("../../../static/card.js");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/static/app.css").route(web::get().to(css)))
        .service(web::resource("/static/app.js").route(web::get().to(js)))
        .service(web::resource("/static/card.js").route(web::get().to(card_js)));
}

/// Stripe.js's Payment Element on the card payment page.
async fn card_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(CARD_JS)
}

async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(APP_JS)
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(APP_CSS)
}
