//! The buyer's return pages (feature `returns`): "Returns" in the cabinet, one request with
//! its thread, and "Request a return" from a delivered order (a multipart form with the
//! quantities, the reason, a comment and photos). Forms post and redirect.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::order_pages::{buyer_or_return, param, Tx};
use super::returns_api::{buyer_message, create_with_photos};
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::ordering::returns::create::{self, Request};
use crate::ordering::returns::{self, view, MAX_PHOTOS, MAX_PHOTO_BYTES, REASONS};
use crate::platform::features::Feature;
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::features::enabled;
use crate::web::render::{render_status, store_page};
use crate::web::roles::BuyerCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::{actor, NumberPath};
use crate::web::tenant::TenantCtx;
use crate::web::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/account/returns").guard(enabled(Feature::Returns)).route(web::get().to(list)))
        .service(web::resource("/account/returns/{number}").guard(enabled(Feature::Returns)).route(web::get().to(show)))
        .service(
            web::resource("/account/returns/{number}/messages")
                .guard(enabled(Feature::Returns))
                .route(web::post().to(message)),
        )
        .service(
            web::resource("/account/returns/{number}/cancel")
                .guard(enabled(Feature::Returns))
                .route(web::post().to(cancel)),
        )
        .service(
            web::resource("/orders/{number}/return")
                .guard(enabled(Feature::Returns))
                .route(web::get().to(form))
                .route(web::post().to(submit)),
        );
}

/// What a refusal says on a page, in the page's language.
pub(crate) fn error_text(tx: &Tx, e: &AppError) -> String {
    match e {
        AppError::Detailed { code: "return_qty_exceeds", details, .. } => {
            let d = |k: &str| details.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            tx.t_args(
                "returns-error-qty",
                &[
                    ("sku", d("sku")),
                    ("left", d("left")),
                    ("delivered", d("delivered")),
                    ("already", d("already_requested")),
                ],
            )
        }
        AppError::Detailed { code: "return_window_closed", details, .. } => {
            tx.t_args("returns-error-window", &[("date", tx.day(details.get("closed_on").unwrap_or(&Value::Null)))])
        }
        AppError::Conflict { code: "order_not_delivered", .. } => tx.t("returns-error-not-delivered"),
        AppError::PayloadTooLarge(_) => {
            tx.t_args("returns-error-too-large", &[("mb", (MAX_PHOTO_BYTES >> 20).to_string())])
        }
        AppError::Validation(fields) => fields.values().map(|m| tx.msg(m)).collect::<Vec<_>>().join(" "),
        e => tx.msg(&e.public_message()),
    }
}

/// A request's view with the labels a page shows.
pub(crate) fn decorate(tx: &Tx, v: &mut Value) {
    let label = |k: &str, v: &Value| v.as_str().map(|s| tx.t(&format!("{k}-{s}"))).unwrap_or_default();
    v["status_label"] = json!(label("returns-status", &v["status"]));
    v["reason_label"] = json!(label("returns-reason", &v["reason"]));
    v["way_back_label"] = json!(label("returns-way", &v["way_back"]));
    v["amount_shown"] = json!(tx.amount(&v["amount"]));
    v["when"] = json!(tx.when(&v["created_at"]));
    v["decide_by_shown"] = json!(tx.when(&v["decide_by"]));
    if let Some(lines) = v["lines"].as_array_mut() {
        for l in lines {
            l["unit_label"] = json!(tx.unit(l["unit"].as_str().unwrap_or_default()));
            l["amount_shown"] = json!(tx.amount(&l["amount"]));
            l["price_shown"] = json!(tx.amount(&l["price"]));
        }
    }
    if let Some(msgs) = v["messages"].as_array_mut() {
        for m in msgs {
            m["when"] = json!(tx.when(&m["at"]));
            m["system"] = json!(m["author"] == "system");
            if m["author"] == "system" {
                let body = m["body"].as_str().unwrap_or_default().to_owned();
                m["body"] = json!(one_language(&body, &tx.lang));
            }
            m["who"] = json!(match m["author"].as_str() {
                Some("system") => tx.t("returns-author-system"),
                Some("staff") => tx.t("returns-author-staff"),
                _ => m["name"].as_str().map(str::to_owned).unwrap_or_else(|| tx.t("returns-author-buyer")),
            });
            m["status_label"] = match m["status"].as_str() {
                Some(s) => json!(tx.t(&format!("returns-status-{s}"))),
                None => Value::Null,
            };
        }
    }
}

