//! A supplier's data on request: export everything it owns (`tradeport tenant export`) and
//! delete it (`tradeport tenant delete`, `DELETE /api/v1/platform/tenants/{slug}`).
//!
//! What a tenant owns is *discovered*, not hand-listed, so a table added later is covered:
//!
//! - its schema `tenant_<slug>` (every commercial row);
//! - the rows of `public` tables that refer to it: every single-column foreign key to
//!   `public.tenants`, every `tenant_id` column (with or without a key, e.g. `dead_jobs`),
//!   every `schema_name`/`tenant_schema` column (`tenant_generations`) and every
//!   `slug`/`tenant_slug` column ([`public_refs`]);
//! - the global accounts that belong to this tenant only: staff and buyer company members
//!   of its schema who are neither operators nor staff/members of any other tenant schema
//!   (accounts are global, one per e-mail; a person who also works in or buys from another
//!   store keeps the account), with their mail in the outbox;
//! - its files: `<media_dir>/<schema>`, `<exchange.dir>/<schema>`, `<documents.edo_dir>/<schema>`;
//! - its Meilisearch indexes (`tp_<schema>` and the `-rebuild` one of an interrupted reindex).
//!
//! Deletion refuses an active tenant (suspend it first: its storefront then answers 403 to
//! everyone, so nobody is mid-order when the data goes) and needs the slug typed again.
//! All database work is one transaction: the schema, the public rows, the accounts and the
//! tenant row go together or not at all, and one `tenant.deleted` row is written to
//! `audit_log` with no `tenant_id` (slug, schema, id, counts: the operator's record that the
//! request was carried out). Files and search indexes follow the commit; a rerun after an
//! interruption finds them by the slug alone and finishes.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use serde::Serialize;
use serde_json::json;

use crate::config::{resource_path, Settings};
use crate::db::TenantSchema;
use crate::error::{AppError, AppResult};
use crate::platform::slug::Slug;
use crate::platform::tenants::{self, TenantStatus};

/// What a column of a `public` table holds about a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// `public.tenants.id`
    Id,
    /// the schema name `tenant_<slug>`
    Schema,
    /// the slug
    Slug,
}

/// A column of a `public` table that refers to a tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PublicRef {
    pub table: String,
    pub column: String,
    pub kind: RefKind,
}

#[derive(QueryableByName)]
struct RefRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

/// Every column of a `public` base table that refers to a tenant, except `tenants` itself
/// (found from the catalog: foreign keys to `public.tenants`, and columns by name).
pub fn public_refs(conn: &mut PgConnection) -> AppResult<Vec<PublicRef>> {
    let rows: Vec<RefRow> = diesel::sql_query(
        "SELECT DISTINCT table_name, column_name, kind FROM ( \
           SELECT cl.relname::text AS table_name, a.attname::text AS column_name, 'id' AS kind \
             FROM pg_constraint c \
             JOIN pg_class cl ON cl.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = cl.relnamespace AND n.nspname = 'public' \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
            WHERE c.contype = 'f' AND c.confrelid = 'public.tenants'::regclass AND cardinality(c.conkey) = 1 \
           UNION ALL \
           SELECT c.table_name::text, c.column_name::text, \
                  CASE WHEN c.column_name = 'tenant_id' THEN 'id' \
                       WHEN c.column_name IN ('schema_name', 'tenant_schema') THEN 'schema' \
                       ELSE 'slug' END \
             FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
              AND c.column_name IN ('tenant_id', 'schema_name', 'tenant_schema', 'slug', 'tenant_slug') \
         ) r WHERE table_name <> 'tenants' ORDER BY 1, 2",
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| PublicRef {
            kind: match r.kind.as_str() {
                "id" => RefKind::Id,
                "schema" => RefKind::Schema,
                _ => RefKind::Slug,
            },
            table: r.table_name,
            column: r.column_name,
        })
        .collect())
}

/// `"name"` with inner quotes doubled (table and column names come from the catalog).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tenant's identifiers, as the columns of [`RefKind`] hold them.
#[derive(Debug, Clone)]
struct Ids {
    id: Option<i64>,
    slug: String,
    schema: TenantSchema,
}

