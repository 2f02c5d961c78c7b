//! Finance pages. The buyer's "Finance" in the cabinet: where the company stands (balance,
//! debt, overdue, credit left) and its ledger for a period. The staff's "Finance": customers
//! who owe, the most overdue first, a customer's ledger, and bank payments registered and
//! reversed.

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin_pages::staff_or_return;
use super::order_pages::{buyer_or_return, param, Tx};
use super::see_other;
use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::schema_tenant::companies as co;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::finance::ledger::{self, Position};
use crate::finance::payments::{self, PaymentIn};
use crate::identity::companies::{self, Company};
use crate::identity::staff::{MANAGE_FINANCE, SEE_FINANCE};
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::routes::account_api::IdPath;
use crate::web::routes::catalog_api::pairs;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/account/finance").route(web::get().to(buyer_finance)))
        .service(web::resource("/admin/finance").route(web::get().to(staff_finance)))
        .service(web::resource("/admin/finance/payments").route(web::post().to(register)))
        .service(web::resource("/admin/finance/import").route(web::post().to(import)))
        .service(web::resource("/admin/finance/payments/{id}/reverse").route(web::post().to(reverse)));
}

/// The period asked for in the query string, or the current month with the error shown.
fn period_or_default(req: &HttpRequest) -> AppResult<((chrono::NaiveDate, chrono::NaiveDate), FieldErrors)> {
    let p = pairs(req)?;
    match ledger::period(param(&p, "from"), param(&p, "to")) {
        Ok(period) => Ok((period, FieldErrors::new())),
        Err(AppError::Validation(e)) => Ok((ledger::period(None, None)?, e)),
        Err(e) => Err(e),
    }
}

/// What the position and ledger partials show (`partials/position`, `partials/ledger`).
struct Fin<'a> {
    tx: &'a Tx<'a>,
    /// Where a shipment's order number links to (`/orders` or `/admin/orders`).
    orders: String,
    action: String,
    customer: Option<i64>,
    /// The reconciliation statement's address (the period is added).
    pdf: String,
}

/// A position with its amounts as the page writes them.
fn shown(tx: &Tx, p: &Position) -> Value {
    let mut v = p.json();
    if let Some(o) = v.as_object_mut() {
        for x in o.values_mut() {
            *x = json!(tx.amount(x));
        }
    }
    v
}

impl Fin<'_> {
    fn view(
        &self,
        company: &Company,
        position: &Position,
        ledger: Value,
        currency: &str,
        errors: FieldErrors,
    ) -> Value {
        let tx = self.tx;
        let blank = |v: &Value| if v.as_str() == Some("0.00") { Value::Null } else { json!(tx.amount(v)) };
        let rows: Vec<Value> = ledger["movements"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                let kind = m["kind"].as_str().unwrap_or_default();
                let doc = m["document"].as_str().unwrap_or_default();
                let href = (kind == "shipment" && !doc.is_empty()).then(|| format!("{}/{doc}", self.orders));
                json!({"kind": kind, "kind_label": self.tx.t(&format!("finance-kind-{kind}")), "document": doc, "href": href,
                    "date": tx.day(&m["date"]), "due_on": m["due_on"].as_str().map(|_| tx.day(&m["due_on"])),
                    "debit": blank(&m["debit"]), "credit": blank(&m["credit"]), "balance": tx.amount(&m["balance"])})
            })
            .collect();
        json!({
            "company": {"id": company.id, "name": company.name, "inn": company.inn},
            "position": shown(tx, position), "currency": currency,
            "overdue": position.overdue > rust_decimal::Decimal::ZERO,
            "on_order": position.on_order > rust_decimal::Decimal::ZERO,
            "ledger": {
                "from": ledger["from"], "to": ledger["to"],
                "opening_balance": tx.amount(&ledger["opening_balance"]), "closing_balance": tx.amount(&ledger["closing_balance"]),
                "debit_turnover": tx.amount(&ledger["debit_turnover"]), "credit_turnover": tx.amount(&ledger["credit_turnover"]),
            },
            "contract": ledger["contract"].as_object().map(|c| json!({"number": c["number"], "date": tx.day(&c["date"])})),
            "reconciliation": format!("{}?from={}&to={}", self.pdf, ledger["from"].as_str().unwrap_or_default(), ledger["to"].as_str().unwrap_or_default()),
            "rows": rows, "errors": errors.into_values().collect::<Vec<_>>(), "staff": self.customer.is_some(),
            "action": self.action, "customer": self.customer,
        })
    }
}