/// A status note written as «русский / English» (its first line), in the page's language;
/// the lines after it (a person's note) as they are.
fn one_language(body: &str, lang: &str) -> String {
    let (first, rest) = body.split_once('\n').map_or((body, None), |(a, b)| (a, Some(b)));
    let shown = match first.split_once(" / ") {
        Some((ru, en)) => {
            if lang == "ru" {
                ru
            } else {
                en
            }
        }
        None => first,
    };
    match rest {
        Some(r) => format!("{shown}\n{r}"),
        None => shown.to_owned(),
    }
}

/// The list rows with labels and links.
pub(crate) fn rows(tx: &Tx, t: &TenantCtx, list: &Value, base: &str) -> Vec<Value> {
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let mut i = i.clone();
            let number = i["number"].as_str().unwrap_or_default().to_owned();
            i["href"] = json!(t.link(&format!("{base}/{}", urlencode(&number))));
            decorate(tx, &mut i);
            i
        })
        .collect()
}

async fn list(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/account/returns");
    let tx = Tx::new(&state, &req, &t);
    let f = view::Filter::parse(&pairs(&req)?, Some(b.company.id)).unwrap_or_default();
    let f = view::Filter { company: Some(b.company.id), page: f.page.max(1), per_page: 50, ..f };
    let v = with_tenant(&state.pool, &t.tenant.schema, move |c| view::list(c, &f)).await?;
    let data = json!({"returns": rows(&tx, &t, &v, "/account/returns"), "total": v["total"]});
    let ctx = store_page(&req, &tx.t("returns-title"), data).await?;
    render_status(&state, "storefront/returns", &ctx, 200)
}

async fn detail(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    number: String,
    alert: Option<String>,
    status: u16,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &b.tenant);
    let company = b.company.id;
    let mut v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, Some(company), &number, false)?;
        view::show(c, &r, false)
    })
    .await?;
    decorate(&tx, &mut v);
    let number = v["number"].as_str().unwrap_or_default().to_owned();
    let p = pairs(req)?;
    let notice = param(&p, "done")
        .filter(|d| ["sent", "cancelled", "created"].contains(d))
        .map(|d| tx.t(&format!("returns-done-{d}")));
    let action = b.tenant.link(&format!("/account/returns/{}", urlencode(&number)));
    let api = b.tenant.link(&format!("/api/v1/returns/{}", urlencode(&number)));
    let order = v["order"].as_str().unwrap_or_default().to_owned();
    let data = json!({"ret": v, "action": action, "api": api, "alert": alert, "notice": notice,
        "order_href": b.tenant.link(&format!("/orders/{}", urlencode(&order))),
        "can_cancel": v["status"] == "requested" && actor(b).may_order(), "staff": false});
    let ctx = store_page(req, &tx.t_args("returns-one-title", &[("number", number)]), data).await?;
    render_status(state, "storefront/return", &ctx, status)
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let b = buyer_or_return!(req, t, user, &format!("/account/returns/{}", urlencode(&number)));
    detail(&state, &req, &b, number, None, 200).await
}

#[derive(Deserialize)]
pub struct MessageForm {
    body: String,
}

async fn message(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
    form: web::Form<MessageForm>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let b = buyer_or_return!(req, t, user, "/account/returns");
    match buyer_message(&state, &b, number.clone(), form.into_inner().body).await {
        Ok(_) => Ok(see_other(&t.link(&format!("/account/returns/{}?done=sent#thread", urlencode(&number))))),
        Err(e @ (AppError::Validation(_) | AppError::Forbidden(_))) => {
            let tx = Tx::new(&state, &req, &t);
            detail(&state, &req, &b, number, Some(error_text(&tx, &e)), 422).await
        }
        Err(e) => Err(e),
    }
}