impl Ids {
    /// `<column> = <value>` for a reference, or None when the value is unknown (an id after
    /// the tenant row is gone and no deletion record holds it). The values are inlined: an
    /// id is a number, and schema and slug are validated (`[a-z0-9_-]` only).
    fn condition(&self, r: &PublicRef) -> Option<String> {
        let col = ident(&r.column);
        match r.kind {
            RefKind::Id => self.id.map(|id| format!("{col} = {id}")),
            RefKind::Schema => Some(format!("{col}::text = '{}'", self.schema.as_str())),
            RefKind::Slug => Some(format!("{col}::text = '{}'", self.slug)),
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Json {
    #[diesel(sql_type = Text)]
    json: String,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn schema_exists(conn: &mut PgConnection, schema: &TenantSchema) -> AppResult<bool> {
    let n: Count = diesel::sql_query("SELECT count(*)::int8 AS n FROM pg_namespace WHERE nspname = $1")
        .bind::<Text, _>(schema.as_str())
        .get_result(conn)?;
    Ok(n.n > 0)
}

fn table_exists(conn: &mut PgConnection, schema: &TenantSchema, table: &str) -> AppResult<bool> {
    let n: Count =
        diesel::sql_query("SELECT count(*)::int8 AS n FROM pg_tables WHERE schemaname = $1 AND tablename = $2")
            .bind::<Text, _>(schema.as_str())
            .bind::<Text, _>(table)
            .get_result(conn)?;
    Ok(n.n > 0)
}

/// Tables where a tenant schema records which global accounts belong to it.
const MEMBERSHIP_TABLES: &[&str] = &["staff", "company_members"];

/// Accounts that are staff or company members in `schema`.
fn member_accounts(conn: &mut PgConnection, schema: &TenantSchema) -> AppResult<Vec<i64>> {
    let mut parts = Vec::new();
    for t in MEMBERSHIP_TABLES {
        if table_exists(conn, schema, t)? {
            parts.push(format!("SELECT account_id AS id FROM {}.{}", schema.quoted(), ident(t)));
        }
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Id> =
        diesel::sql_query(format!("SELECT DISTINCT id FROM ({}) m ORDER BY 1", parts.join(" UNION "))).load(conn)?;
    Ok(ids.into_iter().map(|r| r.id).collect())
}

/// Of `candidates`, those that are also staff or members in another tenant schema.
fn used_elsewhere(conn: &mut PgConnection, schema: &TenantSchema, candidates: &[i64]) -> AppResult<Vec<i64>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // Every tenant-like schema with a membership table, not only those in public.tenants:
    // a schema left without its row still holds people.
    let others: Vec<Name> = diesel::sql_query(
        "SELECT DISTINCT n.nspname::text AS name FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid \
          WHERE n.nspname LIKE 'tenant\\_%' AND n.nspname <> $1 AND c.relkind = 'r' AND c.relname = ANY($2) \
          ORDER BY 1",
    )
    .bind::<Text, _>(schema.as_str())
    .bind::<Array<Text>, _>(MEMBERSHIP_TABLES.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    .load(conn)?;
    let mut found = std::collections::BTreeSet::new();
    for chunk in others.chunks(100) {
        let mut parts = Vec::new();
        for o in chunk {
            let Ok(s) = TenantSchema::parse(&o.name) else { continue };
            for t in MEMBERSHIP_TABLES {
                parts.push((s.clone(), *t));
            }
        }
        let query = |parts: &[(TenantSchema, &str)]| {
            parts
                .iter()
                .map(|(s, t)| {
                    format!("SELECT account_id AS id FROM {}.{} WHERE account_id = ANY($1)", s.quoted(), ident(t))
                })
                .collect::<Vec<_>>()
                .join(" UNION ")
        };
        // A savepoint per chunk: another tenant's schema may be dropped (or lack a table)
        // meanwhile; then each part is asked on its own and a missing one is skipped.
        let all = conn.transaction::<_, diesel::result::Error, _>(|c| {
            diesel::sql_query(query(&parts)).bind::<Array<BigInt>, _>(candidates.to_vec()).load::<Id>(c)
        });
        match all {
            Ok(rows) => found.extend(rows.into_iter().map(|r| r.id)),
            Err(_) => {
                for p in &parts {
                    let one = conn.transaction::<_, diesel::result::Error, _>(|c| {
                        diesel::sql_query(query(std::slice::from_ref(p)))
                            .bind::<Array<BigInt>, _>(candidates.to_vec())
                            .load::<Id>(c)
                    });
                    if let Ok(rows) = one {
                        found.extend(rows.into_iter().map(|r| r.id));
                    }
                }
            }
        }
    }
    Ok(found.into_iter().collect())
}

// ---------------------------------------------------------------------------------------
// Files and search indexes

/// The folders that hold a tenant's files, by what they are.
pub fn tenant_dirs(settings: &Settings, schema: &TenantSchema) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("media", resource_path(&settings.server.media_dir).join(schema.as_str())),
        ("exchange", resource_path(&settings.exchange.dir).join(schema.as_str())),
        ("edo", resource_path(&settings.documents.edo_dir).join(schema.as_str())),
    ]
}

/// (files, bytes) under `dir`, 0 when it does not exist.
fn tree_size(dir: &Path) -> io::Result<(u64, u64)> {
    let mut files = 0;
    let mut bytes = 0;
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Ok((1, meta.len()));
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let t = entry.file_type()?;
        if t.is_dir() {
            let (f, b) = tree_size(&entry.path())?;
            files += f;
            bytes += b;
        } else {
            files += 1;
            bytes += entry.metadata()?.len();
        }
    }
    Ok((files, bytes))
}

/// Copies a tree (symbolic links are not followed: tenant folders hold none).
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let t = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if t.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else if t.is_file() {
            fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

/// Removes the tenant's folders; returns the files removed.
pub fn remove_files(settings: &Settings, schema: &TenantSchema) -> io::Result<u64> {
    let mut removed = 0;
    for (_, dir) in tenant_dirs(settings, schema) {
        let (files, _) = tree_size(&dir)?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => removed += files,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io::Error::new(e.kind(), format!("cannot remove {}: {e}", dir.display()))),
        }
    }
    Ok(removed)
}

/// The Meilisearch indexes a tenant may have (see `search::Scope::index_uid` and reindex).
pub fn index_uids(schema: &TenantSchema) -> [String; 2] {
    let uid = format!("tp_{}", schema.as_str());
    [uid.clone(), format!("{uid}-rebuild")]
}

/// Deletes the tenant's Meilisearch indexes when `MEILI_URL` is set, on *every* instance it
/// lists (comma-separated): the index lives on the one its hash names, but a change of the
/// list may have left an older copy on another. Returns `uid on instance` for each index
/// that existed. An unreachable instance is an error (rerun the deletion when it is back).
pub async fn remove_search_indexes(settings: &Settings, schema: &TenantSchema) -> Result<Vec<String>, String> {
    use meilisearch_sdk::client::Client;
    use meilisearch_sdk::errors::ErrorCode;
    use secrecy::ExposeSecret;
    let Some(urls) = settings.meili.url.as_ref().map(|u| u.expose_secret().to_owned()) else {
        return Ok(Vec::new());
    };
    let key = settings.meili.key.as_ref().map(|k| k.expose_secret().trim().to_owned()).filter(|k| !k.is_empty());
    let mut removed = Vec::new();
    for url in urls.split(',').map(|u| u.trim().trim_end_matches('/')).filter(|u| !u.is_empty()) {
        let client = Client::new(url, key.clone()).map_err(|e| format!("Meilisearch client for {url}: {e}"))?;
        for uid in index_uids(schema) {
            let timeout = std::time::Duration::from_secs(30);
            let task = match tokio_timeout(timeout, client.index(&uid).delete()).await? {
                Ok(t) => t,
                Err(e) => return Err(format!("cannot delete Meilisearch index {uid} on {url}: {e}")),
            };
            let done = tokio_timeout(
                timeout,
                client.wait_for_task(&task, Some(std::time::Duration::from_millis(50)), Some(timeout)),
            )
            .await?
            .map_err(|e| format!("Meilisearch index {uid} on {url}: {e}"))?;
            match done {
                meilisearch_sdk::tasks::Task::Failed { content } => {
                    if content.error.error_code != ErrorCode::IndexNotFound {
                        return Err(format!(
                            "Meilisearch on {url} could not delete index {uid}: {}",
                            content.error.error_message
                        ));
                    }
                }
                _ => removed.push(format!("{uid} on {url}")),
            }
        }
    }
    Ok(removed)
}

async fn tokio_timeout<F: std::future::Future>(d: std::time::Duration, f: F) -> Result<F::Output, String> {
    actix_web::rt::time::timeout(d, f).await.map_err(|_| "Meilisearch did not answer in time".to_owned())
}

// ---------------------------------------------------------------------------------------
// Deletion

/// What a deletion did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeleteReport {
    pub slug: String,
    pub schema: String,
    pub tenant_id: Option<i64>,
    /// The tenant row was already gone: this run finished an earlier one (or found nothing).
    pub resumed: bool,
    pub schema_dropped: bool,
    /// `table.column` → rows deleted.
    pub public_rows: BTreeMap<String, usize>,
    pub accounts_removed: usize,
    pub accounts_kept: usize,
    pub mail_removed: usize,
    pub files_removed: u64,
    pub search_indexes_removed: Vec<String>,
}

