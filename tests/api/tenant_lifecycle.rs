//! A supplier's data on request (docs/OPERATIONS.md, "Tenant export and deletion"): two stores
//! with data in every part (catalog with images, buyers and a person in both, orders shipped
//! with their documents, webhooks and their queued jobs, a custom domain, 1C exchange and EDO
//! files, mail); one is exported and restored, then deleted. Nothing of it is left anywhere
//! (checked generically over every `public` column that can name a tenant), the other store
//! and the shared person are untouched, and a rerun finishes an interrupted deletion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use awc::http::Method;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{json, Value};

use crate::catalog::{api, product};
use crate::documents::shipped;
use crate::finance_docs::supplier;
use crate::helpers::{database_url, unique, TestApp, TestTenant, TEST_PASSWORD};
use crate::identity::{company, INNS};
use crate::integrations::hook;

/// A test app whose file folders (media, 1C exchange, EDO) are its own.
async fn app_with_dirs() -> (TestApp, PathBuf) {
    let root = std::env::temp_dir().join(unique("tp-lifecycle-"));
    let r = root.clone();
    let app = TestApp::spawn_with(move |s| {
        s.server.media_dir = r.join("media");
        s.exchange.dir = r.join("exchange");
        s.documents.edo_dir = r.join("edo");
    })
    .await;
    (app, root)
}

