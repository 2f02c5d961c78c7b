//! `/admin/customers/{id}/prices`: a customer's contract prices, replaced from a textarea of
//! `SKU;price;from;to;note` lines; every bad line is reported and nothing is applied.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{cells, numbered, typed_number, Tx};
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::identity::companies;
use crate::identity::staff::{MANAGE_PRICES, SEE_CUSTOMERS};
use crate::money::format;
use crate::pricing::manage::{self, ContractLine, ContractPrice};
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::StaffCtx;
use crate::web::routes::account_api::IdPath;
use crate::web::routes::admin_pages::staff_or_return;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

/// Lines the form takes at once (a larger price list goes through the API).
const MAX_LINES: usize = 10_000;

/// The form of this page may carry a long list.
pub(super) fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(1024 * 1024)
        .error_handler(|e, _| AppError::BadRequest(format!("the form could not be read: {e}")).into())
}

fn path_of(id: i64) -> String {
    format!("/admin/customers/{id}/prices")
}

/// A stored price as a line of the textarea.
fn as_line(p: &ContractPrice) -> String {
    let d = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let line = format!("{};{};{};{};{}", p.sku, format(p.price), d(p.valid_from), d(p.valid_to), p.note);
    line.trim_end_matches(';').to_owned()
}

async fn view(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    id: i64,
    typed: Option<(String, Vec<String>)>,
    status: u16,
) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let tx = Tx::new(state, req, &s.tenant);
    let (company, prices) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let company = companies::find(c, id)?.ok_or_else(|| AppError::not_found("customer"))?;
        Ok((company, manage::contract_prices(c, id)?))
    })
    .await?;
    let none = || tx.t("admin-pricing-open-ended");
    let rows: Vec<Value> = prices
        .iter()
        .map(|p| {
            json!({"sku": p.sku, "href": s.tenant.link(&format!("/admin/products/{}", urlencode(&p.sku))), "name": p.product_name, "price": format(p.price),
            "from": p.valid_from.map(|d| tx.date(d)).unwrap_or_else(none), "to": p.valid_to.map(|d| tx.date(d)).unwrap_or_else(none), "note": p.note})
        })
        .collect();
    let (text, problems) =
        typed.unwrap_or_else(|| (prices.iter().map(as_line).collect::<Vec<_>>().join("\n"), Vec::new()));
    let data = json!({"id": id, "company": company.name, "prices": rows, "text": text, "problems": problems,
        "rows": (text.lines().count() + 3).clamp(6, 20), "can_manage": MANAGE_PRICES.contains(&s.role),
        "saved": req.query_string().starts_with("saved=1")});
    let ctx = store_page(req, &tx.t_with("admin-pricing-contract-title", "company", &company.name), data).await?;
    render_status(state, "admin/customer_prices", &ctx, status)
}

pub(super) async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, &path_of(path.id));
    view(&state, &req, &s, path.id, None, 200).await
}

#[derive(Deserialize)]
pub(super) struct LinesForm {
    #[serde(default)]
    lines: String,
}

/// The textarea's lines for the domain, with the line number of each.
fn parse(text: &str) -> (Vec<ContractLine>, Vec<usize>) {
    numbered(text)
        .into_iter()
        .map(|(n, l)| {
            let c = cells(l, 5);
            let cell = |i: usize| c.get(i).cloned().unwrap_or_default();
            let line = ContractLine {
                sku: cell(0),
                price: typed_number(&cell(1)),
                valid_from: Some(cell(2)),
                valid_to: Some(cell(3)),
                note: cell(4),
            };
            (line, n)
        })
        .unzip()
}

pub(super) async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
    form: web::Form<LinesForm>,
) -> AppResult<HttpResponse> {
    let id = path.id;
    let s = staff_or_return!(req, t, user, &path_of(id));
    s.require(MANAGE_PRICES)?;
    let text = form.into_inner().lines;
    let (lines, numbers) = parse(&text);
    if lines.len() > MAX_LINES {
        return Err(AppError::PayloadTooLarge("at most 10,000 lines at once".into()));
    }
    let result =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::replace_contract_prices(c, id, &lines))
            .await;
    match result {
        Ok(_) => Ok(see_other(&t.link(&format!("{}?saved=1", path_of(id))))),
        Err(e) => {
            let problems = Tx::new(&state, &req, &t).line_errors(e, &numbers)?;
            view(&state, &req, &s, id, Some((text, problems)), 422).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_numbers() {
        let (lines, numbers) = parse("RH-70;920,50;2026-01-01;;договор\n\nRH-60\n");
        assert_eq!(numbers, vec![1, 3]);
        assert_eq!(lines[0].price, Ok("920.50".to_string()));
        assert_eq!((lines[0].valid_to.as_deref(), lines[0].note.as_str()), (Some(""), "договор"));
        assert_eq!(lines[1].price, Err("is required".to_string()));
    }
}