impl DeleteReport {
    pub fn summary(&self) -> String {
        let rows: usize = self.public_rows.values().sum();
        format!(
            "tenant {} {}: schema {} {}, {} row(s) in {} public table(s), {} account(s) removed ({} kept: they belong to another store or are operators), {} mail(s), {} file(s), {} search index(es)",
            self.slug,
            if self.resumed { "deletion finished" } else { "deleted" },
            self.schema,
            if self.schema_dropped { "dropped" } else { "already gone" },
            rows,
            self.public_rows.values().filter(|n| **n > 0).count(),
            self.accounts_removed,
            self.accounts_kept,
            self.mail_removed,
            self.files_removed,
            self.search_indexes_removed.len()
        )
    }
}

/// The id and date of an earlier deletion of `slug`, from its audit record.
fn earlier_deletion(conn: &mut PgConnection, slug: &str) -> AppResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
        id: Option<i64>,
    }
    let row: Option<Row> = diesel::sql_query(
        "SELECT (details->>'tenant_id')::int8 AS id FROM public.audit_log \
          WHERE action = 'tenant.deleted' AND details->>'slug' = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind::<Text, _>(slug)
    .get_result(conn)
    .optional()?;
    Ok(row.and_then(|r| r.id))
}

/// The database part of a deletion, in one transaction (the caller's connection must not
/// be inside one): refuses without `confirm == slug` or while the tenant is active.
pub fn delete_in_db(conn: &mut PgConnection, slug: &str, confirm: &str, actor: Option<i64>) -> AppResult<DeleteReport> {
    let parsed = Slug::parse(slug).map_err(|e| AppError::field("slug", e))?;
    if confirm.trim() != parsed.as_str() {
        return Err(AppError::field(
            "confirm",
            format!(
                "must repeat the slug ({}) to confirm that every piece of data of this store is deleted",
                parsed.as_str()
            ),
        ));
    }
    let schema = TenantSchema::for_slug(&parsed);
    // A deadlock with work of the store still finishing is retried: the deletion is whole or
    // not at all, and running it again is what an operator would do.
    let mut attempt = 1;
    loop {
        match delete_once(conn, &parsed, &schema, actor) {
            Err(AppError::Conflict { code: "concurrent_update", .. }) if attempt < 3 => attempt += 1,
            done => return done,
        }
    }
}

