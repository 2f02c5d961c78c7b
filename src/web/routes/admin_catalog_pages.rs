//! Supplier back-office catalog pages: the product list, the product form with its images
//! and attached files, spreadsheet import, categories and attributes. Thin handlers over
//! `admin_catalog_api` (list, save, import) and `catalog::*`; every staff role may look,
//! `MANAGE_CATALOG` may change.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use fluent_bundle::FluentArgs;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::admin_catalog_api::{admin_list, run_import, save_row, AdminListQuery};
use super::see_other;
use crate::app::AppState;
use crate::catalog::attributes::{self, Attribute, NewAttribute, KINDS};
use crate::catalog::categories::{self, Category, NewCategory};
use crate::catalog::products::{self, Mode, Refs, Row};
use crate::catalog::stock::{self, Warehouse};
use crate::catalog::{media, STATUSES, UNITS};
use crate::db::schema_tenant::{price_types, product_files, product_images};
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::staff::{MANAGE_CATALOG, MANAGE_STOCK};
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::{locale, render_status, store_page};
use crate::web::roles::{staff_role, StaffCtx};
use crate::web::tenant::TenantCtx;
use crate::web::upload;

const PER_PAGE: i64 = 50;
/// Largest spreadsheet accepted by the import form (as the API).
const IMPORT_LIMIT: usize = 20 * 1024 * 1024;
/// Import problems listed on the page; the count above the table is always complete.
const SHOWN_PROBLEMS: usize = 1000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/products").route(web::get().to(list)))
        .service(web::resource("/admin/products/new").route(web::get().to(new_product)).route(web::post().to(create)))
        .service(
            web::resource("/admin/products/import").route(web::get().to(import_form)).route(web::post().to(import)),
        )
        .service(web::resource("/admin/products/{sku}").route(web::get().to(edit)).route(web::post().to(update)))
        .service(web::resource("/admin/products/{sku}/stock").route(web::post().to(update_stock)))
        .service(web::resource("/admin/products/{sku}/images").route(web::post().to(add_image)))
        .service(web::resource("/admin/products/{sku}/images/{id}/delete").route(web::post().to(remove_image)))
        .service(web::resource("/admin/products/{sku}/files").route(web::post().to(add_file)))
        .service(web::resource("/admin/products/{sku}/files/{id}/delete").route(web::post().to(remove_file)))
        .service(web::resource("/admin/categories").route(web::get().to(categories_page)))
        .service(web::resource("/admin/categories/add").route(web::post().to(add_category)))
        .service(web::resource("/admin/categories/{code}/delete").route(web::post().to(delete_category)))
        .service(web::resource("/admin/attributes/add").route(web::post().to(add_attribute)));
}

/// The staff member, or a redirect to sign in; signed-in non-staff get 403.
async fn staff_ctx(
    req: &HttpRequest,
    t: &TenantCtx,
    user: &MaybeUser,
    here: &str,
) -> Result<AppResult<StaffCtx>, HttpResponse> {
    let Some(u) = user.0.clone() else {
        return Err(see_other(&format!("{}?next={}", t.link("/login"), urlencode(&t.link(here)))));
    };
    Ok(match staff_role(req).await {
        Ok(Some((_, role))) => Ok(StaffCtx { user: u, role, tenant: t.clone() }),
        Ok(None) => Err(AppError::forbidden("this page is for the supplier's staff")),
        Err(e) => Err(e),
    })
}

