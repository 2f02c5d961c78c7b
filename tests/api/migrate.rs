//! `tradeport migrate` over many tenants, in a database of its own.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::helpers::{prepare_database, settings, unique, TEST_PASSWORD};
use tradeport::db::{build_pool, migrate};
use tradeport::platform::onboarding::{onboard, OnboardContext, OnboardRequest};

struct OwnDatabase {
    url: String,
    name: String,
}

impl OwnDatabase {
    fn new() -> OwnDatabase {
        let name = unique("tradeport_mig_");
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        prepare_database(&url);
        OwnDatabase { url, name }
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish("postgres://postgres@127.0.0.1:5432/postgres") {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

#[actix_web::test]
async fn migrate_is_idempotent_over_fifty_tenants_and_reports_each() {
    let db = OwnDatabase::new();
    let s = settings(&db.url);
    let pool = build_pool(&s.database, Some(5));
    let slugs: Vec<String> = (0..50).map(|_| unique("zt")).collect();
    {
        let mut conn = pool.get().expect("conn");
        for slug in &slugs {
            let req = OnboardRequest {
                slug: slug.clone(),
                name: slug.clone(),
                admin_email: format!("{slug}@m.test"),
                admin_password: Some(TEST_PASSWORD.into()),
                ..Default::default()
            };
            onboard(
                &mut conn,
                &req,
                None,
                &OnboardContext { platform_url: "http://x", actor_account_id: None, fail_at: None },
            )
            .expect("onboard");
        }
        // Five schemas lose their migration record and tables, as if made before migrations.
        for slug in &slugs[..5] {
            conn.batch_execute(&format!("DROP SCHEMA \"tenant_{slug}\" CASCADE; CREATE SCHEMA \"tenant_{slug}\""))
                .expect("empty the schema");
        }
    }
    let lines = std::sync::Mutex::new(Vec::new());
    let first =
        migrate::migrate_all_tenants(&pool, 4, &|l| lines.lock().expect("lines").push(l.to_owned())).expect("migrate");
    assert_eq!(first.len(), 50);
    assert_eq!(lines.lock().expect("lines").len(), 50, "one line per tenant");
    assert!(first.iter().all(|r| r.result.is_ok()), "{first:?}");
    let applied: usize = first.iter().filter_map(|r| r.result.as_ref().ok()).sum();
    assert_eq!(applied, 5 * migrate::TENANT.len(), "only the five bare schemas needed work");
    let second = migrate::migrate_all_tenants(&pool, 4, &|_| {}).expect("migrate again");
    assert!(second.iter().all(|r| matches!(r.result, Ok(0))), "second run applies nothing: {second:?}");
    let line = lines.lock().expect("lines")[0].clone();
    assert!(line.starts_with('[') && line.contains("/50] tenant_zt") && line.contains("applied"), "{line}");
}

#[test]
fn the_migrate_command_reports_per_tenant_and_fails_when_one_tenant_fails() {
    let db = OwnDatabase::new();
    let bin = env!("CARGO_BIN_EXE_tradeport");
    let run = || {
        std::process::Command::new(bin)
            .arg("migrate")
            .env("DATABASE_URL", &db.url)
            .env("TRADEPORT_PROFILE", "test")
            .output()
            .expect("runs")
    };
    let s = settings(&db.url);
    let mut conn = PgConnection::establish(&db.url).expect("conn");
    let good = unique("zt");
    let req = OnboardRequest {
        slug: good.clone(),
        name: "Good".into(),
        admin_email: format!("{good}@m.test"),
        admin_password: Some(TEST_PASSWORD.into()),
        ..Default::default()
    };
    onboard(&mut conn, &req, None, &OnboardContext { platform_url: "http://x", actor_account_id: None, fail_at: None })
        .expect("onboard");
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("tenant_{}: 0 applied", good.replace('-', "_"))), "{stdout}");

    // A tenant whose schema has a conflicting table cannot be migrated: the command says
    // which one, migrates the rest, and exits non-zero.
    let bad = unique("zt");
    conn.batch_execute(&format!(
        "INSERT INTO public.tenants (slug, schema_name, name) VALUES ('{bad}', 'tenant_{bad}', 'Bad');
         CREATE SCHEMA \"tenant_{bad}\"; CREATE TABLE \"tenant_{bad}\".staff (x int);"
    ))
    .expect("broken tenant");
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains(&format!("tenant_{bad}: FAILED")), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 tenant(s) failed"));
    // The failed tenant's transaction left its schema as it was.
    assert!(conn.batch_execute(&format!("SELECT x FROM \"tenant_{bad}\".staff")).is_ok());
    drop(s);
}

#[test]
fn every_down_migration_reverses_its_up() {
    let db = OwnDatabase::new();
    let mut conn = PgConnection::establish(&db.url).expect("conn");
    conn.batch_execute("CREATE SCHEMA tenant_downcheck").expect("schema");
    conn.transaction::<_, diesel::result::Error, _>(|c| {
        diesel::sql_query("SELECT set_config('search_path', 'tenant_downcheck, public', true)").execute(c)?;
        for m in migrate::TENANT {
            c.batch_execute(m.up).unwrap_or_else(|e| panic!("{} up: {e}", m.version));
        }
        for m in migrate::TENANT.iter().rev() {
            c.batch_execute(m.down).unwrap_or_else(|e| panic!("{} down does not reverse up: {e}", m.version));
        }
        Ok(())
    })
    .expect("up then down");
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let left = diesel::sql_query("SELECT count(*) AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'tenant_downcheck'")
        .get_result::<N>(&mut conn)
        .expect("count");
    assert_eq!(left.n, 0, "tables left after down");
    // Platform: down then up again on the fresh database.
    for m in migrate::PLATFORM.iter().rev() {
        conn.batch_execute(m.down).unwrap_or_else(|e| panic!("{} down: {e}", m.version));
    }
    for m in migrate::PLATFORM {
        conn.batch_execute(m.up).unwrap_or_else(|e| panic!("{} up after down: {e}", m.version));
    }
}
