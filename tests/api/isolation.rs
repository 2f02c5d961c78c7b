//! Tenants never see each other's data, and a pooled connection never carries a tenant.

use diesel::prelude::*;
use diesel::sql_types::{Jsonb, Text};

use crate::helpers::{database_url, settings, TestApp};
use tradeport::db::{build_pool, in_tenant, with_platform, with_tenant, TenantSchema};
use tradeport::error::AppError;

#[derive(QueryableByName, Debug)]
struct Marker {
    #[diesel(sql_type = Text)]
    v: String,
}

#[derive(QueryableByName, Debug)]
struct Session {
    #[diesel(sql_type = Text)]
    search_path: String,
    #[diesel(sql_type = Text)]
    tenant: String,
}

fn write_marker(conn: &mut PgConnection, schema: &TenantSchema, value: &str) {
    in_tenant(conn, schema, |c| {
        diesel::sql_query("INSERT INTO settings (key, value) VALUES ('marker', $1)")
            .bind::<Jsonb, _>(serde_json::json!(value))
            .execute(c)?;
        Ok(())
    })
    .expect("marker written");
}

fn read_marker(c: &mut PgConnection) -> Result<String, AppError> {
    Ok(diesel::sql_query("SELECT value #>> '{}' AS v FROM settings WHERE key = 'marker'").get_result::<Marker>(c)?.v)
}

fn session_state(c: &mut PgConnection) -> Session {
    diesel::sql_query("SELECT current_setting('search_path') AS search_path, coalesce(current_setting('app.tenant_id', true), '') AS tenant")
        .get_result::<Session>(c)
        .expect("session state")
}

#[actix_web::test]
async fn the_same_keys_in_two_tenants_stay_separate() {
    let app = TestApp::spawn().await;
    let a = app.new_tenant().await;
    let b = app.new_tenant().await;
    let (sa, sb) = (a.tenant.schema.clone(), b.tenant.schema.clone());
    app.db(move |c| {
        write_marker(c, &sa, "alpha-secret");
        write_marker(c, &sb, "beta-secret");
    })
    .await;
    let ra = with_tenant(&app.pool, &a.tenant.schema, read_marker).await.expect("a");
    let rb = with_tenant(&app.pool, &b.tenant.schema, read_marker).await.expect("b");
    assert_eq!((ra.as_str(), rb.as_str()), ("alpha-secret", "beta-secret"));
}

#[actix_web::test]
async fn a_pooled_connection_never_carries_a_tenant_across_1000_alternating_uses() {
    let app = TestApp::spawn().await;
    let a = app.new_tenant().await;
    let b = app.new_tenant().await;
    let (sa, sb) = (a.tenant.schema.clone(), b.tenant.schema.clone());
    app.db(move |c| {
        write_marker(c, &sa, "A");
        write_marker(c, &sb, "B");
    })
    .await;
    // One connection, so every use lands on the same backend (unless a failure made the
    // pool replace it, which is also fine: what matters is what the next checkout sees).
    let mut s = settings(&database_url());
    s.database.tenant_working_set = 1_000_000;
    let pool = build_pool(&s.database, Some(1));
    let mut carried = 0;
    let mut foreign = 0;
    let mut failures = 0;
    for i in 0..1000 {
        let (schema, expect) = if i % 2 == 0 { (&a.tenant.schema, "A") } else { (&b.tenant.schema, "B") };
        let mode = i % 5;
        let result = with_tenant(&pool, schema, move |c| {
            let seen = read_marker(c)?;
            match mode {
                // An error returned by the handler: the transaction rolls back.
                1 => Err(AppError::Internal(anyhow::anyhow!("injected failure"))),
                // A failing statement mid-transaction.
                2 => {
                    diesel::sql_query("SELECT * FROM no_such_table").execute(c)?;
                    Ok(seen)
                }
                // A panic inside the transaction.
                3 if i % 25 == 3 => panic!("injected panic"),
                _ => Ok(seen),
            }
        })
        .await;
        match result {
            Ok(seen) if seen != expect => foreign += 1,
            Ok(_) => {}
            Err(_) => failures += 1,
        }
        // Whatever happened, the next checkout starts at the fail-closed default.
        let state = with_platform(&pool, |c| Ok(session_state(c))).await.expect("check");
        if state.search_path != "public" || !state.tenant.is_empty() {
            carried += 1;
        }
    }
    println!("{{\"scenario\":\"T2\",\"tried\":1000,\"failures_injected\":{failures},\"carried_search_path\":{carried},\"foreign_rows\":{foreign}}}");
    assert!(failures >= 400, "failures were injected: {failures}");
    assert_eq!(carried, 0, "a connection carried a tenant's search_path");
    assert_eq!(foreign, 0, "a request read another tenant's row");
}

#[actix_web::test]
async fn queries_without_a_tenant_fail_closed() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let schema = t.tenant.schema.clone();
    let tables: Vec<String> = app
        .db(move |c| {
            #[derive(QueryableByName)]
            struct Name {
                #[diesel(sql_type = Text)]
                relname: String,
            }
            diesel::sql_query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'")
                .bind::<Text, _>(schema.as_str())
                .load::<Name>(c)
                .expect("tables")
                .into_iter()
                .map(|n| n.relname)
                .collect()
        })
        .await;
    assert!(tables.len() >= 3, "{tables:?}");
    let mut failed_closed = 0;
    for table in &tables {
        let sql = format!("SELECT count(*) FROM {table}");
        let r = with_platform(&app.pool, move |c| Ok(diesel::sql_query(sql).execute(c)?)).await;
        match r {
            Err(e) => {
                assert!(format!("{e:?}").contains("does not exist"), "{table}: {e:?}");
                failed_closed += 1;
            }
            Ok(_) => panic!("table {table} is readable without a tenant"),
        }
    }
    println!("{{\"scenario\":\"T3\",\"tried\":{},\"failed_closed\":{failed_closed}}}", tables.len());
}

#[actix_web::test]
async fn alternating_storefront_requests_on_one_connection_show_the_right_store() {
    let app = TestApp::spawn_with(|s| s.database.pool_max_size = 1).await;
    let a = app.new_tenant().await;
    let b = app.new_tenant().await;
    for i in 0..200 {
        let t = if i % 2 == 0 { &a } else { &b };
        let other = if i % 2 == 0 { &b } else { &a };
        let path = if i % 3 == 0 { format!("/s/{}/logo", t.slug) } else { format!("/s/{}/", t.slug) };
        let r = app.get(&path, None).await;
        if path.ends_with("logo") {
            assert_eq!(r.status, 404, "no logo uploaded");
        } else {
            assert!(r.body.contains(&t.tenant.name) && !r.body.contains(&other.tenant.name));
        }
    }
}

/// Nothing but the tenant door sets `search_path` (and nothing uses session-wide `SET`).
#[test]
fn only_the_tenant_door_sets_search_path() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let allowed = path.ends_with("db/tenant.rs") || path.ends_with("db/mod.rs");
            for (n, line) in text.lines().enumerate() {
                let l = line.to_lowercase();
                let sets_path = l.contains("set_config('search_path'") || l.contains("set search_path");
                let session_set = l.contains("\"set ") && !l.contains("set local");
                if (sets_path && !allowed) || session_set {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "search_path/SET outside the tenant door:\n{}", offenders.join("\n"));
}