macro_rules! staff_or_return {
    ($req:expr, $t:expr, $user:expr, $here:expr) => {
        match staff_ctx(&$req, &$t, &$user, $here).await {
            Ok(ctx) => ctx?,
            Err(redirect) => return Ok(redirect),
        }
    };
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

/// The product's page with a notice; media notices scroll to their section.
fn product_link(t: &TenantCtx, sku: &str, done: &str) -> String {
    let anchor = match done {
        "image" | "image-removed" => "#images",
        "file" | "file-removed" => "#files",
        _ => "",
    };
    t.link(&format!("/admin/products/{}?done={done}{anchor}", urlencode(sku)))
}

fn file_size(tx: &Tx, bytes: i64) -> String {
    match bytes {
        b if b < 1024 => tx.t_with("admin-catalog-bytes", "size", &b.to_string()),
        b if b < 1024 * 1024 => tx.t_with("admin-catalog-kb", "size", &format!("{:.0}", b as f64 / 1024.0)),
        b => tx.t_with("admin-catalog-mb", "size", &format!("{:.1}", b as f64 / 1048576.0)),
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    category: Option<String>,
    page: Option<i64>,
}

async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products");
    let tx = Tx::new(&state, &req, &t);
    let q = q.into_inner();
    let (text, status, category) =
        (q.q.clone().unwrap_or_default(), q.status.clone().unwrap_or_default(), q.category.clone().unwrap_or_default());
    let query =
        AdminListQuery { q: q.q, status: q.status, category: q.category, page: q.page, per_page: Some(PER_PAGE) };
    let (items, total, page, per_page) = admin_list(&state, &s, query).await?;
    let cats = with_tenant(&state.pool, &s.tenant.tenant.schema, categories::all).await?;
    let rows: Vec<Value> = items
        .iter()
        .map(|p| {
            let sku = p["sku"].as_str().unwrap_or_default();
            let code = p["category"].as_str().unwrap_or_default();
            let cat = cats.iter().find(|c| c.code == code).map(|c| c.name_in(&tx.lang).to_owned()).unwrap_or_default();
            let st = p["status"].as_str().unwrap_or_default();
            json!({"sku": sku, "href": t.link(&format!("/admin/products/{}", urlencode(sku))), "name": p["name"], "category": cat,
                "price": p["price"], "stock": p["stock_available"], "status": st, "status_label": tx.status(st)})
        })
        .collect();
    let statuses: Vec<Value> = std::iter::once(option("", tx.t("admin-catalog-all"), status.is_empty()))
        .chain(STATUSES.iter().map(|c| option(c, tx.status(c), *c == status)))
        .collect();
    let pages = ((total + per_page - 1) / per_page).max(1);
    let href = |p: i64| {
        let qs = serde_urlencoded::to_string([
            ("q", text.as_str()),
            ("status", &status),
            ("category", &category),
            ("page", &p.to_string()),
        ])
        .unwrap_or_default();
        t.link(&format!("/admin/products?{qs}"))
    };
    let data = json!({"products": rows, "total": total, "page": page, "pages": pages, "q": text,
        "statuses": statuses, "categories": category_options(&cats, &tx.lang, &category, tx.t("admin-catalog-all")),
        "prev": (page > 1).then(|| href(page - 1)), "next": (page < pages).then(|| href(page + 1)),
        "can_manage": MANAGE_CATALOG.contains(&s.role)});
    let ctx = store_page(&req, &tx.t("admin-catalog-products-title"), data).await?;
    render_status(&state, "admin/products", &ctx, 200)
}

/// Everything the product form needs, read in one transaction.
struct Loaded {
    columns: Vec<String>,
    cats: Vec<Category>,
    attrs: Vec<Attribute>,
    warehouses: Vec<Warehouse>,
    price_types: Vec<(String, String)>,
    product: Option<(String, Row)>,
    images: Vec<(i64, i32, i32)>,
    files: Vec<(i64, String, String, i64)>,
}

fn load(c: &mut PgConnection, sku: Option<String>) -> AppResult<Loaded> {
    let refs = Refs::load(c)?;
    let p = match sku {
        Some(s) => Some(products::find_by_sku(c, &s)?.ok_or_else(|| AppError::not_found("product"))?),
        None => None,
    };
    let (images, files) = match &p {
        Some(p) => (
            product_images::table
                .filter(product_images::product_id.eq(p.id))
                .order((product_images::position, product_images::id))
                .select((product_images::id, product_images::width, product_images::height))
                .load(c)?,
            product_files::table
                .filter(product_files::product_id.eq(p.id))
                .order(product_files::id)
                .select((product_files::id, product_files::file_name, product_files::title, product_files::size_bytes))
                .load(c)?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let product = match p {
        Some(p) => Some((p.sku.clone(), products::to_row(c, &p, &refs)?)),
        None => None,
    };
    Ok(Loaded {
        columns: refs.columns(),
        cats: categories::all(c)?,
        attrs: attributes::all(c)?,
        warehouses: stock::warehouses(c)?,
        price_types: price_types::table.select((price_types::code, price_types::name)).load(c)?,
        product,
        images,
        files,
    })
}

/// What a posted product form left to show again.
#[derive(Default)]
struct Posted {
    input: Row,
    /// Stock as it was when the form was opened (`was:stock:<code>`).
    was: Row,
    errors: FieldErrors,
}

impl From<Vec<(String, String)>> for Posted {
    fn from(pairs: Vec<(String, String)>) -> Posted {
        let mut posted = Posted::default();
        for (k, v) in pairs {
            match k.strip_prefix("was:") {
                Some(col) if col.starts_with("stock:") => {
                    posted.was.insert(col.to_owned(), v);
                }
                Some(_) => {}
                None if k == "csrf_token" => {}
                None => {
                    posted.input.insert(k, v);
                }
            }
        }
        posted
    }
}

impl Posted {
    /// The row to save: stock left as it was is not sent, since orders or 1C may have
    /// changed it after the form was opened.
    fn changed(&self) -> Row {
        let mut row = self.input.clone();
        row.retain(|k, v| self.was.get(k) != Some(v));
        row
    }
}

/// The form's groups, in order; each column of `Refs::columns()` lands in one.
const GROUPS: &[(&str, &[&str])] = &[
    ("main", &["sku", "name", "name_en", "category", "brand", "barcodes", "description", "description_en"]),
    ("units", &["unit", "pack_size", "min_qty", "order_multiple", "weight_kg", "volume_m3"]),
    ("terms", &["vat_rate", "status", "available_from"]),
    ("prices", &["price"]),
    ("stock", &[]),
    ("attributes", &[]),
];

fn group_of(col: &str) -> &'static str {
    if col.starts_with("price:") {
        return "prices";
    }
    if col.starts_with("stock:") {
        return "stock";
    }
    if col.starts_with("attr:") {
        return "attributes";
    }
    GROUPS.iter().find(|(_, cols)| cols.contains(&col)).map_or("main", |(g, _)| g)
}

fn column_label(tx: &Tx, l: &Loaded, col: &str) -> String {
    if let Some(w) = col.strip_prefix("stock:") {
        let name = l.warehouses.iter().find(|x| x.code == w).map_or(w, |x| x.name.as_str());
        return tx.t_with("admin-catalog-col-stock-at", "warehouse", name);
    }
    if let Some(p) = col.strip_prefix("price:") {
        let name = l.price_types.iter().find(|(c, _)| c == p).map_or(p, |(_, n)| n.as_str());
        return tx.t_with("admin-catalog-col-price-of", "type", name);
    }
    if let Some(a) = col.strip_prefix("attr:") {
        return l.attrs.iter().find(|x| x.code == a).map_or(a.to_owned(), |x| x.name_in(&tx.lang).to_owned());
    }
    tx.t(&format!("admin-catalog-col-{}", col.replace('_', "-")))
}

/// What a spreadsheet cell of `col` may hold (the import page's column list).
fn column_format(tx: &Tx, l: &Loaded, col: &str) -> String {
    if let Some(a) = col.strip_prefix("attr:").and_then(|a| l.attrs.iter().find(|x| x.code == a)) {
        return match a.kind.as_str() {
            "list" => tx.t_with("admin-catalog-format-attr-list", "options", &a.options.join(", ")),
            "bool" => tx.t("admin-catalog-format-attr-bool"),
            "number" if a.unit.is_empty() => tx.t("admin-catalog-format-number"),
            "number" => tx.t_with("admin-catalog-format-attr-number", "unit", &a.unit),
            _ => tx.t("admin-catalog-format-attr-text"),
        };
    }
    let key = match col {
        "pack_size" | "min_qty" | "order_multiple" => "positive",
        "weight_kg" | "volume_m3" => "number",
        "description" | "description_en" => "html",
        "name_en" => "optional",
        c if c.starts_with("stock:") => "stock",
        c if c.starts_with("price:") => "extra-price",
        c => return tx.t(&format!("admin-catalog-format-{}", c.replace('_', "-"))),
    };
    tx.t(&format!("admin-catalog-format-{key}"))
}

/// One form field: its input kind, options, hint and the message next to it.
fn field(tx: &Tx, l: &Loaded, col: &str, value: &str, error: Option<&String>, was: Option<&String>) -> Value {
    let mut f = json!({"name": col, "id": format!("f-{}", col.replace(':', "-")), "label": column_label(tx, l, col), "value": value,
        "error": error, "kind": "text", "options": [], "hint": "", "suffix": "", "inputmode": "", "was": was, "wide": false, "form": ""});
    let labelled = |codes: &[&str], prefix: &str| -> Vec<(String, String)> {
        codes.iter().map(|c| (c.to_string(), tx.t(&format!("{prefix}{c}")))).collect()
    };
    match col {
        "category" => {
            f["kind"] = json!("select");
            f["options"] = json!(category_options(&l.cats, &tx.lang, value, "—".into()));
        }
        "unit" => select(&mut f, value, labelled(UNITS, "admin-catalog-unit-")),
        "vat_rate" => select(&mut f, value, labelled(&["20", "10", "0", "none"], "admin-catalog-vat-")),
        "status" => select(&mut f, value, labelled(STATUSES, "admin-catalog-status-")),
        "available_from" => f["kind"] = json!("date"),
        "description" | "description_en" => {
            f["kind"] = json!("textarea");
            f["hint"] = json!(tx.t("admin-catalog-hint-description"));
            f["wide"] = json!(true);
        }
        "name" | "name_en" => f["wide"] = json!(true),
        "barcodes" | "sku" => f["hint"] = json!(tx.t(&format!("admin-catalog-hint-{col}"))),
        "brand" => {}
        c => match c.strip_prefix("attr:").and_then(|a| l.attrs.iter().find(|x| x.code == a)) {
            Some(a) => attribute_input(tx, &mut f, a, value),
            None => f["inputmode"] = json!("decimal"),
        },
    }
    f
}

/// A select of `opts` (value, label); a value not among them stays, so nothing typed is lost.
fn select(f: &mut Value, value: &str, opts: Vec<(String, String)>) {
    let same = |v: &str| v.to_lowercase() == value.to_lowercase();
    let mut list: Vec<Value> = opts.iter().map(|(v, label)| option(v, label.clone(), same(v))).collect();
    if !opts.iter().any(|(v, _)| same(v)) {
        list.push(option(value, value.to_owned(), true));
    }
    f["kind"] = json!("select");
    f["options"] = json!(list);
}

/// The input for an attribute: list → select of its options, bool → yes/no, number → with its unit.
fn attribute_input(tx: &Tx, f: &mut Value, a: &Attribute, value: &str) {
    let none = (String::new(), "—".to_owned());
    match a.kind.as_str() {
        "list" => {
            let opts = std::iter::once(none).chain(a.options.iter().map(|o| (o.clone(), o.clone()))).collect();
            select(f, value, opts);
        }
        "bool" => {
            // Stored as да/нет (what a spreadsheet holds); the other spellings parse the same.
            let v = match a.parse(value) {
                Ok(Value::Bool(b)) => {
                    if b {
                        "да"
                    } else {
                        "нет"
                    }
                }
                _ => value,
            };
            f["value"] = json!(v);
            let opts = vec![none, ("да".into(), tx.t("admin-catalog-yes")), ("нет".into(), tx.t("admin-catalog-no"))];
            select(f, v, opts);
        }
        "number" => {
            f["inputmode"] = json!("decimal");
            f["suffix"] = json!(a.unit);
        }
        _ => {}
    }
}

/// Renders the product form (new when `sku` is `None`) with what was posted, if anything.
async fn product_view(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    sku: Option<String>,
    posted: Posted,
    media_error: Option<(&str, String)>,
    status: u16,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &s.tenant);
    let l = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| load(c, sku)).await?;
    let is_new = l.product.is_none();
    let mut values: Row = match &l.product {
        Some((_, row)) => row.clone(),
        None => [
            ("unit", "pcs"),
            ("vat_rate", "20"),
            ("status", "active"),
            ("pack_size", "1"),
            ("min_qty", "1"),
            ("order_multiple", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    };
    // Stock as first shown: kept across a failed save, so a later save changes only what was typed.
    let was: Row = if posted.input.is_empty() {
        values.iter().filter(|(k, _)| k.starts_with("stock:") && !is_new).map(|(k, v)| (k.clone(), v.clone())).collect()
    } else {
        posted.was.clone()
    };
    values.extend(posted.input);
    let mut errors = posted.errors;
    let can_manage = MANAGE_CATALOG.contains(&s.role);
    // The warehouse role changes stock only, through a form of its own.
    let stock_only = !can_manage && !is_new && MANAGE_STOCK.contains(&s.role);
    let mut groups = Vec::new();
    let mut summary = Vec::new();
    for (g, _) in GROUPS {
        let fields: Vec<Value> = l
            .columns
            .iter()
            .filter(|c| group_of(c) == *g)
            .map(|c| {
                let mut f = field(&tx, &l, c, values.get(c).map_or("", String::as_str), errors.get(c), was.get(c));
                if stock_only && *g == "stock" {
                    f["form"] = json!("stock-form");
                }
                if let Some(e) = errors.remove(c) {
                    summary.push(json!({"id": f["id"], "label": f["label"], "error": e}));
                }
                f
            })
            .collect();
        if !fields.is_empty() {
            groups.push(json!({"id": g, "title": tx.t(&format!("admin-catalog-group-{g}")), "hint": tx.t(&format!("admin-catalog-group-{g}-hint")), "fields": fields,
                "editable": can_manage || (stock_only && *g == "stock")}));
        }
    }
    let alerts: Vec<String> = errors.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let current = l.product.as_ref().map(|(sku, _)| sku.clone());
    let path = current.as_deref().map(urlencode).unwrap_or_default();
    let images: Vec<Value> = l.images.iter()
        .map(|(id, w, h)| json!({"id": id, "width": w, "height": h, "thumb": s.tenant.link(&format!("/products/{path}/images/{id}/thumb")),
            "full": s.tenant.link(&format!("/products/{path}/images/{id}"))}))
        .collect();
    let files: Vec<Value> = l
        .files
        .iter()
        .map(|(id, name, title, size)| {
            json!({"id": id, "name": name, "title": title, "size": file_size(&tx, *size),
            "href": s.tenant.link(&format!("/products/{path}/files/{id}"))})
        })
        .collect();
    let done = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.0.into_iter().find(|(k, _)| k == "done").map(|(_, v)| v));
    let notice = match done.as_deref() {
        Some(d @ ("saved" | "image" | "file" | "image-removed" | "file-removed")) => {
            Some(json!({"text": tx.t(&format!("admin-catalog-done-{d}")), "at": d.split('-').next()}))
        }
        _ => None,
    };
    // The heading names the product as stored, not as typed into a form that failed.
    let stored = |k: &str| l.product.as_ref().and_then(|(_, r)| r.get(k)).cloned().unwrap_or_default();
    let (heading, stored_status) = match &current {
        Some(_) => (stored("name"), stored("status")),
        None => (tx.t("admin-catalog-new-title"), String::new()),
    };
    let title = match &current {
        Some(sku) => format!("{heading} · {sku}"),
        None => heading.clone(),
    };
    let (image_error, file_error) = match media_error {
        Some(("image", m)) => (Some(m), None),
        Some((_, m)) => (None, Some(m)),
        None => (None, None),
    };
    let action = match &current {
        Some(_) => s.tenant.link(&format!("/admin/products/{path}")),
        None => s.tenant.link("/admin/products/new"),
    };
    let data = json!({"is_new": is_new, "sku": current, "path": path, "action": action, "groups": groups, "summary": summary, "alerts": alerts,
        "images": images, "files": files, "notice": notice, "image_error": image_error, "file_error": file_error, "heading": heading, "status": stored_status, "status_label": (!stored_status.is_empty()).then(|| tx.status(&stored_status)),
        "can_manage": can_manage, "stock_only": stock_only});
    let ctx = store_page(req, &title, data).await?;
    render_status(state, "admin/product_edit", &ctx, status)
}

#[derive(Deserialize)]
struct SkuPath {
    sku: String,
}

async fn new_product(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products/new");
    product_view(&state, &req, &s, None, Posted::default(), None, 200).await
}

async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
) -> AppResult<HttpResponse> {
    let sku = path.into_inner().sku;
    let s = staff_or_return!(req, t, user, &format!("/admin/products/{}", urlencode(&sku)));
    product_view(&state, &req, &s, Some(sku), Posted::default(), None, 200).await
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products/new");
    save(&state, &req, &s, None, form.into_inner()).await
}

