//! The categories and attributes page: both lists, and a form to add each.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{category_options, option, tree, Tx};
use crate::app::AppState;
use crate::catalog::attributes::{self, NewAttribute, KINDS};
use crate::catalog::categories::{self, NewCategory};
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::staff::MANAGE_CATALOG;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::StaffCtx;
use crate::web::routes::admin_pages::staff_or_return;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

#[derive(Deserialize, Serialize, Default)]
pub(super) struct CategoryForm {
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
pub(super) struct AttributeForm {
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

pub(super) async fn categories_page(
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

/// After an add: back to the page (at `anchor`) with the saved notice, or the page again
/// with the form `forms` builds around the errors.
async fn added<T>(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    done: AppResult<T>,
    anchor: &str,
    forms: impl FnOnce(FieldErrors) -> CatalogForms,
) -> AppResult<HttpResponse> {
    match done {
        Ok(_) => Ok(see_other(&s.tenant.link(&format!("/admin/categories?saved=1{anchor}")))),
        Err(e) => {
            let (errors, status) = form_errors(&Tx::new(state, req, &s.tenant), e)?;
            categories_view(state, req, s, forms(errors), status).await
        }
    }
}

pub(super) async fn add_category(
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
    let done = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| categories::create(c, new)).await;
    added(&state, &req, &s, done, "", |category_errors| CatalogForms {
        category: f,
        category_errors,
        ..Default::default()
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct CodePath {
    code: String,
}

pub(super) async fn delete_category(
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

pub(super) async fn add_attribute(
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
    let done = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| attributes::create(c, new)).await;
    added(&state, &req, &s, done, "#attributes", |attribute_errors| CatalogForms {
        attribute: Some(f),
        attribute_errors,
        ..Default::default()
    })
    .await
}
