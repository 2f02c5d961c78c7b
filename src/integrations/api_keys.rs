//! API keys: created by the store's administrators, shown once as
//! `tp_live_<prefix>_<secret>`, kept as the SHA-256 of the whole key. The prefix finds the
//! row; the hash is compared in constant time. A key acts as a staff member with the
//! `admin` role on the admin JSON API, limited by its scope: `read` (GET only) or `write`.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::schema::api_keys;
use crate::error::{AppError, AppResult, FieldErrors};

/// What every key starts with (so secret scanners and people recognise it).
pub const KEY_PREFIX: &str = "tp_live_";
/// `last_used_at` is written at most this often per key.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg))]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scope: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// The key as lists show it: never the secret, only the prefix that names it.
    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "prefix": format!("{KEY_PREFIX}{}", self.prefix),
            "scope": self.scope, "created_by": self.created_by, "created_at": self.created_at,
            "last_used_at": self.last_used_at, "revoked_at": self.revoked_at,
            "active": self.revoked_at.is_none(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub scope: String,
}

/// A key that authenticated a request.
#[derive(Debug, Clone, Serialize)]
pub struct KeyUse {
    pub id: i64,
    pub name: String,
    pub write: bool,
    pub created_by: i64,
}

fn hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

fn random_prefix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..12).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// `(prefix, secret)` of a presented key, when it has our shape.
pub fn parse(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    let ok = (8..=16).contains(&prefix.len())
        && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && secret.len() == 64
        && secret.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some((prefix, secret))
}

/// Creates a key; returns it with the full key text, which is never shown again.
pub fn create(conn: &mut PgConnection, by: i64, input: &NewKey) -> AppResult<(ApiKey, String)> {
    let mut errors = FieldErrors::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.insert("name".into(), "name the key (who uses it), 1 to 100 characters".into());
    }
    if !matches!(input.scope.as_str(), "read" | "write") {
        errors.insert("scope".into(), "must be read or write".into());
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let prefix = random_prefix();
    let full = format!("{KEY_PREFIX}{prefix}_{}", hex::encode(secret));
    let key = diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(name),
            api_keys::prefix.eq(&prefix),
            api_keys::secret_hash.eq(hash(&full)),
            api_keys::scope.eq(&input.scope),
            api_keys::created_by.eq(by),
        ))
        .returning(ApiKey::as_returning())
        .get_result(conn)?;
    Ok((key, full))
}

/// Every key of the store, newest first (revoked ones too, marked).
pub fn list(conn: &mut PgConnection) -> AppResult<Vec<ApiKey>> {
    Ok(api_keys::table.order(api_keys::id.desc()).select(ApiKey::as_select()).load(conn)?)
}

/// Revokes a key at once; revoking twice is the same as once.
pub fn revoke(conn: &mut PgConnection, id: i64, by: i64) -> AppResult<ApiKey> {
    let found: Option<ApiKey> = api_keys::table.find(id).select(ApiKey::as_select()).first(conn).optional()?;
    let key = found.ok_or_else(|| AppError::not_found("API key"))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    Ok(diesel::update(api_keys::table.find(id))
        .set((api_keys::revoked_at.eq(diesel::dsl::now), api_keys::revoked_by.eq(by)))
        .returning(ApiKey::as_returning())
        .get_result(conn)?)
}

/// The live key `presented` names in this store, or `None` (unknown, wrong, revoked).
/// Notes the use, at most once a minute per key.
pub fn authenticate(conn: &mut PgConnection, presented: &str) -> AppResult<Option<KeyUse>> {
    let Some((prefix, _)) = parse(presented) else { return Ok(None) };
    let row: Option<(ApiKey, Vec<u8>)> = api_keys::table
        .filter(api_keys::prefix.eq(prefix))
        .filter(api_keys::revoked_at.is_null())
        .select((ApiKey::as_select(), api_keys::secret_hash))
        .first(conn)
        .optional()?;
    let Some((key, stored)) = row else { return Ok(None) };
    if !bool::from(hash(presented).ct_eq(&stored)) {
        return Ok(None);
    }
    let stale = key.last_used_at.is_none_or(|t| t < Utc::now() - Duration::seconds(TOUCH_EVERY_SECS));
    if stale {
        diesel::update(api_keys::table.find(key.id)).set(api_keys::last_used_at.eq(diesel::dsl::now)).execute(conn)?;
    }
    Ok(Some(KeyUse { id: key.id, name: key.name, write: key.scope == "write", created_by: key.created_by }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_of_our_shape_are_looked_up() {
        let good = format!("tp_live_abcdef123456_{}", "a1".repeat(32));
        assert_eq!(parse(&good), Some(("abcdef123456", "a1".repeat(32).as_str())));
        assert_eq!(parse("tp_live_abc_"), None);
        assert_eq!(parse(&good.replace("tp_live_", "tp_test_")), None);
        assert_eq!(parse(&format!("tp_live_ABCDEF123456_{}", "a1".repeat(32))), None);
        assert_eq!(parse(&format!("{good}0")), None);
        assert_eq!(parse("eyJhbGciOiJIUzI1NiJ9.x.y"), None);
    }
}