async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let sku = path.into_inner().sku;
    let s = staff_or_return!(req, t, user, &format!("/admin/products/{}", urlencode(&sku)));
    save(&state, &req, &s, Some(sku), form.into_inner()).await
}

/// Saves a posted form; on bad input shows it again with everything typed and the reasons.
async fn save(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    existing: Option<String>,
    pairs: Vec<(String, String)>,
) -> AppResult<HttpResponse> {
    let mut posted = Posted::from(pairs);
    let row = posted.changed();
    let mode = if existing.is_some() { Mode::Update } else { Mode::Create };
    let tx = Tx::new(state, req, &s.tenant);
    let status = match save_row(state, s, row, mode, existing.clone()).await {
        Ok(v) => return Ok(see_other(&product_link(&s.tenant, v["sku"].as_str().unwrap_or_default(), "saved"))),
        Err(AppError::Validation(errors)) => {
            posted.errors = tx.errors(errors);
            422
        }
        Err(AppError::Conflict { code, message }) => {
            posted.errors.insert("sku".into(), tx.conflict(code, &message));
            409
        }
        Err(e) => return Err(e),
    };
    product_view(state, req, s, existing, posted, None, status).await
}

/// Stock only (the warehouse role): sets the figures changed since the form was opened.
async fn update_stock(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let sku = path.into_inner().sku;
    let s = staff_or_return!(req, t, user, &format!("/admin/products/{}", urlencode(&sku)));
    s.require(MANAGE_STOCK)?;
    let mut posted = Posted::from(form.into_inner());
    posted.input.retain(|k, _| k.starts_with("stock:"));
    let changed: Vec<(String, String)> = posted.changed().into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let (tenant_id, key) = (s.tenant.tenant.id, sku.clone());
    let saved = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let p = products::find_by_sku(c, &key)?.ok_or_else(|| AppError::not_found("product"))?;
        let warehouses = stock::warehouses(c)?;
        let mut errors = FieldErrors::new();
        let mut parsed = Vec::new();
        for (col, raw) in &changed {
            let code = col.trim_start_matches("stock:");
            let qty = if raw.trim() == "0" { Ok(rust_decimal::Decimal::ZERO) } else { crate::money::parse_qty(raw) };
            match (warehouses.iter().find(|w| w.code == code), qty) {
                (Some(w), Ok(q)) => parsed.push((w.id, q)),
                (None, _) => {
                    errors.insert(col.clone(), format!("unknown warehouse {code}"));
                }
                (_, Err(e)) => {
                    errors.insert(col.clone(), e);
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        for (w, q) in parsed {
            stock::set(c, p.id, w, q)?;
        }
        products::after_change(c, tenant_id, &[p.id])
    })
    .await;
    match saved {
        Ok(()) => Ok(see_other(&product_link(&t, &sku, "saved"))),
        Err(AppError::Validation(errors)) => {
            posted.errors = Tx::new(&state, &req, &t).errors(errors);
            product_view(&state, &req, &s, Some(sku), posted, None, 422).await
        }
        Err(e) => Err(e),
    }
}

async fn product_id(state: &AppState, s: &StaffCtx, sku: String) -> AppResult<i64> {
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        Ok(products::find_by_sku(c, &sku)?.ok_or_else(|| AppError::not_found("product"))?.id)
    })
    .await
}