fn delete_once(
    conn: &mut PgConnection,
    parsed: &Slug,
    schema: &TenantSchema,
    actor: Option<i64>,
) -> AppResult<DeleteReport> {
    conn.transaction(|conn| {
        // One deletion at a time per slug (a concurrent rerun waits, then finds it done).
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('tradeport.tenant_delete'), hashtext($1))")
            .bind::<Text, _>(parsed.as_str())
            .execute(conn)?;
        let tenant = tenants::find_by_slug(conn, parsed.as_str())?;
        let mut report = DeleteReport {
            slug: parsed.as_str().to_owned(),
            schema: schema.as_str().to_owned(),
            ..Default::default()
        };
        let id = match &tenant {
            Some(t) => {
                if t.status == TenantStatus::Active {
                    return Err(AppError::conflict(
                        "tenant_active",
                        format!(
                            "tenant {} is active; suspend it first (tradeport tenant suspend {}) so nobody is using it when its data goes",
                            t.slug, t.slug
                        ),
                    ));
                }
                // Lock the row: an operator resuming it meanwhile waits for the outcome. NO KEY
                // UPDATE, not UPDATE: a job of this store still finishing may insert a row that
                // references the tenant (a foreign-key check takes KEY SHARE) while holding
                // locks on the store's tables that DROP SCHEMA below waits for; FOR UPDATE
                // made that a deadlock.
                diesel::sql_query("SELECT id FROM public.tenants WHERE id = $1 FOR NO KEY UPDATE")
                    .bind::<BigInt, _>(t.id)
                    .load::<Id>(conn)?;
                Some(t.id)
            }
            None => {
                report.resumed = true;
                earlier_deletion(conn, parsed.as_str())?
            }
        };
        report.tenant_id = id;
        let exists = schema_exists(conn, schema)?;
        if tenant.is_none() && !exists && id.is_none() {
            // Nothing in the database, not even a record of an earlier deletion: a typo?
            return Err(AppError::NotFound(format!("no tenant {} (and no record that it was deleted)", parsed.as_str())));
        }
        // Accounts that belong only to this tenant.
        if exists {
            let members = member_accounts(conn, schema)?;
            let elsewhere = used_elsewhere(conn, schema, &members)?;
            let only_here: Vec<i64> = members.iter().copied().filter(|a| !elsewhere.contains(a)).collect();
            let removed: Vec<(i64, String)> = diesel::sql_query(
                "DELETE FROM public.accounts WHERE id = ANY($1) AND NOT is_operator RETURNING id, email AS name",
            )
            .bind::<Array<BigInt>, _>(only_here.clone())
            .load::<IdEmail>(conn)?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
            report.accounts_removed = removed.len();
            report.accounts_kept = members.len() - removed.len();
            let emails: Vec<String> = removed.into_iter().map(|(_, e)| e.to_lowercase()).collect();
            report.mail_removed += diesel::sql_query("DELETE FROM public.mail_outbox WHERE lower(to_email) = ANY($1)")
                .bind::<Array<Text>, _>(emails)
                .execute(conn)?;
            conn.batch_execute(&format!("DROP SCHEMA {} CASCADE", schema.quoted()))?;
            report.schema_dropped = true;
        }
        let ids = Ids { id, slug: parsed.as_str().to_owned(), schema: schema.clone() };
        for r in public_refs(conn)? {
            let Some(cond) = ids.condition(&r) else { continue };
            let n = diesel::sql_query(format!("DELETE FROM public.{} WHERE {cond}", ident(&r.table))).execute(conn)?;
            if r.table == "mail_outbox" {
                report.mail_removed += n;
            }
            *report.public_rows.entry(format!("{}.{}", r.table, r.column)).or_default() += n;
        }
        if let Some(id) = id.filter(|_| tenant.is_some()) {
            let n = diesel::sql_query("DELETE FROM public.tenants WHERE id = $1").bind::<BigInt, _>(id).execute(conn)?;
            report.public_rows.insert("tenants.id".into(), n);
            diesel::sql_query(
                "INSERT INTO public.audit_log (tenant_id, account_id, action, details) VALUES (NULL, $1, 'tenant.deleted', $2::jsonb)",
            )
            .bind::<diesel::sql_types::Nullable<BigInt>, _>(actor)
            .bind::<Text, _>(
                json!({
                    "tenant_id": id,
                    "slug": parsed.as_str(),
                    "schema": schema.as_str(),
                    "accounts_removed": report.accounts_removed,
                    "accounts_kept": report.accounts_kept,
                    "public_rows": report.public_rows,
                    "at": Utc::now().to_rfc3339(),
                })
                .to_string(),
            )
            .execute(conn)?;
        }
        Ok(report)
    })
}

