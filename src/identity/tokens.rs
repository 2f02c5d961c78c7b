//! Random secrets handed to people (links, refresh tokens) and stored only as hashes,
//! and the single-use e-mail tokens (address confirmation, password reset).

use chrono::{Duration, Utc};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::schema_platform::email_tokens;
use crate::error::AppResult;

/// 256 random bits as 64 hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored in place of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ConfirmEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::ConfirmEmail => "confirm_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    fn ttl(self) -> Duration {
        match self {
            Purpose::ConfirmEmail => Duration::days(7),
            Purpose::ResetPassword => Duration::hours(1),
        }
    }
}

/// Creates a token for `account_id`; earlier unused tokens of the same purpose stop working.
pub fn issue(conn: &mut PgConnection, account_id: i64, purpose: Purpose) -> AppResult<String> {
    diesel::update(email_tokens::table)
        .filter(email_tokens::account_id.eq(account_id))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .set(email_tokens::expires_at.eq(diesel::dsl::now))
        .execute(conn)?;
    let token = random_token();
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(hash_token(&token)),
            email_tokens::account_id.eq(account_id),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::expires_at.eq(Utc::now() + purpose.ttl()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Uses a token once: its account if it was valid, unused and unexpired.
pub fn consume(conn: &mut PgConnection, token: &str, purpose: Purpose) -> AppResult<Option<i64>> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(diesel::update(email_tokens::table)
        .filter(email_tokens::token_hash.eq(hash_token(token)))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(diesel::dsl::now))
        .set(email_tokens::used_at.eq(diesel::dsl::now))
        .returning(email_tokens::account_id)
        .get_result(conn)
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
    }
}