/// Checks and stores an uploaded image (field `image`) with its thumbnail.
async fn store_image(state: &AppState, s: &StaffCtx, pid: i64, multipart: Multipart) -> AppResult<()> {
    let up = upload::read(multipart, &["image"], media::MAX_IMAGE_BYTES, &mut Vec::new())
        .await?
        .ok_or_else(|| AppError::field("image", "choose an image file"))?;
    let img = web::block(move || media::process_image(&up.bytes))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("image worker: {e}")))??;
    let schema = s.tenant.tenant.schema.clone();
    let (key, thumb_key) = (media::new_key(&schema, "images", img.ext), media::new_key(&schema, "thumbs", "jpg"));
    state.media.put(&key, img.original).await?;
    state.media.put(&thumb_key, img.thumbnail).await?;
    let (ct, w, h) = (img.content_type, img.width as i32, img.height as i32);
    with_tenant(&state.pool, &schema, move |c| {
        let last: Option<i32> = product_images::table
            .filter(product_images::product_id.eq(pid))
            .select(diesel::dsl::max(product_images::position))
            .first(c)?;
        diesel::insert_into(product_images::table)
            .values((
                product_images::product_id.eq(pid),
                product_images::storage_key.eq(&key),
                product_images::thumb_key.eq(&thumb_key),
                product_images::content_type.eq(ct),
                product_images::width.eq(w),
                product_images::height.eq(h),
                product_images::position.eq(last.map_or(0, |n| n + 1)),
            ))
            .execute(c)?;
        Ok(())
    })
    .await
}

