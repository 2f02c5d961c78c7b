//! Exchange sessions: opened by `checkauth` with the store's exchange credentials, found
//! again by the cookie (and `sessid`, when 1C sends it), and every request written down.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use subtle::ConstantTimeEq;

use super::schema::{exchange_requests as req_t, exchange_sessions as s_t};
use super::{Kind, SESSION_TTL_HOURS};
use crate::error::AppResult;
use crate::identity::tokens::{hash_token, random_token};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = s_t)]
pub struct Session {
    pub id: i64,
    pub sessid: String,
    pub kind: String,
    pub version: Option<String>,
    pub status: String,
    pub bytes_received: i64,
    pub last_seen_at: DateTime<Utc>,
}

impl Session {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Catalog)
    }

    /// `type=sale` without `version=` at `init`: each uploaded file is imported at once and
    /// the answer to `mode=file` is the result (COMMERCEML.md §2.4).
    pub fn old_sale_protocol(&self) -> bool {
        self.kind() == Kind::Sale && self.version.is_none()
    }
}

/// A new session: its id, the cookie value and the `sessid` for 1C (shown once).
pub struct Opened {
    pub id: i64,
    pub token: String,
    pub sessid: String,
}

/// Whether `login`/`password` are the store's (the password check is the slow part: run it
/// off the async threads).
pub fn credentials_match(opts: &super::ExchangeOptions, login: &str, password: &str) -> bool {
    let login_ok: bool = opts.login.as_bytes().ct_eq(login.as_bytes()).into();
    // Always verify, so a wrong login takes as long as a wrong password.
    let password_ok = crate::identity::password::verify(password, opts.password_hash.as_deref());
    opts.usable() && login_ok && password_ok
}

pub fn open(conn: &mut PgConnection, kind: Kind, remote_addr: &str, user_agent: &str) -> AppResult<Opened> {
    let (token, sessid) = (random_token(), random_token()[..32].to_owned());
    let ua: String = user_agent.chars().take(300).collect();
    let id = diesel::insert_into(s_t::table)
        .values((
            s_t::token_hash.eq(hash_token(&token)),
            s_t::sessid.eq(&sessid),
            s_t::kind.eq(kind.as_str()),
            s_t::remote_addr.eq(remote_addr),
            s_t::user_agent.eq(ua),
        ))
        .returning(s_t::id)
        .get_result(conn)?;
    Ok(Opened { id, token, sessid })
}

/// Why a request is not part of a session.
#[derive(Debug, PartialEq, Eq)]
pub enum NotFound {
    NoCookie,
    Unknown,
    Expired,
    WrongSessid,
}

impl NotFound {
    pub fn message(&self) -> &'static str {
        match self {
            NotFound::NoCookie => "Ошибка авторизации: сначала mode=checkauth (нет cookie сеанса)",
            NotFound::Unknown => "Ошибка авторизации: сеанс обмена не найден, выполните mode=checkauth",
            NotFound::Expired => "Сеанс обмена истёк, выполните mode=checkauth",
            NotFound::WrongSessid => "Ошибка авторизации: sessid не совпадает с сеансом",
        }
    }
}

/// The session of a later request, by its cookie value and optional `sessid`.
pub fn find(
    conn: &mut PgConnection,
    token: Option<&str>,
    sessid: Option<&str>,
) -> AppResult<Result<Session, NotFound>> {
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Ok(Err(NotFound::NoCookie)) };
    let found: Option<Session> =
        s_t::table.filter(s_t::token_hash.eq(hash_token(token))).select(Session::as_select()).first(conn).optional()?;
    let Some(s) = found else { return Ok(Err(NotFound::Unknown)) };
    if s.last_seen_at < Utc::now() - Duration::hours(SESSION_TTL_HOURS) {
        return Ok(Err(NotFound::Expired));
    }
    if let Some(given) = sessid.filter(|v| !v.is_empty()) {
        let same: bool = given.as_bytes().ct_eq(s.sessid.as_bytes()).into();
        if !same {
            return Ok(Err(NotFound::WrongSessid));
        }
    }
    Ok(Ok(s))
}

/// `mode=init`: the protocol version 1C announced.
pub fn set_version(conn: &mut PgConnection, id: i64, version: Option<&str>) -> AppResult<()> {
    diesel::update(s_t::table.find(id)).set(s_t::version.eq(version)).execute(conn)?;
    Ok(())
}

/// `mode=complete` (or the last step of a sale exchange): the session is over.
pub fn finish(conn: &mut PgConnection, id: i64, failed: Option<&str>) -> AppResult<()> {
    diesel::update(s_t::table.find(id))
        .set((
            s_t::status.eq(if failed.is_some() { "failed" } else { "completed" }),
            s_t::error.eq(failed),
            s_t::finished_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// One request and our answer, for the log; touches the session.
pub struct Logged<'a> {
    pub session_id: Option<i64>,
    pub kind: &'a str,
    pub mode: &'a str,
    pub filename: &'a str,
    pub bytes: i64,
    pub status: &'a str,
    pub message: &'a str,
    pub duration_ms: i32,
}

pub fn log(conn: &mut PgConnection, r: &Logged) -> AppResult<()> {
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    diesel::insert_into(req_t::table)
        .values((
            req_t::session_id.eq(r.session_id),
            req_t::kind.eq(cut(r.kind, 20)),
            req_t::mode.eq(cut(r.mode, 20)),
            req_t::filename.eq(cut(r.filename, 300)),
            req_t::bytes.eq(r.bytes),
            req_t::status.eq(r.status),
            req_t::message.eq(cut(r.message, 2000)),
            req_t::duration_ms.eq(r.duration_ms),
        ))
        .execute(conn)?;
    if let Some(id) = r.session_id {
        diesel::update(s_t::table.find(id))
            .set((
                s_t::requests.eq(s_t::requests + 1),
                s_t::bytes_received.eq(s_t::bytes_received + r.bytes),
                s_t::last_seen_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Sessions older than the newest `keep`, whose files may go (their log rows stay).
pub fn beyond_kept(conn: &mut PgConnection, keep: i64) -> AppResult<Vec<i64>> {
    Ok(s_t::table.order(s_t::id.desc()).offset(keep.max(1)).limit(1000).select(s_t::id).load(conn)?)
}