async fn buyer_finance(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/account/finance");
    let tx = Tx::new(&state, &req, &t);
    let (period, errors) = period_or_default(&req)?;
    let status = if errors.is_empty() { 200 } else { 422 };
    let company = b.company.clone();
    let contracts_base =
        t.tenant.has(crate::platform::features::Feature::Documents).then(|| t.link("/api/v1/contracts"));
    let (position, ledger, currency, invoices, contracts) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let contracts = match contracts_base {
            Some(base) => super::contract_api::listed_of(c, company.id, &base)?,
            None => Vec::new(),
        };
        Ok((
            ledger::position(c, &company)?,
            ledger::statement(c, company.id, period.0, period.1)?,
            catalog_settings::load(c)?.currency,
            crate::finance::invoices::list(c, Some(company.id), 100)?,
            contracts,
        ))
    })
    .await?;
    let fin = Fin {
        tx: &tx,
        orders: t.link("/orders"),
        action: t.link("/account/finance"),
        customer: None,
        pdf: t.link("/api/v1/account/reconciliation.pdf"),
    };
    let mut invoices = invoice_rows(&tx, &t, &invoices, "/orders", "/api/v1/orders");
    super::card_pages::pay_buttons(&t, &mut invoices);
    let card_notice = param(&pairs(&req)?, "card").filter(|v| *v == "unavailable").map(|_| tx.t("card-unavailable"));
    let contracts = super::contract_pages::contract_rows(&tx, &contracts);
    let data = json!({"fin": fin.view(&b.company, &position, ledger, &currency, errors), "invoices": invoices,
        "card_notice": card_notice, "contracts": contracts});
    let ctx = store_page(&req, &tx.t("finance-title"), data).await?;
    render_status(&state, "storefront/finance", &ctx, status)
}

/// Invoices as the pages list them, each with its order's page and the PDF.
fn invoice_rows(tx: &Tx, t: &TenantCtx, invoices: &[Value], orders: &str, pdf: &str) -> Vec<Value> {
    invoices
        .iter()
        .map(|i| {
            let status = i["status"].as_str().unwrap_or_default();
            let order = i["order"].as_str().unwrap_or_default();
            json!({"id": i["id"], "number": i["number"], "date": tx.day(&i["date"]), "due_on": tx.day(&i["due_on"]),
                "order": order, "order_href": t.link(&format!("{orders}/{order}")),
                "pdf_href": t.link(&format!("{pdf}/{order}/invoice.pdf")),
                "amount": tx.amount(&i["amount"]), "left": tx.amount(&i["left"]), "status": status,
                "status_label": tx.t(&format!("invoice-status-{status}")),
                "open": matches!(status, "unpaid" | "partly_paid")})
        })
        .collect()
}

/// The staff page: with `?customer=ID` that customer's position and ledger; always the
/// debtors, the payment form and the latest payments.
async fn staff_finance(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/finance");
    s.require(SEE_FINANCE)?;
    let p = pairs(&req)?;
    let notice = param(&p, "saved")
        .map(|_| "finance-payment-saved")
        .or(param(&p, "reversed").map(|_| "finance-payment-reversed"))
        .or(param(&p, "refunded").map(|_| "card-refunded"));
    let customer = param(&p, "customer").and_then(|v| v.parse::<i64>().ok());
    let import = param(&p, "import").and_then(|v| v.parse::<i64>().ok());
    let tx = Tx::new(&state, &req, &t);
    let page = Page { customer, import, import_error: None, notice: notice.map(|k| tx.t(k)) };
    staff_page(&state, &req, &t, &tx, page, Form::default(), FieldErrors::new()).await
}

/// What the staff page shows besides the lists.
#[derive(Default)]
struct Page {
    customer: Option<i64>,
    /// A statement import whose report to show.
    import: Option<i64>,
    import_error: Option<String>,
    notice: Option<String>,
}