/// Stores an attached file (field `file`, optional text field `title`); served only as a download.
async fn store_file(state: &AppState, s: &StaffCtx, pid: i64, multipart: Multipart) -> AppResult<()> {
    let mut fields = Vec::new();
    let up = upload::read(multipart, &["file"], media::MAX_FILE_BYTES, &mut fields)
        .await?
        .ok_or_else(|| AppError::field("file", "choose a file"))?;
    let title: String = fields
        .iter()
        .find(|(k, _)| k == "title")
        .map(|(_, v)| v.trim().chars().take(200).collect())
        .unwrap_or_default();
    let name = media::safe_file_name(&up.file_name);
    let ext = name.rsplit('.').next().filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()));
    let key = media::new_key(&s.tenant.tenant.schema, "files", &ext.unwrap_or("bin").to_lowercase());
    let size = up.bytes.len() as i64;
    state.media.put(&key, up.bytes).await?;
    let ct = media::file_content_type(&name);
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        diesel::insert_into(product_files::table)
            .values((
                product_files::product_id.eq(pid),
                product_files::storage_key.eq(&key),
                product_files::file_name.eq(&name),
                product_files::content_type.eq(ct),
                product_files::size_bytes.eq(size),
                product_files::title.eq(&title),
            ))
            .execute(c)?;
        Ok(())
    })
    .await
}