#[derive(QueryableByName)]
struct IdEmail {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
}

/// The whole deletion, for the command line: the database, then files and search indexes.
pub fn delete(settings: &Settings, conn: &mut PgConnection, slug: &str, confirm: &str) -> anyhow::Result<DeleteReport> {
    let mut report = delete_in_db(conn, slug, confirm, None).map_err(|e| anyhow::anyhow!(describe(e)))?;
    finish_outside_db(settings, &mut report)?;
    Ok(report)
}

/// Files and search indexes of a deletion whose database part is done.
pub fn finish_outside_db(settings: &Settings, report: &mut DeleteReport) -> anyhow::Result<()> {
    let schema = TenantSchema::parse(&report.schema).map_err(|e| anyhow::anyhow!(e))?;
    report.files_removed = remove_files(settings, &schema)?;
    if settings.meili.url.is_some() {
        let s = settings.clone();
        let sc = schema.clone();
        report.search_indexes_removed = actix_web::rt::System::new()
            .block_on(async move { remove_search_indexes(&s, &sc).await })
            .map_err(|e| anyhow::anyhow!("{e}; the database part is done, rerun the deletion to finish"))?;
    }
    Ok(())
}

fn describe(e: AppError) -> String {
    match e {
        AppError::Validation(fields) => fields.iter().map(|(k, v)| format!("--{k} {v}")).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Export

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub slug: String,
    pub schema: String,
    pub out: PathBuf,
    /// Rows per table of the tenant schema at the time of the export.
    pub schema_rows: BTreeMap<String, i64>,
    /// `table` → rows exported from `public`.
    pub public_rows: BTreeMap<String, usize>,
    pub accounts: usize,
    pub files: u64,
    pub file_bytes: u64,
    pub dump_bytes: u64,
}

pub struct ExportOptions<'a> {
    /// The pg_dump program (default `pg_dump` on PATH).
    pub pg_dump: &'a str,
    /// The `DATABASE_URL` pg_dump connects to.
    pub database_url: &'a str,
}

