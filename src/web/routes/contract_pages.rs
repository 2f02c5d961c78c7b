//! Contract pages. Staff: the store's contract and agreement templates (`/admin/contract-template`:
//! a textarea per kind and language, a preview with sample data, saved only when it compiles
//! and renders) and a new contract issued from a customer's page. The buyer's contracts are
//! listed on its Finance page (`contract_rows`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::admin_pages::staff_or_return;
use super::contract_api::{issue_contract, save_template, TemplateBody};
use super::order_pages::{param, Tx};
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::finance::contracts::pdf::{blocks, Block};
use crate::finance::contracts::{template, Contract};
use crate::identity::staff::MANAGE_STAFF;
use crate::platform::features::Feature;
use crate::web::auth::MaybeUser;
use crate::web::features::enabled;
use crate::web::render::{render_status, store_page};
use crate::web::routes::account_api::IdPath;
use crate::web::routes::catalog_api::pairs;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let form = || {
        web::FormConfig::default()
            .limit(1024 * 1024)
            .error_handler(|e, _| AppError::BadRequest(format!("the form could not be read: {e}")).into())
    };
    cfg.service(
        web::resource("/admin/contract-template")
            .guard(enabled(Feature::Documents))
            .app_data(form())
            .route(web::get().to(show))
            .route(web::post().to(save)),
    )
    .service(
        web::resource("/admin/customers/{id}/contracts")
            .guard(enabled(Feature::Documents))
            .route(web::post().to(issue)),
    );
}

/// Documents as the pages list them: title, date, terms and the PDF.
pub(crate) fn contract_rows(tx: &Tx, docs: &[Value]) -> Vec<Value> {
    docs.iter()
        .map(|d| {
            let title = if d["kind"] == "agreement" {
                tx.t_args(
                    "contracts-agreement-title",
                    &[
                        ("number", d["number"].as_str().unwrap_or_default().to_owned()),
                        ("contract", d["contract_number"].as_str().unwrap_or_default().to_owned()),
                    ],
                )
            } else {
                tx.t_args(
                    "contracts-contract-title",
                    &[("number", d["number"].as_str().unwrap_or_default().to_owned())],
                )
            };
            let days = d["payment_terms_days"].as_i64().unwrap_or(0);
            let terms = if days == 0 {
                tx.t("contracts-prepayment")
            } else {
                tx.t_args("contracts-deferral", &[("days", days.to_string())])
            };
            json!({"id": d["id"], "kind": d["kind"], "title": title, "date": tx.day(&d["date"]), "terms": terms,
                "credit_limit": tx.amount(&d["credit_limit"]), "pdf": d["pdf"]})
        })
        .collect()
}

fn kind_lang(req: &HttpRequest, form: Option<&[(String, String)]>) -> AppResult<(&'static str, &'static str)> {
    let query = pairs(req)?;
    let get =
        |k: &str| -> Option<String> { form.and_then(|f| param(f, k)).or_else(|| param(&query, k)).map(str::to_owned) };
    template::parse_kind_lang(get("kind").as_deref(), get("lang").as_deref())
}

/// A check's reason in the page's language: the fixed phrases translated, names and
/// handlebars' own details kept as they are.
fn reason(tx: &Tx, english: &str) -> String {
    if tx.lang != "ru" {
        return english.to_owned();
    }
    [
        ("the template cannot be filled in: ", "шаблон нельзя заполнить: "),
        ("the template does not compile: ", "шаблон содержит ошибку синтаксиса: "),
        ("unknown variable ", "неизвестная переменная "),
        ("(line ", "(строка "),
        ("the template is empty", "шаблон пуст"),
        ("partials and decorators", "вставки других шаблонов и декораторы"),
        ("are not available in documents", "в документах недоступны"),
    ]
    .iter()
    .fold(english.to_owned(), |s, (en, ru)| s.replace(en, ru))
}