/// An image or file upload: back to the product with a notice, or the form with the reason.
async fn upload_media(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    sku: String,
    multipart: Multipart,
    kind: &'static str,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, &format!("/admin/products/{}", urlencode(&sku)));
    s.require(MANAGE_CATALOG)?;
    let pid = product_id(&state, &s, sku.clone()).await?;
    let stored = match kind {
        "image" => store_image(&state, &s, pid, multipart).await,
        _ => store_file(&state, &s, pid, multipart).await,
    };
    match stored {
        Ok(()) => Ok(see_other(&product_link(&t, &sku, kind))),
        Err(e) => {
            let (message, status) = Tx::new(&state, &req, &t).problem(e)?;
            product_view(&state, &req, &s, Some(sku), Posted::default(), Some((kind, message)), status).await
        }
    }
}

async fn add_image(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    upload_media(state, req, t, user, path.into_inner().sku, multipart, "image").await
}

async fn add_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    upload_media(state, req, t, user, path.into_inner().sku, multipart, "file").await
}

#[derive(Deserialize)]
struct MediaPath {
    sku: String,
    id: i64,
}

/// Removes an image (both stored files) or an attached file of the product.
async fn remove_media(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: MediaPath,
    image: bool,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, &format!("/admin/products/{}", urlencode(&path.sku)));
    s.require(MANAGE_CATALOG)?;
    let pid = product_id(&state, &s, path.sku.clone()).await?;
    let id = path.id;
    let keys: Vec<String> = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        Ok(if image {
            diesel::delete(
                product_images::table.filter(product_images::id.eq(id)).filter(product_images::product_id.eq(pid)),
            )
            .returning((product_images::storage_key, product_images::thumb_key))
            .get_results::<(String, String)>(c)?
            .into_iter()
            .flat_map(|(a, b)| [a, b])
            .collect()
        } else {
            diesel::delete(
                product_files::table.filter(product_files::id.eq(id)).filter(product_files::product_id.eq(pid)),
            )
            .returning(product_files::storage_key)
            .get_results::<String>(c)?
        })
    })
    .await?;
    if keys.is_empty() {
        return Err(AppError::not_found(if image { "image" } else { "file" }));
    }
    for k in keys {
        state.media.delete(&k).await?;
    }
    Ok(see_other(&product_link(&t, &path.sku, if image { "image-removed" } else { "file-removed" })))
}