/// The command line with this app's database and folders.
fn tradeport(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradeport"))
        .args(args)
        .env("DATABASE_URL", database_url())
        .env("TRADEPORT_PROFILE", "test")
        .env("TRADEPORT__SERVER__MEDIA_DIR", root.join("media"))
        .env("TRADEPORT__EXCHANGE__DIR", root.join("exchange"))
        .env("TRADEPORT__DOCUMENTS__EDO_DIR", root.join("edo"))
        .output()
        .expect("tradeport runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 48, image::Rgb([20, 120, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}

async fn upload_image(app: &TestApp, t: &TestTenant, s: &str, sku: &str) {
    let boundary = "----tradeport-lifecycle";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = app
        .request(Method::POST, &api(t, &format!("/admin/products/{sku}/images")))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Authorization", format!("Bearer {s}")));
    let r = app.send_bytes(req, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// What a populated store holds that the test looks for afterwards.
struct Store {
    t: TestTenant,
    /// A buyer who buys only here.
    buyer_email: String,
    order: String,
}

/// A store with data in every part: products (one with an image), a webhook, a buyer whose
/// order was placed and shipped (invoice, УПД, ledger, mail, webhook job), a custom domain,
/// files in the 1C exchange and EDO folders.
async fn populate(app: &TestApp, root: &Path, inn: &str) -> Store {
    let (t, s) = supplier(app).await;
    hook(app, &t, &s, "https://erp.example.com/hook", &["order.created"]).await;
    upload_image(app, &t, &s, "PCS-1").await;
    product(app, &t, &s, json!({"sku": "EXTRA-1", "name": "Подоконник", "price": "900.00", "stock": 5})).await;
    let (_, order, buyer_email) = shipped(app, &t, &s, inn, &unique("k")).await;
    let op = app.operator_token().await;
    let r = app
        .post_json(
            &format!("/api/v1/platform/tenants/{}/domains", t.slug),
            &json!({"domain": format!("{}.example.com", t.slug)}),
            Some(&op),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    for (dir, file) in [("exchange", "1/import.xml"), ("edo", "outbox/upd-1.xml"), ("edo", "inbox/receipt-1.xml")] {
        let p = root.join(dir).join(t.tenant.schema.as_str()).join(file);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, format!("<x tenant=\"{}\"/>", t.slug)).expect("write");
    }
    Store { t, buyer_email, order }
}

/// Suspends a store as an operator does before deleting it.
async fn suspend(app: &TestApp, op: &str, slug: &str) {
    let r =
        app.patch_json(&format!("/api/v1/platform/tenants/{slug}"), &json!({"status": "suspended"}), Some(op)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Col {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// Rows of any `public` table that still name the tenant: every column called like a tenant
/// reference (`tenant_id`, `*schema*`, `*slug*`, and every foreign key to `public.tenants`),
/// compared with its id, schema name and slug. Returns "table.column=count" for each hit.
async fn rows_naming(app: &TestApp, id: i64, schema: &str, slug: &str) -> Vec<String> {
    let (schema, slug) = (schema.to_owned(), slug.to_owned());
    app.db(move |c| {
        let cols: Vec<Col> = diesel::sql_query(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
               JOIN information_schema.tables t USING (table_schema, table_name) \
              WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
                AND (c.column_name IN ('tenant_id', 'id') OR c.column_name LIKE '%schema%' OR c.column_name LIKE '%slug%') \
                AND NOT (c.column_name = 'id' AND c.table_name <> 'tenants') \
             UNION \
             SELECT cl.relname::text, a.attname::text FROM pg_constraint k \
               JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace AND n.nspname = 'public' \
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) \
              WHERE k.contype = 'f' AND k.confrelid = 'public.tenants'::regclass",
        )
        .load(c)
        .expect("columns");
        assert!(cols.len() >= 8, "the catalog query finds the tenant columns: {}", cols.len());
        let mut hits = Vec::new();
        for col in cols {
            let sql = format!(
                "SELECT count(*)::int8 AS n FROM public.\"{}\" WHERE \"{}\"::text IN ($1, $2, $3)",
                col.table_name, col.column_name
            );
            let n: N = diesel::sql_query(sql)
                .bind::<Text, _>(id.to_string())
                .bind::<Text, _>(&schema)
                .bind::<Text, _>(&slug)
                .get_result(c)
                .expect("count");
            if n.n > 0 {
                hits.push(format!("{}.{}={}", col.table_name, col.column_name, n.n));
            }
        }
        hits
    })
    .await
}

/// A checksum of every table of a tenant schema and of its rows in `public`.
async fn checksum(app: &TestApp, t: &TestTenant) -> String {
    let (schema, id) = (t.tenant.schema.as_str().to_owned(), t.tenant.id);
    app.db(move |c| {
        #[derive(QueryableByName)]
        struct Name {
            #[diesel(sql_type = Text)]
            name: String,
        }
        let tables: Vec<Name> =
            diesel::sql_query("SELECT tablename::text AS name FROM pg_tables WHERE schemaname = $1 ORDER BY 1")
                .bind::<Text, _>(&schema)
                .load(c)
                .expect("tables");
        assert!(tables.len() > 20, "{} tables", tables.len());
        let mut parts: Vec<String> = tables
            .iter()
            .map(|t| format!("(SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM \"{schema}\".\"{}\" x)", t.name))
            .collect();
        for (table, col) in [("tenants", "id"), ("tenant_domains", "tenant_id"), ("marketplace_products", "tenant_id")] {
            parts.push(format!(
                "(SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM public.{table} x WHERE {col} = {id})"
            ));
        }
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = Text)]
            v: String,
        }
        diesel::sql_query(format!("SELECT md5({}) AS v", parts.join(" || "))).get_result::<V>(c).expect("checksum").v
    })
    .await
}

async fn account_exists(app: &TestApp, email: &str) -> bool {
    let email = email.to_lowercase();
    app.db(move |c| {
        diesel::sql_query("SELECT count(*)::int8 AS n FROM public.accounts WHERE lower(email) = $1")
            .bind::<Text, _>(email)
            .get_result::<N>(c)
            .expect("count")
            .n
            > 0
    })
    .await
}

fn files_under(dir: &Path) -> usize {
    match std::fs::read_dir(dir) {
        Err(_) => 0,
        Ok(entries) => entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum(),
    }
}

fn tenant_files(root: &Path, schema: &str) -> usize {
    ["media", "exchange", "edo"].iter().map(|d| files_under(&root.join(d).join(schema))).sum()
}

#[actix_web::test]
async fn deleting_a_store_removes_everything_it_owns_and_nothing_of_another() {
    let (app, root) = app_with_dirs().await;
    let a = populate(&app, &root, INNS[0]).await;
    let b = populate(&app, &root, INNS[1]).await;
    let (sa, sb) = (a.t.tenant.schema.as_str().to_owned(), b.t.tenant.schema.as_str().to_owned());

    // A person who buys in both stores: registered in A, joined B with the same account.
    let both = format!("{}@buyer.test", unique("both"));
    let r = app
        .post_json(
            &api(&a.t, "/register"),
            &json!({"email": both, "password": TEST_PASSWORD, "name": "Вера", "company": company(INNS[2])}),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = app.login(&both, TEST_PASSWORD).await;
    let r = app.post_json(&api(&b.t, "/register"), &json!({"company": company(INNS[3])}), Some(&token)).await;
    assert_eq!(r.status, 201, "{}", r.body);

    assert!(tenant_files(&root, &sa) >= 5, "A has files: {}", tenant_files(&root, &sa));
    let b_files = tenant_files(&root, &sb);
    assert!(b_files >= 5);
    assert!(!rows_naming(&app, a.t.tenant.id, &sa, &a.t.slug).await.is_empty());
    let jobs_of_a = rows_naming(&app, a.t.tenant.id, &sa, &a.t.slug).await;
    assert!(jobs_of_a.iter().any(|h| h.starts_with("jobs.")), "A has queued jobs: {jobs_of_a:?}");
    let before_b = checksum(&app, &b.t).await;
    let op = app.operator_token().await;
    let path = format!("/api/v1/platform/tenants/{}", a.t.slug);

    // Refusals change nothing: no confirmation, the wrong one, an active store, not an operator.
    let r = app.json_request(Method::DELETE, &path, &json!({}), Some(&op)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.json_request(Method::DELETE, &path, &json!({"confirm": b.t.slug}), Some(&op)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = app.json_request(Method::DELETE, &path, &json!({"confirm": a.t.slug}), Some(&op)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "tenant_active".to_owned()), "{}", r.body);
    let r = app.json_request(Method::DELETE, &path, &json!({"confirm": a.t.slug}), Some(&token)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let out = tradeport(&root, &["tenant", "delete", &a.t.slug]);
    assert!(!out.status.success() && text(&out).contains("--confirm"), "{}", text(&out));
    let out = tradeport(&root, &["tenant", "delete", &a.t.slug, "--confirm", &a.t.slug]);
    assert!(!out.status.success() && text(&out).contains("suspend it first"), "{}", text(&out));
    assert!(!text(&out).contains("panicked"));
    assert_eq!(app.get(&format!("/s/{}/", a.t.slug), None).await.status, 200, "A still serves");

    suspend(&app, &op, &a.t.slug).await;
    let r = app.json_request(Method::DELETE, &path, &json!({"confirm": a.t.slug}), Some(&op)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(report["schema_dropped"], true, "{report}");
    assert!(report["files_removed"].as_u64().unwrap_or(0) >= 5, "{report}");
    // A's admin and its only-A buyer are gone; the person of both stores stays (and B's admin).
    assert!(report["accounts_removed"].as_u64().unwrap_or(0) >= 2, "{report}");
    assert!(report["accounts_kept"].as_u64().unwrap_or(0) >= 1, "{report}");
    println!("deleted: {report}");

    // Nothing of A is left: schema, rows naming it in any public table, files, accounts.
    let schema_left = app
        .db({
            let sa = sa.clone();
            move |c| {
                diesel::sql_query("SELECT count(*)::int8 AS n FROM pg_namespace WHERE nspname = $1")
                    .bind::<Text, _>(sa)
                    .get_result::<N>(c)
                    .expect("count")
                    .n
            }
        })
        .await;
    assert_eq!(schema_left, 0);
    assert_eq!(rows_naming(&app, a.t.tenant.id, &sa, &a.t.slug).await, Vec::<String>::new());
    assert_eq!(tenant_files(&root, &sa), 0);
    assert!(!root.join("media").join(&sa).exists() && !root.join("edo").join(&sa).exists());
    assert!(!account_exists(&app, &a.t.admin_email).await, "A's admin account");
    assert!(!account_exists(&app, &a.buyer_email).await, "A's buyer account");
    assert!(account_exists(&app, &both).await, "the buyer of both stores keeps the account");
    assert!(account_exists(&app, &b.t.admin_email).await && account_exists(&app, &b.buyer_email).await);
    let mail_to_a_buyer = app
        .db({
            let e = a.buyer_email.clone();
            move |c| {
                diesel::sql_query(
                    "SELECT count(*)::int8 AS n FROM public.mail_outbox WHERE lower(to_email) = lower($1)",
                )
                .bind::<Text, _>(e)
                .get_result::<N>(c)
                .expect("count")
                .n
            }
        })
        .await;
    assert_eq!(mail_to_a_buyer, 0, "mail to a removed account");

    // B: unchanged to the byte, files in place, storefront, catalog and orders working; the
    // person of both stores still logs in and sees B's order list.
    assert_eq!(checksum(&app, &b.t).await, before_b);
    assert_eq!(tenant_files(&root, &sb), b_files);
    assert_eq!(app.get(&format!("/s/{}/", b.t.slug), None).await.status, 200);
    let r = app.get(&api(&b.t, "/products"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["total"].as_i64().unwrap_or(0) >= 3, "{}", r.body);
    let b_buyer = app.login(&b.buyer_email, TEST_PASSWORD).await;
    let r = app.get(&api(&b.t, &format!("/orders/{}", b.order)), Some(&b_buyer)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = app.login(&both, TEST_PASSWORD).await;
    assert_eq!(app.get(&api(&b.t, "/orders"), Some(&token)).await.status, 200);
    // The deleted store answers 404 by path and by its host.
    assert_eq!(app.get(&format!("/s/{}/", a.t.slug), None).await.status, 404);
    assert_eq!(app.get(&api(&a.t, "/products"), None).await.status, 404);
    assert_eq!(app.get_host(&format!("{}.localhost", a.t.slug), "/").await.status, 404);
    assert_eq!(app.get(&path, Some(&op)).await.status, 404);
    let _ = a.order;

    // Again: finds it done (the deletion record), changes nothing, says so.
    let r = app.json_request(Method::DELETE, &path, &json!({"confirm": a.t.slug}), Some(&op)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.json()["resumed"].as_bool(), r.json()["schema_dropped"].as_bool()), (Some(true), Some(false)));
    assert_eq!(checksum(&app, &b.t).await, before_b);
    // A slug that never existed is not "deleted".
    let r = app
        .json_request(
            Method::DELETE,
            "/api/v1/platform/tenants/zt-never-was",
            &json!({"confirm": "zt-never-was"}),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let _ = std::fs::remove_dir_all(&root);
}

#[actix_web::test]
async fn an_interrupted_deletion_is_finished_by_running_it_again() {
    let (app, root) = app_with_dirs().await;
    let a = populate(&app, &root, INNS[4]).await;
    let sa = a.t.tenant.schema.as_str().to_owned();
    let op = app.operator_token().await;
    suspend(&app, &op, &a.t.slug).await;
    // The database part commits, then the process dies before the files go.
    let slug = a.t.slug.clone();
    let report = app
        .db(move |c| tradeport::platform::tenant_lifecycle::delete_in_db(c, &slug, &slug, None).expect("database part"))
        .await;
    assert!(report.schema_dropped);
    assert!(tenant_files(&root, &sa) >= 5, "files are still there");
    // A worker that was running one of its jobs moves it to the dead letters after the commit.
    let id = a.t.tenant.id;
    app.db(move |c| {
        diesel::sql_query(
            "INSERT INTO public.dead_jobs (id, queue, kind, tenant_id, payload, attempts, created_at) \
             VALUES (-$1, 'default', 'search.index', $1, '{}', 1, now())",
        )
        .bind::<BigInt, _>(id)
        .execute(c)
        .expect("dead job")
    })
    .await;
    assert_eq!(rows_naming(&app, id, &sa, &a.t.slug).await, vec!["dead_jobs.tenant_id=1".to_owned()]);

    let out = tradeport(&root, &["tenant", "delete", &a.t.slug, "--confirm", &a.t.slug]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("deletion finished") && said.contains("already gone"), "{said}");
    assert_eq!(tenant_files(&root, &sa), 0);
    assert_eq!(rows_naming(&app, id, &sa, &a.t.slug).await, Vec::<String>::new());
    // And once more: nothing left, still a success.
    let out = tradeport(&root, &["tenant", "delete", &a.t.slug, "--confirm", &a.t.slug]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tradeport(&root, &["tenant", "delete", "zt-never-was", "--confirm", "zt-never-was"]);
    assert!(!out.status.success() && text(&out).contains("no tenant zt-never-was"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&root);
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[actix_web::test]
async fn an_export_holds_the_schema_the_public_rows_and_the_files_and_restores() {
    let (app, root) = app_with_dirs().await;
    let a = populate(&app, &root, INNS[5]).await;
    let slug = a.t.slug.clone();
    let out_dir = root.join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir");

    // Without pg_dump: one sentence, nothing written.
    let archive = out_dir.join(format!("{slug}.tar.gz"));
    let out = tradeport(
        &root,
        &["tenant", "export", &slug, "--out", archive.to_str().expect("path"), "--pg-dump", "/nonexistent/pg_dump"],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("/nonexistent/pg_dump was not found"), "{}", text(&out));
    assert_eq!(std::fs::read_dir(&out_dir).expect("dir").count(), 0, "nothing left behind");

    let out = tradeport(&root, &["tenant", "export", &slug, "--out", archive.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("tenant {slug} exported")), "{}", text(&out));
    // The same name again is refused (never overwritten).
    let again = tradeport(&root, &["tenant", "export", &slug, "--out", archive.to_str().expect("path")]);
    assert!(!again.status.success() && text(&again).contains("exists already"), "{}", text(&again));

    let x = out_dir.join("x");
    std::fs::create_dir_all(&x).expect("mkdir");
    let st = Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&x).status().expect("tar");
    assert!(st.success());
    let readme = std::fs::read_to_string(x.join("README.txt")).expect("README.txt");
    assert!(readme.contains(&slug) && readme.contains("schema.dump") && readme.contains("pg_restore"), "{readme}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(x.join("manifest.json")).expect("manifest")).expect("json");
    assert_eq!(manifest["tenant"]["slug"], slug.as_str());
    let tenants: Value =
        serde_json::from_str(&std::fs::read_to_string(x.join("public/tenants.json")).expect("t")).expect("json");
    assert_eq!(tenants[0]["slug"], slug.as_str());
    let domains: Value =
        serde_json::from_str(&std::fs::read_to_string(x.join("public/tenant_domains.json")).expect("d")).expect("json");
    assert_eq!(domains.as_array().map(Vec::len), Some(1), "{domains}");
    let jobs: Value =
        serde_json::from_str(&std::fs::read_to_string(x.join("public/jobs.json")).expect("j")).expect("json");
    assert!(!jobs.as_array().expect("array").is_empty(), "queued jobs exported");
    let accounts = std::fs::read_to_string(x.join("public/accounts.json")).expect("accounts");
    assert!(accounts.contains(&a.t.admin_email) && accounts.contains(&a.buyer_email), "{accounts}");
    assert!(!accounts.contains("password") && !accounts.contains("argon2"), "no password hashes: {accounts}");
    assert!(files_under(&x.join("files/media")) >= 2, "image and thumbnail");
    assert_eq!(files_under(&x.join("files/exchange")), 1);
    assert_eq!(files_under(&x.join("files/edo")), 2);
    let rows = manifest["schema_rows"].as_object().expect("rows").clone();
    assert!(rows["orders"].as_i64() == Some(1) && rows["products"].as_i64().unwrap_or(0) >= 4, "{manifest}");

    // The dump restores into a fresh database migrated like ours, with the same row counts.
    if Command::new("pg_restore").arg("--version").output().is_err() {
        println!("pg_restore is not installed: the restore check was skipped");
        return;
    }
    let db = unique("tradeport_test_restore_");
    let base = database_url();
    let server = base.rsplit_once('/').map(|(s, _)| s.to_owned()).expect("url");
    let restore_url = format!("{server}/{db}");
    let mut admin = PgConnection::establish(&format!("{server}/postgres")).expect("admin");
    diesel::sql_query(format!("CREATE DATABASE \"{db}\"")).execute(&mut admin).expect("create");
    {
        let mut c = PgConnection::establish(&restore_url).expect("restore db");
        tradeport::db::migrate::migrate_platform(&mut c).expect("platform");
    }
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &restore_url])
        .arg(x.join("schema.dump"))
        .output()
        .expect("pg_restore");
    assert!(out.status.success(), "{}", text(&out));
    let mut c = PgConnection::establish(&restore_url).expect("restore db");
    let schema = a.t.tenant.schema.as_str();
    let tables: Vec<Name> =
        diesel::sql_query("SELECT tablename::text AS name FROM pg_tables WHERE schemaname = $1 ORDER BY 1")
            .bind::<Text, _>(schema)
            .load(&mut c)
            .expect("tables");
    assert_eq!(tables.len(), rows.len(), "every table restored");
    for t in &tables {
        let n: N = diesel::sql_query(format!("SELECT count(*)::int8 AS n FROM \"{schema}\".\"{}\"", t.name))
            .get_result(&mut c)
            .expect("count");
        assert_eq!(Some(n.n), rows[&t.name].as_i64(), "rows of {}", t.name);
    }
    println!("restored {} tables, {} rows", tables.len(), rows.values().filter_map(Value::as_i64).sum::<i64>());
    drop(c);
    diesel::sql_query(format!("DROP DATABASE \"{db}\" WITH (FORCE)")).execute(&mut admin).expect("drop");
    let _ = std::fs::remove_dir_all(&root);
}

/// A stand-in for Meilisearch's index deletion (no Meilisearch runs on this machine): the
/// two calls the deletion makes, `DELETE /indexes/{uid}` and `GET /tasks/{n}`, answered as
/// Meilisearch 1.x does, with the indexes that exist and every deletion asked for.
#[derive(Default)]
struct FakeMeili {
    indexes: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// (uid, existed) per task, in order.
    tasks: std::sync::Mutex<Vec<(String, bool)>>,
}

async fn fake_meili(existing: &[String]) -> (String, actix_web::web::Data<FakeMeili>) {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let state = web::Data::new(FakeMeili::default());
    state.indexes.lock().expect("lock").extend(existing.iter().cloned());
    let at = "2026-11-28T06:00:00Z";
    let s = state.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(s.clone())
            .route(
                "/indexes/{uid}",
                web::delete().to(move |st: web::Data<FakeMeili>, uid: web::Path<String>| async move {
                    let uid = uid.into_inner();
                    let existed = st.indexes.lock().expect("lock").remove(&uid);
                    let mut tasks = st.tasks.lock().expect("lock");
                    tasks.push((uid.clone(), existed));
                    HttpResponse::Accepted().json(json!({
                        "taskUid": tasks.len() - 1, "indexUid": uid, "status": "enqueued",
                        "type": "indexDeletion", "enqueuedAt": at,
                    }))
                }),
            )
            .route(
                "/tasks/{n}",
                web::get().to(move |st: web::Data<FakeMeili>, n: web::Path<usize>| async move {
                    let n = n.into_inner();
                    let Some((uid, existed)) = st.tasks.lock().expect("lock").get(n).cloned() else {
                        return HttpResponse::NotFound().finish();
                    };
                    let mut task = json!({
                        "uid": n, "indexUid": uid, "type": "indexDeletion", "canceledBy": null,
                        "details": {"deletedDocuments": 0}, "duration": "PT0.001S",
                        "enqueuedAt": at, "startedAt": at, "finishedAt": at, "error": null,
                        "status": "succeeded",
                    });
                    if !existed {
                        task["status"] = json!("failed");
                        task["error"] = json!({
                            "message": format!("Index `{uid}` not found."), "code": "index_not_found",
                            "type": "invalid_request", "link": "https://docs.meilisearch.com/errors#index_not_found",
                        });
                    }
                    HttpResponse::Ok().json(task)
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    actix_web::rt::spawn(server);
    (format!("http://127.0.0.1:{port}"), state)
}

/// The command line on a blocking thread (the fake Meilisearch answers on this runtime).
async fn tradeport_with(root: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let (root, args, env): (PathBuf, Vec<String>, Vec<(String, String)>) = (
        root.to_path_buf(),
        args.iter().map(|s| s.to_string()).collect(),
        env.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    );
    actix_web::web::block(move || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tradeport"));
        c.args(&args)
            .env("DATABASE_URL", database_url())
            .env("TRADEPORT_PROFILE", "test")
            .env("TRADEPORT__SERVER__MEDIA_DIR", root.join("media"))
            .env("TRADEPORT__EXCHANGE__DIR", root.join("exchange"))
            .env("TRADEPORT__DOCUMENTS__EDO_DIR", root.join("edo"));
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("tradeport runs")
    })
    .await
    .expect("block")
}

#[actix_web::test]
async fn the_search_index_goes_too_and_meilisearch_down_is_finished_by_a_rerun() {
    let (app, root) = app_with_dirs().await;
    let t = app.new_tenant().await;
    let op = app.operator_token().await;
    suspend(&app, &op, &t.slug).await;
    let schema = t.tenant.schema.as_str().to_owned();
    let other = app.new_tenant().await;
    let mine = format!("tp_{schema}");
    let theirs = format!("tp_{}", other.tenant.schema.as_str());

    // Meilisearch is down: the database part is done, the command says to run it again.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let down = vec![("MEILI_URL", format!("http://127.0.0.1:{closed}"))];
    let out = tradeport_with(&root, &["tenant", "delete", &t.slug, "--confirm", &t.slug], &down).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("rerun the deletion to finish"), "{}", text(&out));
    assert!(!text(&out).contains("panicked"));
    assert_eq!(rows_naming(&app, t.tenant.id, &schema, &t.slug).await, Vec::<String>::new());

    // Back up, two instances (MEILI_URL lists both): the store's index on one, an older copy
    // left on the other by a change of the list. The rerun deletes both (and asks for a
    // leftover `-rebuild` one), never another store's index.
    let (url1, fake1) = fake_meili(&[mine.clone(), theirs.clone()]).await;
    let (url2, fake2) = fake_meili(std::slice::from_ref(&mine)).await;
    let up = vec![("MEILI_URL", format!("{url1},{url2}"))];
    let out = tradeport_with(&root, &["tenant", "delete", &t.slug, "--confirm", &t.slug], &up).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("deletion finished") && text(&out).contains("2 search index(es)"), "{}", text(&out));
    for fake in [&fake1, &fake2] {
        let asked: Vec<(String, bool)> = fake.tasks.lock().expect("lock").clone();
        assert_eq!(asked, vec![(mine.clone(), true), (format!("{mine}-rebuild"), false)]);
    }
    assert_eq!(fake1.indexes.lock().expect("lock").iter().cloned().collect::<Vec<_>>(), vec![theirs]);
    assert!(fake2.indexes.lock().expect("lock").is_empty());
    // Once more: nothing left, nothing else touched.
    let out = tradeport_with(&root, &["tenant", "delete", &t.slug, "--confirm", &t.slug], &up).await;
    assert!(out.status.success() && text(&out).contains("0 search index(es)"), "{}", text(&out));
    assert_eq!(fake1.indexes.lock().expect("lock").len(), 1);
    let _ = std::fs::remove_dir_all(&root);
}