const README: &str = include_str!("tenant_export_readme.txt");

/// Exports tenant `slug` into `out`: a new (or empty) directory, or a `.tar.gz`/`.tgz` file.
/// Nothing is left behind when it fails.
pub fn export(
    settings: &Settings,
    conn: &mut PgConnection,
    slug: &str,
    out: &Path,
    opts: &ExportOptions<'_>,
) -> anyhow::Result<ExportReport> {
    let parsed = Slug::parse(slug).map_err(|e| anyhow::anyhow!("slug {e}"))?;
    let tenant = tenants::find_by_slug(conn, parsed.as_str())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("no tenant {}", parsed.as_str()))?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let archive = name.ends_with(".tar.gz") || name.ends_with(".tgz");
    if archive && out.exists() {
        anyhow::bail!("{} exists already; choose a new file name", out.display());
    }
    if !archive && out.exists() && fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        anyhow::bail!("{} exists and is not an empty directory", out.display());
    }
    let dir = if archive {
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.is_dir() {
            anyhow::bail!("folder {} does not exist", parent.display());
        }
        parent.join(format!(".{name}.partial"))
    } else {
        out.to_path_buf()
    };
    let created_dir = !dir.exists();
    let result = export_into(settings, conn, &tenant, &dir, opts).and_then(|mut report| {
        if archive {
            let status = Command::new("tar")
                .arg("-czf")
                .arg(out)
                .arg("-C")
                .arg(&dir)
                .arg(".")
                .status()
                .map_err(|e| anyhow::anyhow!("cannot run tar ({e}); export to a directory instead"))?;
            if !status.success() {
                let _ = fs::remove_file(out);
                anyhow::bail!("tar failed ({status})");
            }
            fs::remove_dir_all(&dir)?;
        }
        report.out = out.to_path_buf();
        Ok(report)
    });
    if result.is_err() {
        if archive || created_dir {
            let _ = fs::remove_dir_all(&dir);
        } else if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                let p = e.path();
                let _ = if p.is_dir() { fs::remove_dir_all(p) } else { fs::remove_file(p) };
            }
        }
    }
    result
}

