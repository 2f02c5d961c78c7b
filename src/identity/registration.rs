//! Storefront self-registration: an account (or the signed-in one) plus the buyer's
//! company. Open portals activate the company at once; closed portals wait for staff.

use diesel::PgConnection;
use serde::Deserialize;

use super::accounts::{self, Account, NewAccount};
use super::companies::{self, Company, CompanyInput};
use super::staff::{self, StaffRole};
use super::tokens::{self, Purpose};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::platform::mail::{self, OutgoingMail};
use crate::platform::tenants::{PortalMode, Tenant};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub company: CompanyInput,
}

pub struct Outcome {
    pub account: Account,
    pub company: Company,
    pub new_account: bool,
}

/// Links in mail point at the platform's configured address, never at a request's Host.
pub struct Links<'a> {
    pub store: &'a str,
}

/// Picks the Russian or English text by the tenant's default language.
pub fn by_locale(tenant: &Tenant, ru: String, en: String) -> String {
    if tenant.default_locale == "ru" {
        ru
    } else {
        en
    }
}

/// Sends the address-confirmation link (new accounts, or on request).
pub fn send_confirmation(
    conn: &mut PgConnection,
    tenant: &Tenant,
    account: &Account,
    links: &Links<'_>,
) -> AppResult<()> {
    let token = tokens::issue(conn, account.id, Purpose::ConfirmEmail)?;
    let link = format!("{}/confirm-email?token={token}", links.store);
    mail::enqueue(
        conn,
        OutgoingMail {
            tenant_id: Some(tenant.id),
            to: &account.email,
            subject: by_locale(
                tenant,
                format!("{}: подтвердите e-mail", tenant.name),
                format!("{}: confirm your e-mail", tenant.name),
            ),
            text: by_locale(
                tenant,
                format!(
                    "Здравствуйте, {}!\n\nПодтвердите адрес, открыв ссылку (действует 7 дней):\n{link}\n",
                    account.name
                ),
                format!(
                    "Hello {},\n\nConfirm your address by opening this link (valid for 7 days):\n{link}\n",
                    account.name
                ),
            ),
            links: vec![link],
        },
    )?;
    Ok(())
}

pub fn register(
    conn: &mut PgConnection,
    tenant: &Tenant,
    req: &RegisterRequest,
    signed_in: Option<&Account>,
    links: &Links<'_>,
) -> AppResult<Outcome> {
    let mut errors = FieldErrors::new();
    req.company.validate(&mut errors);
    if signed_in.is_some() && (req.email.is_some() || req.password.is_some()) {
        errors.insert("email".into(), "you are signed in: send only the company".into());
    }
    if signed_in.is_none() {
        let new = NewAccount {
            email: req.email.as_deref().unwrap_or(""),
            name: req.name.as_deref().unwrap_or(""),
            password: Some(req.password.as_deref().unwrap_or("")),
            is_operator: false,
        };
        accounts::validate_new(&new, "", &mut errors);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (account, new_account) = match signed_in {
        Some(a) => (a.clone(), false),
        None => {
            let email = req.email.as_deref().unwrap_or("");
            if accounts::find_by_email(conn, &accounts::normalize_email(email).unwrap_or_default())?.is_some() {
                return Err(AppError::conflict(
                    "email_registered",
                    "an account with this e-mail already exists: sign in, then register the company from your account",
                ));
            }
            let a = accounts::create(
                conn,
                NewAccount {
                    email,
                    name: req.name.as_deref().unwrap_or(""),
                    password: req.password.as_deref(),
                    is_operator: false,
                },
            )?;
            (a, true)
        }
    };
    let status = match tenant.mode {
        PortalMode::Open => "active",
        PortalMode::Closed => "pending_approval",
    };
    let company = companies::create(conn, &req.company, status)?;
    companies::add_member(conn, company.id, account.id, "admin")?;
    if new_account {
        send_confirmation(conn, tenant, &account, links)?;
    }
    let cabinet = format!("{}/account", links.store);
    let (subject, text) = if status == "active" {
        (
            by_locale(tenant, format!("{}: добро пожаловать", tenant.name), format!("Welcome to {}", tenant.name)),
            by_locale(
                tenant,
                format!("Компания «{}» зарегистрирована, можно заказывать: {cabinet}\n", company.name),
                format!("{} is registered and can order now: {cabinet}\n", company.name),
            ),
        )
    } else {
        (
            by_locale(tenant, format!("{}: заявка получена", tenant.name), format!("{}: application received", tenant.name)),
            by_locale(
                tenant,
                format!("Заявка компании «{}» получена. Мы сообщим, когда поставщик её проверит. Статус: {cabinet}\n", company.name),
                format!("We received the application of {}. We will write when the supplier has reviewed it. Status: {cabinet}\n", company.name),
            ),
        )
    };
    mail::enqueue(
        conn,
        OutgoingMail { tenant_id: Some(tenant.id), to: &account.email, subject, text, links: vec![cabinet] },
    )?;
    if status == "pending_approval" {
        let review = format!("{}/admin/customers/{}", links.store, company.id);
        for to in staff::emails(conn, &[StaffRole::Owner, StaffRole::Admin, StaffRole::Manager])? {
            mail::enqueue(
                conn,
                OutgoingMail {
                    tenant_id: Some(tenant.id),
                    to: &to,
                    subject: by_locale(
                        tenant,
                        format!("Новая заявка: {}", company.name),
                        format!("New customer to review: {}", company.name),
                    ),
                    text: by_locale(
                        tenant,
                        format!("{} (ИНН {}) ждёт проверки: {review}\n", company.name, company.inn),
                        format!("{} (INN {}) is waiting for approval: {review}\n", company.name, company.inn),
                    ),
                    links: vec![review.clone()],
                },
            )?;
        }
    }
    Ok(Outcome { account, company, new_account })
}
