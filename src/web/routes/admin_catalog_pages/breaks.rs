//! Quantity breaks on the product form: a textarea of `min qty;percent` lines, saved through
//! `pricing::manage` (`MANAGE_PRICES`); every bad line is reported and nothing is applied.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::form::{Loaded, Posted};
use super::products::product_view;
use super::{product_link, product_path, SkuPath};
use crate::app::AppState;
use crate::catalog::products::Row;
use crate::db::with_tenant;
use crate::error::{AppResult, FieldErrors};
use crate::identity::staff::MANAGE_PRICES;
use crate::money::{format, format_qty};
use crate::pricing::manage::{self, BreakLine};
use crate::web::auth::MaybeUser;
use crate::web::roles::StaffCtx;
use crate::web::routes::admin_pages::staff_or_return;
use crate::web::routes::admin_pricing_pages::{cells, numbered, typed_number, Tx};
use crate::web::tenant::TenantCtx;

/// The form field (and the prefix of its line errors in `Posted::errors`).
const FIELD: &str = "quantity_breaks";

/// The section's data: the text (as typed after a failed save, else as stored) and problems.
pub(super) fn section(l: &Loaded, values: &Row, errors: &mut FieldErrors, s: &StaffCtx, saved: bool) -> Value {
    let stored =
        || l.breaks.iter().map(|(q, p)| format!("{};{}", format_qty(*q), format(*p))).collect::<Vec<_>>().join("\n");
    let text = values.get(FIELD).cloned().unwrap_or_else(stored);
    let keys: Vec<String> = errors.keys().filter(|k| k.starts_with(FIELD)).cloned().collect();
    let problems: Vec<String> = keys.iter().filter_map(|k| errors.remove(k)).collect();
    json!({"show": l.product.is_some(), "text": text, "problems": problems, "saved": saved,
        "rows": (l.breaks.len() + 2).clamp(3, 10), "can_manage": MANAGE_PRICES.contains(&s.role)})
}

#[derive(Deserialize)]
pub(super) struct BreaksForm {
    #[serde(default)]
    quantity_breaks: String,
}

pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    form: web::Form<BreaksForm>,
) -> AppResult<HttpResponse> {
    let sku = path.into_inner().sku;
    let s = staff_or_return!(req, t, user, &product_path(&sku));
    s.require(MANAGE_PRICES)?;
    let text = form.into_inner().quantity_breaks;
    let (lines, numbers): (Vec<BreakLine>, Vec<usize>) = numbered(&text)
        .into_iter()
        .map(|(n, l)| {
            let c = cells(l, 2);
            let cell = |i: usize| c.get(i).map(|v| v.trim_end_matches('%').trim().to_owned()).unwrap_or_default();
            (BreakLine { min_qty: typed_number(&cell(0)), discount_percent: typed_number(&cell(1)) }, n)
        })
        .unzip();
    let key = sku.clone();
    match with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::replace_breaks(c, &key, &lines)).await {
        Ok(_) => Ok(crate::web::routes::see_other(&product_link(&t, &sku, "breaks"))),
        Err(e) => {
            let problems = Tx::new(&state, &req, &t).line_errors(e, &numbers)?;
            let mut posted = Posted::default();
            posted.input.insert(FIELD.into(), text);
            // Zero-padded, so the problems stay in line order.
            posted.errors = problems.into_iter().enumerate().map(|(i, p)| (format!("{FIELD}.{i:05}"), p)).collect();
            product_view(&state, &req, &s, Some(sku), posted, None, 422).await
        }
    }
}
