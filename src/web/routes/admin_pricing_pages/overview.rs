//! `/admin/pricing`: how prices are worked out, customer groups (edit, add) and promotions
//! (list, create, delete).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Tx;
use crate::app::AppState;
use crate::catalog::products::parse_date;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::staff::{MANAGE_PRICES, SEE_CUSTOMERS};
use crate::money::format;
use crate::pricing::manage::{self, GroupPatch, NewPromotion, Promotion};
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::StaffCtx;
use crate::web::routes::account_api::IdPath;
use crate::web::routes::admin_pages::staff_or_return;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

const HERE: &str = "/admin/pricing";

#[derive(Deserialize, Serialize, Default, Clone)]
pub(super) struct GroupForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    discount_percent: String,
}

/// The promotion form as typed (groups ticked are repeated `price_groups` fields).
#[derive(Serialize, Default)]
struct PromoForm {
    name: String,
    kind: String,
    value: String,
    starts_at: String,
    ends_at: String,
    skus: String,
    categories: String,
    price_groups: Vec<String>,
}

impl From<Vec<(String, String)>> for PromoForm {
    fn from(pairs: Vec<(String, String)>) -> PromoForm {
        let mut f = PromoForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "name" => f.name = v,
                "kind" => f.kind = v,
                "value" => f.value = v,
                "starts_at" => f.starts_at = v,
                "ends_at" => f.ends_at = v,
                "skus" => f.skus = v,
                "categories" => f.categories = v,
                "price_groups" => f.price_groups.push(v),
                _ => {}
            }
        }
        f
    }
}

fn list_of(s: &str) -> Vec<String> {
    s.split([',', ';', '\n']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

impl PromoForm {
    /// What the domain checks: the end date is inclusive on the form, so the promotion runs
    /// until the start of the next day.
    fn to_new(&self) -> NewPromotion {
        let ends_at = match parse_date(&self.ends_at) {
            Some(d) => (d + Duration::days(1)).format("%Y-%m-%d").to_string(),
            None => self.ends_at.clone(),
        };
        NewPromotion {
            name: self.name.clone(),
            kind: self.kind.clone(),
            value: super::typed_number(&self.value),
            starts_at: self.starts_at.trim().to_owned(),
            ends_at,
            skus: list_of(&self.skus),
            categories: list_of(&self.categories),
            price_groups: self.price_groups.clone(),
        }
    }
}

/// What a failed form shows again.
#[derive(Default)]
struct Forms {
    /// A group's row: its code, what was typed, why it failed.
    edit: Option<(String, GroupForm, FieldErrors)>,
    add: GroupForm,
    add_errors: FieldErrors,
    promo: Option<PromoForm>,
    promo_errors: FieldErrors,
}

fn promotion_row(
    tx: &Tx,
    p: &Promotion,
    names: &(std::collections::HashMap<i64, String>, std::collections::HashMap<i64, String>),
    groups: &[manage::Group],
) -> Value {
    let now = Utc::now();
    let state = match () {
        _ if !p.active => "off",
        _ if now < p.starts_at => "scheduled",
        _ if now >= p.ends_at => "ended",
        _ => "running",
    };
    // Whole days are shown as the inclusive dates the form takes.
    let end = match p.ends_at.time() == chrono::NaiveTime::MIN {
        true => tx.date(p.ends_at.date_naive() - Duration::days(1)),
        false => tx.time(p.ends_at),
    };
    let join = |ids: &[i64], m: &std::collections::HashMap<i64, String>| {
        ids.iter().map(|i| m.get(i).cloned().unwrap_or_else(|| format!("#{i}"))).collect::<Vec<_>>().join(", ")
    };
    let (skus, cats) = (join(&p.product_ids, &names.0), join(&p.category_ids, &names.1));
    let targets: Vec<String> = [("admin-pricing-skus-label", skus), ("admin-pricing-categories-label", cats)]
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(k, l)| tx.t_with(k, "list", &l))
        .collect();
    let group_names: Vec<String> = p
        .price_groups
        .iter()
        .map(|c| groups.iter().find(|g| &g.code == c).map_or(c.clone(), |g| g.name.clone()))
        .collect();
    let value = match p.kind.as_str() {
        "percent" => format!("−{} %", p.value.normalize()),
        _ => format(p.value),
    };
    json!({"id": p.id, "name": p.name, "kind": tx.t(&format!("admin-pricing-kind-{}", p.kind)), "value": value,
        "period": format!("{} – {end}", tx.time(p.starts_at)), "targets": targets,
        "groups": if group_names.is_empty() { tx.t("admin-pricing-all-groups") } else { group_names.join(", ") },
        "state": state, "state_label": tx.t(&format!("admin-pricing-state-{state}"))})
}

async fn view(state: &AppState, req: &HttpRequest, s: &StaffCtx, f: Forms, status: u16) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let tx = Tx::new(state, req, &s.tenant);
    let (groups, promos, names) = with_tenant(&state.pool, &s.tenant.tenant.schema, |c| {
        let promos = manage::list_promotions(c)?;
        let names = manage::target_names(c, &promos)?;
        Ok((manage::list_groups(c)?, promos, names))
    })
    .await?;
    let rows: Vec<Value> = groups
        .iter()
        .map(|g| {
            let (form, errors) = match &f.edit {
                Some((code, form, errors)) if *code == g.code => (form.clone(), errors.clone()),
                _ => (
                    GroupForm { code: g.code.clone(), name: g.name.clone(), discount_percent: format(g.discount_percent) },
                    FieldErrors::new(),
                ),
            };
            json!({"code": g.code, "name": g.name, "price_list": g.price_type_name, "price_type": g.price_type,
                "discount": format(g.discount_percent), "prices": g.prices, "customers": g.customers, "form": form, "errors": errors})
        })
        .collect();
    let promo = f.promo.unwrap_or_else(|| PromoForm {
        kind: "percent".into(),
        starts_at: Utc::now().date_naive().format("%Y-%m-%d").to_string(),
        ..Default::default()
    });
    let kinds: Vec<Value> = ["percent", "fixed_price"]
        .iter()
        .map(|k| json!({"value": k, "label": tx.t(&format!("admin-pricing-kind-{k}")), "selected": *k == promo.kind}))
        .collect();
    let group_choices: Vec<Value> = groups
        .iter()
        .map(|g| json!({"code": g.code, "name": g.name, "checked": promo.price_groups.contains(&g.code)}))
        .collect();
    let promotions: Vec<Value> = promos.iter().map(|p| promotion_row(&tx, p, &names, &groups)).collect();
    let order: Vec<String> = (1..=7).map(|i| tx.t(&format!("admin-pricing-order-{i}"))).collect();
    let data = json!({"groups": rows, "promotions": promotions, "order": order, "kinds": kinds, "group_choices": group_choices,
        "promo": promo, "promo_errors": f.promo_errors, "add": f.add, "add_errors": f.add_errors,
        "can_manage": MANAGE_PRICES.contains(&s.role), "saved": req.query_string().starts_with("saved=1")});
    let ctx = store_page(req, &tx.t("admin-pricing-title"), data).await?;
    render_status(state, "admin/pricing", &ctx, status)
}

