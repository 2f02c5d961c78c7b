//! The 1C exchange over HTTP ("обмен с сайтом", COMMERCEML.md §2): sessions opened by
//! `mode=checkauth`, files received by `mode=file` (chunked, zipped), imports run as jobs
//! while `mode=import` answers `progress`, orders out by `mode=query`/`mode=success`, and the
//! log staff read. The handler is `web/routes/exchange_1c.rs`; this module holds the rules.

pub mod files;
pub mod imports;
pub mod log;
pub mod schema;
pub mod sessions;
pub mod setup;

use diesel::PgConnection;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::exchange::report::AnswerEncoding;
use crate::platform::tenant_settings;

/// The `settings` key of the store's exchange options.
pub const SETTINGS_KEY: &str = "exchange_1c";
/// The cookie 1C sends back after `checkauth`.
pub const COOKIE: &str = "tp_1c";
/// A session 1C has not used for this long is over.
pub const SESSION_TTL_HOURS: i64 = 24;

/// What staff set for the exchange (`PUT /api/v1/admin/exchange-1c`, `/admin/exchange`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ExchangeOptions {
    pub enabled: bool,
    pub login: String,
    /// argon2id of the password 1C sends; never shown.
    pub password_hash: Option<String>,
    /// Answers (status lines and the orders XML) in windows-1251 or UTF-8 with BOM.
    pub encoding: AnswerEncoding,
    /// Whether 1C may send one zip instead of separate files.
    pub zip: bool,
    /// `file_limit` announced to 1C (at most the server's `exchange.file_limit`).
    pub file_limit: u64,
}

impl Default for ExchangeOptions {
    fn default() -> Self {
        ExchangeOptions {
            enabled: false,
            login: String::new(),
            password_hash: None,
            encoding: AnswerEncoding::Windows1251,
            zip: true,
            file_limit: 100 * 1024 * 1024,
        }
    }
}

impl ExchangeOptions {
    pub fn load(conn: &mut PgConnection) -> AppResult<ExchangeOptions> {
        Ok(tenant_settings::get(conn, SETTINGS_KEY)?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
    }

    pub fn save(&self, conn: &mut PgConnection) -> AppResult<()> {
        let v = serde_json::to_value(self).map_err(|e| AppError::Internal(e.into()))?;
        tenant_settings::set(conn, SETTINGS_KEY, &v)
    }

    /// Ready for 1C: on, with a login and a password.
    pub fn usable(&self) -> bool {
        self.enabled && !self.login.is_empty() && self.password_hash.is_some()
    }
}

/// `type=` of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Catalog,
    Sale,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "catalog" => Some(Kind::Catalog),
            "sale" => Some(Kind::Sale),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Catalog => "catalog",
            Kind::Sale => "sale",
        }
    }
}

/// An answer to 1C: the status word and the message lines 1C writes to its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: &'static str,
    pub lines: Vec<String>,
}

impl Answer {
    pub fn success(lines: impl IntoIterator<Item = String>) -> Answer {
        Answer { status: "success", lines: lines.into_iter().collect() }
    }

    pub fn progress(message: impl Into<String>) -> Answer {
        Answer { status: "progress", lines: vec![message.into()] }
    }

    pub fn failure(message: impl Into<String>) -> Answer {
        Answer { status: "failure", lines: vec![message.into()] }
    }

    /// Lines without a status word (the answer to `mode=init`: `zip=yes`, `file_limit=…`).
    pub fn bare(lines: Vec<String>) -> Answer {
        Answer { status: "", lines }
    }

    /// The text sent: status word, then each line, `\n`-separated.
    pub fn text(&self) -> String {
        let mut out = String::from(self.status);
        for l in &self.lines {
            if !out.is_empty() {
                out.push('\n');
            }
            // A message is one line in 1C's log.
            out.push_str(&l.replace(['\r', '\n'], " "));
        }
        out
    }

    /// What the log keeps of it.
    pub fn message(&self) -> String {
        self.lines.first().cloned().unwrap_or_default()
    }
}