async fn remove_image(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<MediaPath>,
) -> AppResult<HttpResponse> {
    remove_media(state, req, t, user, path.into_inner(), true).await
}

async fn remove_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<MediaPath>,
) -> AppResult<HttpResponse> {
    remove_media(state, req, t, user, path.into_inner(), false).await
}

/// The import page, with the report of a file when there is one.
async fn import_view(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    report: Option<Value>,
    error: Option<String>,
    check_only: bool,
    status: u16,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &s.tenant);
    let l = with_tenant(&state.pool, &s.tenant.tenant.schema, |c| load(c, None)).await?;
    let columns: Vec<Value> = l
        .columns
        .iter()
        .map(|c| {
            json!({"code": c, "label": column_label(&tx, &l, c), "format": column_format(&tx, &l, c),
                "required": (["sku", "name", "price"].contains(&c.as_str()))})
        })
        .collect();
    let data = json!({"columns": columns, "report": report, "error": error, "check_only": check_only,
        "can_manage": MANAGE_CATALOG.contains(&s.role)});
    let ctx = store_page(req, &tx.t("admin-catalog-import-title"), data).await?;
    render_status(state, "admin/import", &ctx, status)
}

async fn import_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products/import");
    import_view(&state, &req, &s, None, None, false, 200).await
}

async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products/import");
    s.require(MANAGE_CATALOG)?;
    let tx = Tx::new(&state, &req, &t);
    let mut fields = Vec::new();
    let up = match upload::read(multipart, &["file"], IMPORT_LIMIT, &mut fields).await {
        Ok(Some(up)) => up,
        Ok(None) => {
            let message = tx.msg("choose a CSV or XLSX file");
            return import_view(&state, &req, &s, None, Some(message), false, 422).await;
        }
        Err(e) => {
            let (message, status) = tx.problem(e)?;
            return import_view(&state, &req, &s, None, Some(message), false, status).await;
        }
    };
    let check_only = fields.iter().any(|(k, v)| k == "check_only" && !v.is_empty());
    let r = run_import(&state, &s, up.bytes, !check_only).await?;
    let problems: Vec<Value> = r
        .errors
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|e| json!({"line": e.line, "sku": e.sku, "column": e.column, "message": tx.msg(&e.message)}))
        .collect();
    let report = json!({"file": media::safe_file_name(&up.file_name), "rows": r.rows, "created": r.created, "updated": r.updated,
        "applied": r.applied, "encoding": r.encoding.unwrap_or("XLSX"), "problems": problems, "problem_count": r.errors.len(),
        "more": r.errors.len().saturating_sub(SHOWN_PROBLEMS), "valid": r.errors.is_empty()});
    let status = if r.errors.is_empty() { 200 } else { 422 };
    import_view(&state, &req, &s, Some(report), None, check_only, status).await
}

#[derive(Deserialize, Serialize, Default)]
pub struct CategoryForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    parent: String,
}

#[derive(Deserialize, Serialize, Default)]
pub struct AttributeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    options: String,
    filterable: Option<String>,
}

/// What a failed category or attribute form shows again.
#[derive(Default)]
struct CatalogForms {
    category: CategoryForm,
    category_errors: FieldErrors,
    attribute: Option<AttributeForm>,
    attribute_errors: FieldErrors,
    alert: Option<String>,
}