async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let b = buyer_or_return!(req, t, user, "/account/returns");
    let (a, n) = (actor(&b), number.clone());
    match with_tenant(&state.pool, &t.tenant.schema, move |c| create::cancel(c, &a, &n)).await {
        Ok(_) => Ok(see_other(&t.link(&format!("/account/returns/{}?done=cancelled", urlencode(&number))))),
        Err(e @ (AppError::Conflict { .. } | AppError::Forbidden(_))) => {
            let tx = Tx::new(&state, &req, &t);
            detail(&state, &req, &b, number, Some(error_text(&tx, &e)), 409).await
        }
        Err(e) => Err(e),
    }
}

/// What the form shows: the order's lines with what is left to return, and what was entered.
async fn form_page(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    number: String,
    entered: &[(String, String)],
    alert: Option<String>,
    status: u16,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &b.tenant);
    let company = b.company.id;
    let mut v =
        with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| view::returnable(c, company, &number)).await?;
    let get = |k: &str| entered.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    if let Some(lines) = v["lines"].as_array_mut() {
        for l in lines {
            let sku = l["sku"].as_str().unwrap_or_default().to_owned();
            l["field"] = json!(format!("qty-{sku}"));
            l["entered"] = json!(get(&format!("qty-{sku}")));
            l["unit_label"] = json!(tx.unit(l["unit"].as_str().unwrap_or_default()));
            l["price_shown"] = json!(tx.amount(&l["price"]));
        }
    }
    let chosen = get("reason");
    let reasons: Vec<Value> = REASONS
        .iter()
        .map(|r| json!({"value": r, "label": tx.t(&format!("returns-reason-{r}")), "selected": chosen == *r}))
        .collect();
    let number = v["order"].as_str().unwrap_or_default().to_owned();
    let delivered = matches!(v["status"].as_str(), Some("delivered" | "completed"));
    let data = json!({"order": v, "reasons": reasons, "comment": get("comment"), "alert": alert, "delivered": delivered,
        "action": b.tenant.link(&format!("/orders/{}/return", urlencode(&number))),
        "order_href": b.tenant.link(&format!("/orders/{}", urlencode(&number))),
        "max_photos": MAX_PHOTOS, "max_mb": MAX_PHOTO_BYTES >> 20});
    let ctx = store_page(req, &tx.t_args("returns-new-title", &[("number", number)]), data).await?;
    render_status(state, "storefront/return_new", &ctx, status)
}

async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let b = buyer_or_return!(req, t, user, &format!("/orders/{}/return", urlencode(&number)));
    form_page(&state, &req, &b, number, &[], None, 200).await
}

/// The quantities entered (`qty-<SKU>` fields; empty and zero ones skipped).
fn lines_of(fields: &[(String, String)]) -> AppResult<Vec<(String, rust_decimal::Decimal)>> {
    let mut lines = Vec::new();
    for (k, v) in fields {
        let (Some(sku), v) = (k.strip_prefix("qty-"), v.trim()) else { continue };
        if v.is_empty() || v == "0" {
            continue;
        }
        let qty = crate::money::parse_qty(&v.replace(',', "."))
            .map_err(|_| AppError::field("lines", format!("{sku}: the quantity must be a number greater than zero")))?;
        lines.push((sku.to_owned(), qty));
    }
    Ok(lines)
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
    multipart: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let b = buyer_or_return!(req, t, user, &format!("/orders/{}/return", urlencode(&number)));
    let mut fields = Vec::new();
    let result = async {
        let files = upload::read_files(multipart, "photos", MAX_PHOTO_BYTES, MAX_PHOTOS, &mut fields).await?;
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let request = Request {
            order: number.clone(),
            lines: lines_of(&fields)?,
            reason: get("reason"),
            comment: get("comment"),
        };
        create::check(&request)?;
        create_with_photos(&state, &b, request, files).await
    }
    .await;
    match result {
        Ok(made) => Ok(see_other(&t.link(&format!("/account/returns/{}?done=created", urlencode(&made))))),
        Err(e @ AppError::NotFound(_)) => Err(e),
        Err(e) => {
            let tx = Tx::new(&state, &req, &t);
            let status = e.info().status;
            form_page(&state, &req, &b, number, &fields, Some(error_text(&tx, &e)), status).await
        }
    }
}
