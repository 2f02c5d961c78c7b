//! The stylesheet, embedded in the binary.

use actix_web::{web, HttpResponse};

const APP_CSS: &str = include_str!("../../../static/app.css");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/static/app.css").route(web::get().to(css)));
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(APP_CSS)
}
