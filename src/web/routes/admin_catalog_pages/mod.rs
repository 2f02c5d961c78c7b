//! Supplier back-office catalog pages: the product list, the product form with its images
//! and attached files, spreadsheet import, categories and attributes. Thin handlers over
//! `admin_catalog_api` (list, save, import) and `catalog::*`; every staff role may look,
//! `MANAGE_CATALOG` may change.

mod breaks;
mod categories;
mod form;
mod import;
mod media;
mod products;

use actix_web::{web, HttpRequest};
use fluent_bundle::FluentArgs;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::categories::Category;
use crate::error::{AppError, FieldErrors};
use crate::search::marketplace::urlencode;
use crate::web::render::locale;
use crate::web::tenant::TenantCtx;
use categories::{add_attribute, add_category, categories_page, delete_category};
use import::{import, import_form};
use media::{add_file, add_image, remove_file, remove_image};
use products::{create, edit, list, new_product, update, update_stock};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/products").route(web::get().to(list)))
        .service(web::resource("/admin/products/new").route(web::get().to(new_product)).route(web::post().to(create)))
        .service(
            web::resource("/admin/products/import").route(web::get().to(import_form)).route(web::post().to(import)),
        )
        .service(web::resource("/admin/products/{sku}").route(web::get().to(edit)).route(web::post().to(update)))
        .service(web::resource("/admin/products/{sku}/stock").route(web::post().to(update_stock)))
        .service(web::resource("/admin/products/{sku}/quantity-breaks").route(web::post().to(breaks::update)))
        .service(web::resource("/admin/products/{sku}/images").route(web::post().to(add_image)))
        .service(web::resource("/admin/products/{sku}/images/{id}/delete").route(web::post().to(remove_image)))
        .service(web::resource("/admin/products/{sku}/files").route(web::post().to(add_file)))
        .service(web::resource("/admin/products/{sku}/files/{id}/delete").route(web::post().to(remove_file)))
        .service(web::resource("/admin/categories").route(web::get().to(categories_page)))
        .service(web::resource("/admin/categories/add").route(web::post().to(add_category)))
        .service(web::resource("/admin/categories/{code}/delete").route(web::post().to(delete_category)))
        .service(web::resource("/admin/attributes/add").route(web::post().to(add_attribute)));
}

/// Texts in the page's language: Fluent keys, and the domain's English messages translated.
struct Tx<'a> {
    state: &'a AppState,
    lang: String,
}

impl<'a> Tx<'a> {
    fn new(state: &'a AppState, req: &HttpRequest, t: &TenantCtx) -> Tx<'a> {
        Tx { state, lang: locale(req, Some(t)) }
    }

    fn t(&self, key: &str) -> String {
        self.state.i18n.tr(&self.lang, key, None)
    }

    fn t_with(&self, key: &str, name: &'static str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value.to_owned());
        self.state.i18n.tr(&self.lang, key, Some(&args))
    }

    fn msg(&self, english: &str) -> String {
        self.state.i18n.message(&self.lang, english)
    }

    fn errors(&self, errors: FieldErrors) -> FieldErrors {
        errors.into_iter().map(|(k, v)| (k, self.msg(&v))).collect()
    }

    fn status(&self, code: &str) -> String {
        self.t(&format!("admin-catalog-status-{code}"))
    }

    /// What an error of an upload or a form says to the person (the rest stays an error page).
    fn problem(&self, e: AppError) -> Result<(String, u16), AppError> {
        match e {
            AppError::PayloadTooLarge(_) => Ok((self.t("admin-catalog-too-large"), 413)),
            AppError::BadRequest(m) => Ok((self.msg(&m), 400)),
            AppError::Validation(f) => Ok((f.into_values().map(|m| self.msg(&m)).collect::<Vec<_>>().join("; "), 422)),
            AppError::Conflict { code, message } => Ok((self.conflict(code, &message), 409)),
            other => Err(other),
        }
    }

    fn conflict(&self, code: &str, message: &str) -> String {
        match code {
            "category_not_empty" => self.t("admin-catalog-category-not-empty"),
            "category_exists" => self.t("admin-catalog-category-exists"),
            "attribute_exists" => self.t("admin-catalog-attribute-exists"),
            "duplicate_sku" => self.t("admin-catalog-duplicate-sku"),
            _ => self.msg(message),
        }
    }
}

fn option(value: &str, label: String, selected: bool) -> Value {
    json!({"value": value, "label": label, "selected": selected})
}

/// Categories in tree order with their depth (children under their parent).
fn tree(cats: &[Category]) -> Vec<(&Category, usize)> {
    fn walk<'a>(cats: &'a [Category], parent: Option<i64>, depth: usize, out: &mut Vec<(&'a Category, usize)>) {
        for c in cats.iter().filter(|c| c.parent_id == parent) {
            out.push((c, depth));
            if depth < 16 {
                walk(cats, Some(c.id), depth + 1, out);
            }
        }
    }
    let mut out = Vec::with_capacity(cats.len());
    walk(cats, None, 0, &mut out);
    out
}

fn category_options(cats: &[Category], lang: &str, selected: &str, none: String) -> Vec<Value> {
    let mut out = vec![option("", none, selected.is_empty())];
    out.extend(
        tree(cats)
            .into_iter()
            .map(|(c, d)| option(&c.code, format!("{}{}", "— ".repeat(d), c.name_in(lang)), c.code == selected)),
    );
    if !selected.is_empty() && !cats.iter().any(|c| c.code == selected) {
        out.push(option(selected, selected.to_owned(), true));
    }
    out
}

/// The product's page in the back office (`/admin/products/<sku>`, relative to the store).
fn product_path(sku: &str) -> String {
    format!("/admin/products/{}", urlencode(sku))
}

/// The product's page with a notice; media notices scroll to their section.
fn product_link(t: &TenantCtx, sku: &str, done: &str) -> String {
    let anchor = match done {
        "image" | "image-removed" => "#images",
        "file" | "file-removed" => "#files",
        "breaks" => "#breaks",
        _ => "",
    };
    t.link(&format!("{}?done={done}{anchor}", product_path(sku)))
}

#[derive(Deserialize)]
struct SkuPath {
    sku: String,
}