fn export_into(
    settings: &Settings,
    conn: &mut PgConnection,
    tenant: &tenants::Tenant,
    dir: &Path,
    opts: &ExportOptions<'_>,
) -> anyhow::Result<ExportReport> {
    fs::create_dir_all(dir.join("public"))?;
    let schema = &tenant.schema;
    // 1. The schema, as pg_dump's custom format (restorable with pg_restore, per table too).
    let dump = dir.join("schema.dump");
    let output = Command::new(opts.pg_dump)
        .arg("--format=custom")
        .arg(format!("--schema={}", schema.as_str()))
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--file={}", dump.display()))
        .arg(format!("--dbname={}", opts.database_url))
        .output()
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "{} was not found: install the PostgreSQL client (pg_dump of the server's major version or newer) or pass --pg-dump PATH; nothing was exported",
                    opts.pg_dump
                )
            } else {
                anyhow::anyhow!("cannot run {}: {e}", opts.pg_dump)
            }
        })?;
    if !output.status.success() {
        anyhow::bail!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr).trim().lines().next().unwrap_or("no message")
        );
    }
    let dump_bytes = fs::metadata(&dump)?.len();
    let version = Command::new(opts.pg_dump)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();

    // 2. Row counts of the schema (a restore can be checked against them), in one snapshot
    // of its own: the dump took another, so counts of a store in use may differ slightly.
    let tables: Vec<Name> =
        diesel::sql_query("SELECT tablename::text AS name FROM pg_tables WHERE schemaname = $1 ORDER BY 1")
            .bind::<Text, _>(schema.as_str())
            .load(conn)?;
    let mut schema_rows = BTreeMap::new();
    for t in &tables {
        let n: Count =
            diesel::sql_query(format!("SELECT count(*)::int8 AS n FROM {}.{}", schema.quoted(), ident(&t.name)))
                .get_result(conn)?;
        schema_rows.insert(t.name.clone(), n.n);
    }

    // 3. Its rows in public, one JSON array per table.
    let ids = Ids { id: Some(tenant.id), slug: tenant.slug.clone(), schema: schema.clone() };
    let mut public_rows = BTreeMap::new();
    let mut by_table: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in public_refs(conn)? {
        if let Some(cond) = ids.condition(&r) {
            by_table.entry(r.table.clone()).or_default().push(cond);
        }
    }
    let write_json = |conn: &mut PgConnection, file: &str, sql: String| -> anyhow::Result<usize> {
        let q = format!("SELECT coalesce(json_agg(r), '[]')::text AS json FROM ({sql}) r");
        let j: Json = diesel::sql_query(q).get_result(conn)?;
        let parsed: serde_json::Value = serde_json::from_str(&j.json)?;
        let n = parsed.as_array().map(Vec::len).unwrap_or(0);
        fs::write(dir.join("public").join(file), serde_json::to_string_pretty(&parsed)? + "\n")?;
        Ok(n)
    };
    let n = write_json(conn, "tenants.json", format!("SELECT * FROM public.tenants WHERE id = {}", tenant.id))?;
    public_rows.insert("tenants".to_owned(), n);
    for (table, conds) in &by_table {
        let sql = format!("SELECT * FROM public.{} WHERE {}", ident(table), conds.join(" OR "));
        let n = write_json(conn, &format!("{table}.json"), sql)?;
        public_rows.insert(table.clone(), n);
    }
    // The people of the store: global accounts, without password hashes or tokens.
    let accounts = if table_exists(conn, schema, "staff")? {
        let members = member_accounts(conn, schema)?;
        let q = format!(
            "SELECT id, email, name, email_confirmed_at, created_at FROM public.accounts WHERE id = ANY(ARRAY[{}]::int8[]) ORDER BY id",
            members.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        );
        write_json(conn, "accounts.json", q)?
    } else {
        0
    };

    // 4. Files.
    let mut files = 0;
    let mut file_bytes = 0;
    for (what, src) in tenant_dirs(settings, schema) {
        if src.is_dir() {
            let (f, b) = tree_size(&src)?;
            files += f;
            file_bytes += b;
            copy_tree(&src, &dir.join("files").join(what))?;
        }
    }

    let report = ExportReport {
        slug: tenant.slug.clone(),
        schema: schema.as_str().to_owned(),
        out: dir.to_path_buf(),
        schema_rows,
        public_rows,
        accounts,
        files,
        file_bytes,
        dump_bytes,
    };
    let manifest = json!({
        "format": "tradeport-tenant-export/1",
        "exported_at": Utc::now().to_rfc3339(),
        "tenant": {"id": tenant.id, "slug": tenant.slug, "name": tenant.name, "schema": schema.as_str(), "status": tenant.status.as_str()},
        "pg_dump": version,
        "schema_dump": "schema.dump",
        "schema_rows": report.schema_rows,
        "public_rows": report.public_rows,
        "accounts": report.accounts,
        "files": report.files,
        "file_bytes": report.file_bytes,
    });
    fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest)? + "\n")?;
    fs::write(
        dir.join("README.txt"),
        README.replace("{slug}", &tenant.slug).replace("{schema}", schema.as_str()).replace("{name}", &tenant.name),
    )?;
    Ok(report)
}