/// The page: tabs, the textarea, the preview (or why there is none) and the names to use.
async fn page(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    (kind, lang): (&str, &str),
    body: String,
    outcome: Result<String, String>,
    notice: Option<&str>,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, t);
    let status = if outcome.is_ok() { 200 } else { 422 };
    let preview: Vec<Value> = outcome
        .as_deref()
        .map(|text| {
            blocks(text)
                .into_iter()
                .map(|b| match b {
                    Block::Title(s) => json!({"title": s}),
                    Block::Heading(s) => json!({"heading": s}),
                    Block::Edges(l, r) => json!({"left": l, "right": r}),
                    Block::Paragraph(s) => json!({"text": s}),
                    Block::Gap => json!({"gap": true}),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut variables = Vec::new();
    flatten("", &template::sample(kind, lang), &mut variables);
    let tabs: Vec<Value> = template::KINDS
        .iter()
        .flat_map(|k| template::LANGS.iter().map(move |l| (*k, *l)))
        .map(|(k, l)| {
            json!({"href": t.link(&format!("/admin/contract-template?kind={k}&lang={l}")), "current": k == kind && l == lang,
                "label": format!("{} · {}", tx.t(&format!("contracts-kind-{k}")), l.to_uppercase())})
        })
        .collect();
    let data = json!({"kind": kind, "lang": lang, "body": body, "tabs": tabs, "preview": preview,
        "error": outcome.err().map(|e| reason(&tx, &e)), "notice": notice.map(|n| tx.t(n)), "variables": variables});
    let ctx = store_page(req, &tx.t("contracts-template-title"), data).await?;
    render_status(state, "admin/contract_template", &ctx, status)
}

/// `contract.number = Д-2026-0001` for every leaf of the sample data.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            let m: &Map<String, Value> = m;
            for (k, v) in m {
                let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&name, v, out);
            }
        }
        other => {
            let shown = other.as_str().map_or_else(|| other.to_string(), str::to_owned);
            out.push(json!({"name": prefix, "example": shown}));
        }
    }
}

async fn show(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/contract-template");
    s.require(MANAGE_STAFF)?;
    let (kind, lang) = kind_lang(&req, None)?;
    let (body, _) = with_tenant(&state.pool, &t.tenant.schema, move |c| template::load(c, kind, lang)).await?;
    let outcome = template::check(kind, lang, &body);
    let saved = param(&pairs(&req)?, "saved").is_some();
    page(&state, &req, &t, (kind, lang), body, outcome, saved.then_some("contracts-template-saved")).await
}

async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/contract-template");
    s.require(MANAGE_STAFF)?;
    let fields = form.into_inner();
    let (kind, lang) = kind_lang(&req, Some(&fields))?;
    let body = param(&fields, "body").unwrap_or_default().replace("\r\n", "\n");
    if param(&fields, "action") == Some("preview") {
        let outcome = template::check(kind, lang, &body);
        let notice = outcome.is_ok().then_some("contracts-template-preview-only");
        return page(&state, &req, &t, (kind, lang), body, outcome, notice).await;
    }
    let b = TemplateBody { kind: Some(kind.into()), lang: Some(lang.into()), body: body.clone() };
    match save_template(&state, &s, b).await {
        Ok(_) => Ok(see_other(&t.link(&format!("/admin/contract-template?kind={kind}&lang={lang}&saved=1")))),
        Err(AppError::Validation(errors)) => {
            let why = errors.into_values().next().unwrap_or_default();
            page(&state, &req, &t, (kind, lang), body, Err(why), Some("contracts-template-not-saved")).await
        }
        Err(e) => Err(e),
    }
}

async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let here = format!("/admin/customers/{}", path.id);
    let s = staff_or_return!(req, t, user, &here);
    let doc: Contract = issue_contract(&state, &s, path.id).await?;
    Ok(see_other(&t.link(&format!("{here}?contract={}#contracts", doc.id))))
}