async fn categories_view(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    f: CatalogForms,
    status: u16,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &s.tenant);
    let (cats, attrs) =
        with_tenant(&state.pool, &s.tenant.tenant.schema, |c| Ok((categories::all(c)?, attributes::all(c)?))).await?;
    let rows: Vec<Value> = tree(&cats)
        .into_iter()
        .map(|(c, d)| json!({"code": c.code, "name": c.name, "name_en": c.name_i18n.get("en").and_then(Value::as_str).unwrap_or(""),
            "depth": d, "indent": "— ".repeat(d)}))
        .collect();
    let attr_rows: Vec<Value> = attrs
        .iter()
        .map(|a| {
            json!({"code": a.code, "name": a.name_in(&tx.lang), "kind": tx.t(&format!("admin-catalog-kind-{}", a.kind)),
            "unit": a.unit, "options": a.options.join(", "), "filterable": a.filterable})
        })
        .collect();
    let attr = f.attribute.unwrap_or(AttributeForm {
        kind: "text".into(),
        filterable: Some("1".into()),
        ..Default::default()
    });
    let kinds: Vec<Value> =
        KINDS.iter().map(|k| option(k, tx.t(&format!("admin-catalog-kind-{k}")), *k == attr.kind)).collect();
    let data = json!({"categories": rows, "attributes": attr_rows, "parents": category_options(&cats, &tx.lang, &f.category.parent, "—".into()),
        "kinds": kinds, "category": f.category, "category_errors": f.category_errors, "attribute": attr,
        "attribute_errors": f.attribute_errors, "alert": f.alert, "can_manage": MANAGE_CATALOG.contains(&s.role),
        "saved": req.query_string() == "saved=1"});
    let ctx = store_page(req, &tx.t("admin-catalog-categories-title"), data).await?;
    render_status(state, "admin/categories", &ctx, status)
}

async fn categories_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/categories");
    categories_view(&state, &req, &s, CatalogForms::default(), 200).await
}

fn nonempty(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A failed add: validation messages next to the fields, a conflict next to the code.
fn form_errors(tx: &Tx, e: AppError) -> Result<(FieldErrors, u16), AppError> {
    match e {
        AppError::Validation(f) => Ok((tx.errors(f), 422)),
        AppError::Conflict { code, message } => {
            Ok((FieldErrors::from([("code".to_string(), tx.conflict(code, &message))]), 409))
        }
        other => Err(other),
    }
}

async fn add_category(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<CategoryForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/categories");
    s.require(MANAGE_CATALOG)?;
    let f = form.into_inner();
    let new = NewCategory {
        code: f.code.trim().to_owned(),
        name: f.name.clone(),
        name_en: nonempty(&f.name_en),
        parent: nonempty(&f.parent),
        position: 0,
    };
    match with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| categories::create(c, new)).await {
        Ok(_) => Ok(see_other(&t.link("/admin/categories?saved=1"))),
        Err(e) => {
            let (category_errors, status) = form_errors(&Tx::new(&state, &req, &t), e)?;
            categories_view(
                &state,
                &req,
                &s,
                CatalogForms { category: f, category_errors, ..Default::default() },
                status,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct CodePath {
    code: String,
}

async fn delete_category(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CodePath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/categories");
    s.require(MANAGE_CATALOG)?;
    let code = path.into_inner().code;
    match with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| categories::delete(c, &code)).await {
        Ok(()) => Ok(see_other(&t.link("/admin/categories?saved=1"))),
        Err(AppError::Conflict { code, message }) => {
            let alert = Some(Tx::new(&state, &req, &t).conflict(code, &message));
            categories_view(&state, &req, &s, CatalogForms { alert, ..Default::default() }, 409).await
        }
        Err(e) => Err(e),
    }
}

async fn add_attribute(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<AttributeForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/categories");
    s.require(MANAGE_CATALOG)?;
    let f = form.into_inner();
    let new = NewAttribute {
        code: f.code.trim().to_owned(),
        name: f.name.clone(),
        name_en: nonempty(&f.name_en),
        kind: f.kind.clone(),
        unit: f.unit.clone(),
        options: f.options.split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect(),
        filterable: f.filterable.is_some(),
    };
    match with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| attributes::create(c, new)).await {
        Ok(_) => Ok(see_other(&t.link("/admin/categories?saved=1#attributes"))),
        Err(e) => {
            let (attribute_errors, status) = form_errors(&Tx::new(&state, &req, &t), e)?;
            let forms = CatalogForms { attribute: Some(f), attribute_errors, ..Default::default() };
            categories_view(&state, &req, &s, forms, status).await
        }
    }
}