async fn staff_page(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    tx: &Tx<'_>,
    page: Page,
    form: Form,
    form_errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let (customer, import) = (page.customer, page.import);
    let (period, errors) = period_or_default(req)?;
    let bad = !form_errors.is_empty() || !errors.is_empty() || page.import_error.is_some();
    let status = if bad { 422 } else { 200 };
    let cards = super::card_pages::recent(state, t).await?;
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let currency = catalog_settings::load(c)?.currency;
        let debtors = ledger::debtors(c)?;
        let customers: Vec<(i64, String, String)> =
            co::table.order(co::name).limit(1000).select((co::id, co::name, co::inn)).load(c)?;
        let (recent, _) = payments::list(c, customer, 0, 50)?;
        let one = match customer.map(|id| companies::find(c, id)).transpose()?.flatten() {
            Some(company) => {
                let position = ledger::position(c, &company)?;
                let l = ledger::statement(c, company.id, period.0, period.1)?;
                let invoices = crate::finance::invoices::list(c, Some(company.id), 100)?;
                Some((company, position, l, invoices))
            }
            None => None,
        };
        let imports = crate::finance::bank_import::list(c, 10)?;
        let report = import.map(|id| crate::finance::bank_import::find(c, id)).transpose()?;
        Ok((currency, debtors, customers, recent, one, imports, report))
    })
    .await?;
    let (currency, debtors, customers, recent, one, imports, report) = r;
    let names: std::collections::HashMap<i64, &str> = customers.iter().map(|(id, n, _)| (*id, n.as_str())).collect();
    let fin = Fin {
        tx,
        orders: t.link("/admin/orders"),
        action: t.link("/admin/finance"),
        customer,
        pdf: t.link(&format!("/api/v1/admin/customers/{}/reconciliation.pdf", customer.unwrap_or_default())),
    };
    let chosen = form.customer_id.parse::<i64>().ok().or(customer);
    let data = json!({
        "notice": page.notice,
        "imports": imports.iter().map(|i| {
            let mut v = i.clone();
            v["href"] = json!(t.link(&format!("/admin/finance?import={}#import-report", i["id"])));
            let day: String = i["created_at"].as_str().unwrap_or_default().chars().take(10).collect();
            v["created_at"] = json!(tx.day(&json!(day)));
            v
        }).collect::<Vec<_>>(),
        "report": report.map(|r| import_report(tx, t, r)),
        "import_error": page.import_error,
        "currency": currency,
        "debtors": debtors.iter().map(|(c, p)| json!({"id": c.id, "name": c.name, "inn": c.inn, "position": shown(tx, p),
            "overdue": p.overdue > rust_decimal::Decimal::ZERO, "href": t.link(&format!("/admin/finance?customer={}", c.id))})).collect::<Vec<_>>(),
        "customers": customers.iter().map(|(id, name, inn)| json!({"id": id, "name": name, "inn": inn, "selected": Some(*id) == chosen})).collect::<Vec<_>>(),
        "payments": recent.iter().map(|p| {
            let mut v = p.json();
            v["customer"] = json!(names.get(&p.company_id).copied().unwrap_or_default());
            v["reversed"] = json!(p.status == "reversed");
            // A card payment is refunded from the card payments list, never reversed.
            v["card"] = json!(p.method == "card");
            v["amount"] = json!(tx.amount(&v["amount"]));
            v["paid_at"] = json!(tx.day(&v["paid_at"]));
            v
        }).collect::<Vec<_>>(),
        "by_card": t.tenant.has(crate::platform::features::Feature::CardPayments),
        "cards": cards.iter().map(|a| super::card_pages::row(tx, &names, a)).collect::<Vec<_>>(),
        "form": {"amount": form.amount, "reference": form.reference, "paid_at": form.paid_at, "invoice": form.invoice},
        "form_errors": form_errors,
        "one": one.map(|(company, position, l, invoices)| {
            let mut v = fin.view(&company, &position, l, &currency, errors);
            v["invoices"] = json!(invoice_rows(tx, t, &invoices, "/admin/orders", "/api/v1/admin/orders"));
            v
        }),
        "today": ledger::today(),
    });
    let ctx = store_page(req, &tx.t("finance-title"), data).await?;
    render_status(state, "admin/finance", &ctx, status)
}

#[derive(Debug, Default, Deserialize)]
struct Form {
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    paid_at: String,
    #[serde(default)]
    invoice: String,
}

