use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::helpers::{unique, TestApp, TEST_PASSWORD};
use tradeport::platform::onboarding::{onboard, FailPoint, OnboardContext, OnboardRequest};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str, bind: &str) -> i64 {
    diesel::sql_query(sql).bind::<Text, _>(bind).get_result::<Count>(conn).map(|c| c.n).expect("count")
}

#[actix_web::test]
async fn a_failure_midway_through_onboarding_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    for fail in [FailPoint::AfterSchema, FailPoint::AfterAdmin] {
        let slug = unique("zt");
        let email = format!("{slug}@fail.test");
        let req = OnboardRequest {
            slug: slug.clone(),
            name: "Half-made".into(),
            admin_email: email.clone(),
            admin_password: Some(TEST_PASSWORD.into()),
            ..Default::default()
        };
        let (s, e) = (slug.clone(), email.clone());
        let leftovers = app
            .db(move |conn| {
                let result = onboard(
                    conn,
                    &req,
                    None,
                    &OnboardContext { platform_url: "http://x", actor_account_id: None, fail_at: Some(fail) },
                );
                assert!(result.is_err(), "the injected failure surfaces");
                let schema = format!("tenant_{}", s);
                [
                    count(conn, "SELECT count(*) AS n FROM public.tenants WHERE slug = $1", &s),
                    count(conn, "SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1", &schema),
                    count(conn, "SELECT count(*) AS n FROM public.accounts WHERE email = $1", &e),
                    count(conn, "SELECT count(*) AS n FROM public.mail_outbox WHERE to_email = $1", &e),
                ]
            })
            .await;
        assert_eq!(leftovers, [0, 0, 0, 0], "after {fail:?}: tenant row, schema, account, mail");
        // The same slug onboards cleanly afterwards.
        let t = app.new_tenant_with(|r| r.slug = slug.clone()).await;
        assert_eq!(t.slug, slug);
    }
}

#[actix_web::test]
async fn an_existing_account_becomes_admin_without_its_password_changing() {
    let app = TestApp::spawn().await;
    let (email, _) = app.user_token().await;
    let t = app
        .new_tenant_with(|r| {
            r.admin_email = email.clone();
            r.admin_password = Some("a-different-password".into());
        })
        .await;
    app.login(&email, TEST_PASSWORD).await;
    let schema = t.tenant.schema.clone();
    let role = app
        .db(move |conn| {
            #[derive(QueryableByName)]
            struct Role {
                #[diesel(sql_type = Text)]
                role: String,
            }
            tradeport::db::in_tenant(conn, &schema, |c| {
                Ok(diesel::sql_query("SELECT role FROM staff").get_result::<Role>(c)?.role)
            })
            .expect("staff row")
        })
        .await;
    assert_eq!(role, "owner");
}

#[actix_web::test]
async fn a_manifest_onboards_with_branding_logo_flags_and_settings() {
    let app = TestApp::spawn().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants/okna-profi");
    let (mut req, logo) = tradeport::platform::manifest::load(&dir).expect("manifest");
    let slug = unique("zt");
    req.slug = slug.clone();
    req.admin_email = format!("{slug}@manifest.test");
    let tenant = app
        .db(move |conn| {
            onboard(
                conn,
                &req,
                logo,
                &OnboardContext { platform_url: "http://x", actor_account_id: None, fail_at: None },
            )
        })
        .await
        .expect("onboarded");
    assert!(tenant.has_logo);
    assert!(tenant.has(tradeport::platform::features::Feature::Edo));
    assert_eq!(tenant.default_locale, "ru");
    let logo = app.get(&format!("/s/{slug}/logo"), None).await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(logo.header("content-security-policy").is_some_and(|c| c.contains("sandbox")), "SVG can never run script");
    let page = app.get(&format!("/s/{slug}/"), None).await;
    assert!(page.body.contains("Производитель ПВХ-окон"));
    let schema = tenant.schema.clone();
    let inn = app
        .db(move |conn| {
            #[derive(QueryableByName)]
            struct V {
                #[diesel(sql_type = Text)]
                v: String,
            }
            tradeport::db::in_tenant(conn, &schema, |c| {
                Ok(diesel::sql_query("SELECT value #>> '{}' AS v FROM settings WHERE key = 'inn'")
                    .get_result::<V>(c)?
                    .v)
            })
            .expect("setting")
        })
        .await;
    assert_eq!(inn, "7707083893");
}

#[actix_web::test]
async fn tenant_schemas_hold_no_foreign_keys_into_public() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let schema = t.tenant.schema.as_str().to_owned();
    let n = app
        .db(move |c| {
            count(
                c,
                "SELECT count(*) AS n FROM pg_constraint k
                   JOIN pg_class src ON src.oid = k.conrelid JOIN pg_namespace sn ON sn.oid = src.relnamespace
                   JOIN pg_class dst ON dst.oid = k.confrelid JOIN pg_namespace dn ON dn.oid = dst.relnamespace
                  WHERE k.contype = 'f' AND sn.nspname = $1 AND dn.nspname = 'public'",
                &schema,
            )
        })
        .await;
    assert_eq!(n, 0, "a key into public puts a trigger per tenant on the public table (docs/BENCHMARKS.md)");
}
