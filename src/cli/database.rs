//! Connecting from the command line, with a clear sentence when PostgreSQL is not there.

use anyhow::{anyhow, Context};
use diesel::prelude::*;
use secrecy::ExposeSecret;

use crate::config::DatabaseSettings;
use crate::db::{build_pool, PgPool};

/// `postgres://…/name?x` → (`postgres://…/postgres?x`, `name`).
pub fn split_database_url(url: &str) -> Option<(String, String)> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (server, name) = base.rsplit_once('/')?;
    if name.is_empty() || server.ends_with('/') && !server.ends_with("//") {
        return None;
    }
    Some((format!("{server}/postgres{query}"), name.to_owned()))
}

fn not_answering(url: &str, e: &dyn std::fmt::Display) -> anyhow::Error {
    let after_at = url.rsplit('@').next().unwrap_or(url);
    let host = after_at.split('/').next().unwrap_or("");
    let name = split_database_url(url).map(|(_, n)| n).unwrap_or_default();
    let detail = e.to_string();
    let one_line = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    if detail.contains("database") && detail.contains("does not exist") {
        return anyhow!(
            "the database {name:?} does not exist at {host}; `tradeport demo` creates it, or run `createdb {name}`"
        );
    }
    anyhow!(
        "PostgreSQL does not answer at {host} ({one_line}); start it (for example `pg_ctlcluster --skip-systemctl-redirect 15 main start`) or set DATABASE_URL"
    )
}

/// Creates the database named in the URL if it does not exist.
pub fn ensure_database(settings: &DatabaseSettings) -> anyhow::Result<bool> {
    let url = settings.url.expose_secret();
    let (admin_url, name) = split_database_url(url).ok_or_else(|| anyhow!("DATABASE_URL must name a database"))?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(anyhow!("the database name {name:?} may contain only letters, digits, '_' and '-'"));
    }
    if PgConnection::establish(url).is_ok() {
        return Ok(false);
    }
    let mut conn = PgConnection::establish(&admin_url).map_err(|e| not_answering(url, &e))?;
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .with_context(|| format!("cannot create database {name}"))?;
    Ok(true)
}

/// One direct connection, or a sentence saying PostgreSQL is not answering.
pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<PgConnection> {
    let url = settings.url.expose_secret();
    PgConnection::establish(url).map_err(|e| not_answering(url, &e))
}

/// A small pool for commands, checked once so a dead database fails fast.
pub fn pool(settings: &DatabaseSettings, size: u32) -> anyhow::Result<PgPool> {
    connect(settings)?;
    Ok(build_pool(settings, Some(size)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_split_into_server_and_name() {
        assert_eq!(
            split_database_url("postgres://postgres@127.0.0.1:5432/tradeport"),
            Some(("postgres://postgres@127.0.0.1:5432/postgres".into(), "tradeport".into()))
        );
        assert_eq!(
            split_database_url("postgres://u@h/db?sslmode=disable"),
            Some(("postgres://u@h/postgres?sslmode=disable".into(), "db".into()))
        );
    }
}