async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<Form>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/finance");
    s.require(MANAGE_FINANCE)?;
    let f = form.into_inner();
    let tx = Tx::new(&state, &req, &t);
    let mut errors = FieldErrors::new();
    let customer_id = f
        .customer_id
        .trim()
        .parse::<i64>()
        .map_err(|_| errors.insert("customer_id".into(), tx.t("finance-choose-customer")))
        .ok();
    let paid_at = match f.paid_at.trim() {
        "" => None,
        d => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| errors.insert("paid_at".into(), tx.msg("must be a date like 2026-01-31")))
            .ok(),
    };
    let result = match customer_id {
        Some(customer_id) if errors.is_empty() => {
            let input = PaymentIn {
                customer_id,
                amount: json!(typed_amount(&f.amount)),
                reference: f.reference.clone(),
                paid_at,
                currency: None,
                invoice: Some(f.invoice.trim().to_owned()).filter(|v| !v.is_empty()),
            };
            let me = s.user.account.id;
            with_tenant(&state.pool, &t.tenant.schema, move |c| {
                let currency = catalog_settings::load(c)?.currency;
                payments::register(c, Some(me), &input, &currency)
            })
            .await
        }
        _ => Err(AppError::Validation(errors)),
    };
    match result {
        Ok(p) => Ok(see_other(&t.link(&format!("/admin/finance?customer={}&saved=1", p.company_id)))),
        Err(AppError::Validation(e)) => {
            let e = e.into_iter().map(|(k, v)| (k, tx.msg(&v))).collect();
            let page = Page { customer: customer_id, ..Page::default() };
            staff_page(&state, &req, &t, &tx, page, f, e).await
        }
        Err(e) => Err(e),
    }
}

/// An amount as people type it on the page: "1 500,50" and "1500.50" alike.
fn typed_amount(s: &str) -> String {
    s.trim().replace([' ', '\u{a0}', '\u{202f}'], "").replace(',', ".")
}

async fn reverse(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/finance");
    s.require(MANAGE_FINANCE)?;
    let (me, id) = (s.user.account.id, path.id);
    let p = with_tenant(&state.pool, &t.tenant.schema, move |c| payments::reverse(c, me, id)).await?;
    Ok(see_other(&t.link(&format!("/admin/finance?customer={}&reversed=1", p.company_id))))
}

/// An import's report as the page shows it: each document with what became of it.
fn import_report(tx: &Tx, t: &TenantCtx, mut r: Value) -> Value {
    if let Some(items) = r["items"].as_array_mut() {
        for i in items.iter_mut() {
            let status = i["status"].as_str().unwrap_or_default().to_owned();
            i["status_label"] = json!(tx.t(&format!("finance-import-{status}")));
            let code = i["reason_code"].as_str().unwrap_or_default().to_owned();
            let arg = i["reason_arg"].as_str().unwrap_or_default().to_owned();
            i["reason"] = json!(tx.t_args(&format!("finance-import-why-{code}"), &[("arg", arg)]));
            i["amount"] = json!(tx.amount(&i["amount"]));
            i["date"] = json!(tx.day(&i["date"]));
            i["customer_href"] = i["customer"]["id"]
                .as_i64()
                .map(|id| json!(t.link(&format!("/admin/finance?customer={id}"))))
                .unwrap_or(Value::Null);
            i["problem"] = json!(status == "unmatched");
        }
    }
    r
}

/// The statement upload on the staff page: the report after a redirect, or the reason the
/// file was refused (nothing imported).
async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    multipart: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/finance");
    s.require(MANAGE_FINANCE)?;
    let tx = Tx::new(&state, &req, &t);
    let up = crate::web::upload::read(multipart, &["file"], crate::finance::bank_statement::MAX_BYTES, &mut Vec::new())
        .await;
    let result = match up {
        Ok(Some(up)) => super::finance_import::run(&state, &s, up.file_name, up.bytes).await,
        Ok(None) => Err(AppError::field("file", "choose the statement file (1CClientBankExchange, kl_to_1c.txt)")),
        Err(e) => Err(e),
    };
    match result {
        Ok(report) => Ok(see_other(&t.link(&format!("/admin/finance?import={}#import-report", report["id"])))),
        Err(e) => {
            // A file that cannot be used: the reason on the page (anything else is an error page).
            let message = match e {
                AppError::Validation(e) => e.into_values().next().unwrap_or_default(),
                AppError::PayloadTooLarge(m) => m,
                e => return Err(e),
            };
            let page = Page { import_error: Some(tx.msg(&message)), ..Page::default() };
            staff_page(&state, &req, &t, &tx, page, Form::default(), FieldErrors::new()).await
        }
    }
}