pub(super) async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, HERE);
    view(&state, &req, &s, Forms::default(), 200).await
}

/// Back to the page at `anchor`, or the page again with what `forms` builds around the errors.
async fn done<T>(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    result: AppResult<T>,
    anchor: &str,
    forms: impl FnOnce(FieldErrors) -> Forms,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &s.tenant);
    let (errors, status) = match result {
        Ok(_) => return Ok(see_other(&s.tenant.link(&format!("{HERE}?saved=1{anchor}")))),
        Err(AppError::Validation(e)) => (tx.errors(e), 422),
        Err(AppError::Conflict { code: "group_exists", .. }) => {
            (FieldErrors::from([("code".to_owned(), tx.t("admin-pricing-group-exists"))]), 409)
        }
        Err(e) => return Err(e),
    };
    view(state, req, s, forms(errors), status).await
}

fn patch_of(f: &GroupForm) -> GroupPatch {
    GroupPatch {
        name: Some(f.name.clone()).filter(|n| !n.trim().is_empty()),
        discount_percent: Some(super::typed_number(&f.discount_percent))
            .filter(|_| !f.discount_percent.trim().is_empty()),
        price_type: None,
    }
}

pub(super) async fn add_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<GroupForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, HERE);
    s.require(MANAGE_PRICES)?;
    let f = form.into_inner();
    let (code, patch) = (f.code.trim().to_owned(), patch_of(&f));
    let result =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::create_group(c, &code, patch)).await;
    done(&state, &req, &s, result, "#groups", |add_errors| Forms { add: f, add_errors, ..Default::default() }).await
}

#[derive(Deserialize)]
pub(super) struct CodePath {
    code: String,
}

pub(super) async fn update_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CodePath>,
    form: web::Form<GroupForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, HERE);
    s.require(MANAGE_PRICES)?;
    let code = path.into_inner().code;
    let mut f = form.into_inner();
    f.code = code.clone();
    // The name may not be emptied here: an empty name is reported, not ignored.
    let patch = GroupPatch { name: Some(f.name.clone()), ..patch_of(&f) };
    let key = code.clone();
    let result = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::update_group(c, &key, patch)).await;
    done(&state, &req, &s, result, "#groups", |errors| Forms { edit: Some((code, f, errors)), ..Default::default() })
        .await
}

pub(super) async fn create_promotion(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, HERE);
    s.require(MANAGE_PRICES)?;
    let f = PromoForm::from(form.into_inner());
    let new = f.to_new();
    let result = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::create_promotion(c, new)).await;
    done(&state, &req, &s, result, "#promotions", |promo_errors| Forms {
        promo: Some(f),
        promo_errors,
        ..Default::default()
    })
    .await
}

pub(super) async fn delete_promotion(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, HERE);
    s.require(MANAGE_PRICES)?;
    let id = path.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::delete_promotion(c, id)).await?;
    Ok(see_other(&t.link(&format!("{HERE}?saved=1#promotions"))))
}
