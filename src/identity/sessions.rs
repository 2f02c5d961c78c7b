//! Sessions are short-lived HS256 JWTs (algorithm pinned), carried in an HttpOnly
//! SameSite cookie for pages or as a Bearer token for the API. Every use is checked
//! server-side: the token's `jti` must not be revoked (logout) and it must be issued
//! after the account's `tokens_valid_after` (password change).

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::accounts::Account;
use crate::config::AuthSettings;
use crate::db::schema_platform::{accounts, refresh_tokens, revoked_tokens};
use crate::error::{AppError, AppResult};
use crate::identity::tokens::{hash_token, random_token};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// Issue time in milliseconds, compared with `tokens_valid_after`.
    pub iat_ms: i64,
}

impl Claims {
    pub fn account_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }

    pub fn jti(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.jti).ok()
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.exp, 0).single().unwrap_or_else(Utc::now)
    }
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_secs: i64,
}

/// A freshly issued token.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

impl JwtKeys {
    pub fn new(settings: &AuthSettings) -> JwtKeys {
        let secret = settings.jwt_secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs: settings.token_ttl_secs,
        }
    }

    pub fn issue(&self, account_id: i64) -> AppResult<IssuedToken> {
        let now = Utc::now();
        let claims = Claims {
            sub: account_id.to_string(),
            jti: Uuid::new_v4().to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_secs,
            iat_ms: now.timestamp_millis(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("token signing failed: {e}")))?;
        Ok(IssuedToken { token, expires_in: self.ttl_secs })
    }

    /// Verifies signature, algorithm and expiry. Anything wrong is a plain 401.
    pub fn decode(&self, token: &str) -> AppResult<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| AppError::Unauthorized)
    }
}

/// Loads the account behind valid claims, or 401 if revoked, outdated or gone.
pub fn load_session(conn: &mut PgConnection, claims: &Claims) -> AppResult<Account> {
    load_session_in(conn, claims, None).map(|(account, _)| account)
}

/// [`load_session`] that also reads the cache generations of the tenant the request is for,
/// in the same statement (see `crate::cache`).
pub fn load_session_in(
    conn: &mut PgConnection,
    claims: &Claims,
    schema: Option<&str>,
) -> AppResult<(Account, crate::db::Generations)> {
    use crate::db::schema_platform::tenant_generations as g;
    let (Some(id), Some(jti)) = (claims.account_id(), claims.jti()) else {
        return Err(AppError::Unauthorized);
    };
    let issued = Utc.timestamp_millis_opt(claims.iat_ms).single().ok_or(AppError::Unauthorized)?;
    let revoked = diesel::dsl::exists(revoked_tokens::table.filter(revoked_tokens::jti.eq(jti)));
    accounts::table
        .filter(accounts::id.eq(id))
        .filter(accounts::tokens_valid_after.le(issued))
        .filter(diesel::dsl::not(revoked))
        .select((
            Account::as_select(),
            g::table.filter(g::schema_name.eq(schema.unwrap_or(""))).select(g::catalog).single_value(),
            g::table.filter(g::schema_name.eq(schema.unwrap_or(""))).select(g::access).single_value(),
        ))
        .first::<(Account, Option<i64>, Option<i64>)>(conn)
        .optional()?
        .map(|(account, catalog, access)| {
            (account, crate::db::Generations { catalog: catalog.unwrap_or(0), access: access.unwrap_or(0) })
        })
        .ok_or(AppError::Unauthorized)
}

/// Revokes one token until it would have expired anyway.
pub fn revoke(conn: &mut PgConnection, claims: &Claims) -> AppResult<()> {
    let jti = claims.jti().ok_or(AppError::Unauthorized)?;
    diesel::insert_into(revoked_tokens::table)
        .values((revoked_tokens::jti.eq(jti), revoked_tokens::expires_at.eq(claims.expires_at())))
        .on_conflict_do_nothing()
        .execute(conn)?;
    diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(diesel::dsl::now))).execute(conn)?;
    Ok(())
}

