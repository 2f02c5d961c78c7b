//! Global accounts (`public.accounts`): one per e-mail across every storefront.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::password;
use crate::db::schema_platform::accounts;
use crate::error::{AppError, AppResult, FieldErrors};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub is_operator: bool,
    pub email_confirmed_at: Option<DateTime<Utc>>,
}

/// Lower-cases and checks an e-mail address (a pragmatic check, not RFC 5322).
pub fn normalize_email(input: &str) -> Result<String, String> {
    let email = input.trim().to_lowercase();
    let Some((local, domain)) = email.split_once('@') else {
        return Err("must be an e-mail address".into());
    };
    let ok = !local.is_empty()
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','));
    if ok {
        Ok(email)
    } else {
        Err("must be an e-mail address".into())
    }
}

pub fn find_by_email(conn: &mut PgConnection, email: &str) -> AppResult<Option<(Account, Option<String>)>> {
    Ok(accounts::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = ")
                .bind::<diesel::sql_types::Text, _>(email.to_lowercase()),
        )
        .select((Account::as_select(), accounts::password_hash))
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut PgConnection, id: i64) -> AppResult<Option<Account>> {
    Ok(accounts::table.find(id).select(Account::as_select()).first(conn).optional()?)
}

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: Option<&'a str>,
    pub is_operator: bool,
}

/// Validates the fields of a new account; errors are keyed by `prefix` + field name.
pub fn validate_new(new: &NewAccount<'_>, prefix: &str, errors: &mut FieldErrors) {
    if let Err(e) = normalize_email(new.email) {
        errors.insert(format!("{prefix}email"), e);
    }
    let name_len = new.name.trim().chars().count();
    if name_len == 0 || name_len > 200 {
        errors.insert(format!("{prefix}name"), "must be 1 to 200 characters".into());
    }
    if let Some(p) = new.password {
        if let Err(e) = password::check_strength(p) {
            errors.insert(format!("{prefix}password"), e);
        }
    }
}

/// Creates an account; an e-mail already registered is a 409 `email_taken`.
pub fn create(conn: &mut PgConnection, new: NewAccount<'_>) -> AppResult<Account> {
    let mut errors = FieldErrors::new();
    validate_new(&new, "", &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let email = normalize_email(new.email).map_err(|e| AppError::field("email", e))?;
    let hash = new.password.map(password::hash).transpose()?;
    diesel::insert_into(accounts::table)
        .values((
            accounts::email.eq(&email),
            accounts::name.eq(new.name.trim()),
            accounts::password_hash.eq(hash),
            accounts::is_operator.eq(new.is_operator),
        ))
        .returning(Account::as_returning())
        .get_result(conn)
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => {
                AppError::conflict("email_taken", "an account with this e-mail already exists")
            }
            other => other,
        })
}

/// Makes an account an operator and sets its password (the `operator create` command).
pub fn make_operator(conn: &mut PgConnection, id: i64, password: &str) -> AppResult<()> {
    password::check_strength(password).map_err(|e| AppError::field("password", e))?;
    diesel::update(accounts::table.find(id))
        .set((
            accounts::is_operator.eq(true),
            accounts::password_hash.eq(password::hash(password)?),
            accounts::tokens_valid_after.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_password_hash(conn: &mut PgConnection, id: i64, hash: &str) -> AppResult<()> {
    diesel::update(accounts::table.find(id)).set(accounts::password_hash.eq(hash)).execute(conn)?;
    Ok(())
}

pub fn mark_email_confirmed(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    diesel::update(accounts::table.find(id))
        .filter(accounts::email_confirmed_at.is_null())
        .set(accounts::email_confirmed_at.eq(diesel::dsl::now))
        .execute(conn)?;
    Ok(())
}

/// Checks credentials. Every failure is the same 401, whether the e-mail exists or not.
pub fn authenticate(conn: &mut PgConnection, email: &str, pass: &str) -> AppResult<Account> {
    let found = match normalize_email(email) {
        Ok(e) => find_by_email(conn, &e)?,
        Err(_) => None,
    };
    let (account, hash) = match found {
        Some((a, h)) => (Some(a), h),
        None => (None, None),
    };
    if password::verify(pass, hash.as_deref()) {
        account.ok_or(AppError::Unauthorized)
    } else {
        Err(AppError::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(normalize_email("  Ivan@Example.COM "), Ok("ivan@example.com".to_string()));
        for bad in ["", "ivan", "ivan@", "@example.com", "ivan@example", "iv an@example.com", "a<b>@example.com"] {
            assert!(normalize_email(bad).is_err(), "{bad} accepted");
        }
    }
}
