//! Invitations by e-mail: staff to a store, colleagues to a buyer company. The link
//! carries a random token stored hashed; it works once, for the invited address, for 7 days.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::accounts::Account;
use super::companies;
use super::staff::{self, StaffRole};
use super::tokens::{hash_token, random_token};
use crate::db::schema_tenant::invitations;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = invitations, check_for_backend(diesel::pg::Pg))]
pub struct Invitation {
    pub id: i64,
    pub kind: String,
    pub email: String,
    pub role: String,
    pub company_id: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

pub enum Target {
    Staff(StaffRole),
    Member { company_id: i64, role: String },
}

/// Creates an invitation; returns the token for the link.
pub fn create(conn: &mut PgConnection, email: &str, target: &Target, invited_by: i64) -> AppResult<String> {
    let email = super::accounts::normalize_email(email).map_err(|e| AppError::field("email", e))?;
    let (kind, role, company_id) = match target {
        Target::Staff(r) => ("staff", r.as_str().to_owned(), None),
        Target::Member { company_id, role } => {
            if !companies::MEMBER_ROLES.contains(&role.as_str()) {
                return Err(AppError::field("role", format!("must be one of {}", companies::MEMBER_ROLES.join(", "))));
            }
            ("member", role.clone(), Some(*company_id))
        }
    };
    let token = random_token();
    diesel::insert_into(invitations::table)
        .values((
            invitations::kind.eq(kind),
            invitations::email.eq(&email),
            invitations::role.eq(&role),
            invitations::company_id.eq(company_id),
            invitations::token_hash.eq(hash_token(&token)),
            invitations::invited_by.eq(invited_by),
            invitations::expires_at.eq(Utc::now() + Duration::days(7)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// A pending, unexpired invitation by its token.
pub fn find(conn: &mut PgConnection, token: &str) -> AppResult<Option<Invitation>> {
    Ok(invitations::table
        .filter(invitations::token_hash.eq(hash_token(token)))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(diesel::dsl::now))
        .select(Invitation::as_select())
        .first(conn)
        .optional()?)
}

/// Accepts an invitation as `account`, whose e-mail must be the invited one.
pub fn accept(conn: &mut PgConnection, token: &str, account: &Account) -> AppResult<Invitation> {
    let inv = find(conn, token)?.ok_or_else(|| AppError::not_found("invitation (it may have expired or been used)"))?;
    if inv.email != account.email.to_lowercase() {
        return Err(AppError::forbidden("this invitation was sent to another e-mail address"));
    }
    match (inv.kind.as_str(), inv.company_id) {
        ("staff", _) => {
            let role = StaffRole::parse(&inv.role)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad staff role in invitation")))?;
            staff::add(conn, account.id, role)?;
        }
        ("member", Some(company_id)) => companies::add_member(conn, company_id, account.id, &inv.role)?,
        _ => return Err(AppError::Internal(anyhow::anyhow!("malformed invitation {}", inv.id))),
    }
    diesel::update(invitations::table.find(inv.id))
        .set((invitations::accepted_at.eq(diesel::dsl::now), invitations::accepted_by.eq(account.id)))
        .execute(conn)?;
    Ok(inv)
}