/// Issues a refresh token (a new family at login, the same family on rotation).
pub fn issue_refresh(
    conn: &mut PgConnection,
    account_id: i64,
    family: Option<Uuid>,
    ttl_days: i64,
) -> AppResult<String> {
    let token = random_token();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::account_id.eq(account_id),
            refresh_tokens::token_hash.eq(hash_token(&token)),
            refresh_tokens::family.eq(family.unwrap_or_else(Uuid::new_v4)),
            refresh_tokens::expires_at.eq(Utc::now() + chrono::Duration::days(ttl_days)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Exchanges a refresh token for a new one: `Some((account, new token))`, or `None` when
/// refused. A token used twice outside the grace period revokes its whole family; that is
/// why refusal is `Ok(None)`: the revocation must commit.
pub fn rotate_refresh(
    conn: &mut PgConnection,
    token: &str,
    ttl_days: i64,
    grace_secs: i64,
) -> AppResult<Option<(i64, String)>> {
    type Row = (i64, i64, Uuid, Option<DateTime<Utc>>, Option<DateTime<Utc>>, DateTime<Utc>);
    let row: Option<Row> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_token(token)))
        .select((
            refresh_tokens::id,
            refresh_tokens::account_id,
            refresh_tokens::family,
            refresh_tokens::used_at,
            refresh_tokens::revoked_at,
            refresh_tokens::expires_at,
        ))
        .for_update()
        .first(conn)
        .optional()?;
    let Some((id, account_id, family, used_at, revoked_at, expires_at)) = row else {
        return Ok(None);
    };
    let now = Utc::now();
    if revoked_at.is_some() || expires_at <= now {
        return Ok(None);
    }
    if let Some(used) = used_at {
        if now - used > chrono::Duration::seconds(grace_secs) {
            diesel::update(refresh_tokens::table.filter(refresh_tokens::family.eq(family)))
                .set(refresh_tokens::revoked_at.eq(now))
                .execute(conn)?;
            tracing::warn!(account_id, "refresh token reused; its family is revoked");
            return Ok(None);
        }
    } else {
        diesel::update(refresh_tokens::table.find(id)).set(refresh_tokens::used_at.eq(now)).execute(conn)?;
    }
    let next = issue_refresh(conn, account_id, Some(family), ttl_days)?;
    Ok(Some((account_id, next)))
}

/// Logout with a refresh token: its whole family stops working.
pub fn revoke_refresh(conn: &mut PgConnection, token: &str) -> AppResult<()> {
    let family: Option<Uuid> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_token(token)))
        .select(refresh_tokens::family)
        .first(conn)
        .optional()?;
    if let Some(family) = family {
        diesel::update(refresh_tokens::table.filter(refresh_tokens::family.eq(family)))
            .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
            .execute(conn)?;
    }
    Ok(())
}

/// Password change or deactivation: every access and refresh token of the account dies.
pub fn revoke_all(conn: &mut PgConnection, account_id: i64) -> AppResult<()> {
    diesel::update(accounts::table.find(account_id))
        .set(accounts::tokens_valid_after.eq(diesel::dsl::now))
        .execute(conn)?;
    diesel::update(refresh_tokens::table.filter(refresh_tokens::account_id.eq(account_id)))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&AuthSettings {
            jwt_secret: SecretString::from(secret.to_owned()),
            token_ttl_secs: 60,
            refresh_ttl_days: 1,
            refresh_reuse_grace_secs: 10,
            login_attempts: 5,
            login_window_secs: 60,
        })
    }

    #[test]
    fn tokens_round_trip_and_forgeries_fail() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let t = k.issue(42).expect("issue");
        let c = k.decode(&t.token).expect("decode");
        assert_eq!(c.account_id(), Some(42));
        // Another key, a tampered payload, alg=none: all refused.
        assert!(keys("ffffffffffffffffffffffffffffffff").decode(&t.token).is_err());
        let mut parts: Vec<String> = t.token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(k.decode(&parts.join(".")).is_err());
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let forged = format!("{none_header}.{}.", t.token.split('.').nth(1).unwrap_or(""));
        assert!(k.decode(&forged).is_err());
    }

    #[test]
    fn expired_tokens_fail() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let past = Utc::now().timestamp() - 3600;
        let claims =
            Claims { sub: "1".into(), jti: Uuid::new_v4().to_string(), iat: past - 60, exp: past, iat_ms: past * 1000 };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).expect("encode");
        assert!(k.decode(&token).is_err());
    }
}
