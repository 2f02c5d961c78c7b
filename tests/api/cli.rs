//! The command line as an operator uses it.

use std::process::{Command, Output};

use crate::helpers::{database_url, prepare_database, unique, TEST_PASSWORD};

fn tradeport(args: &[&str], database: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradeport"))
        .args(args)
        .env("DATABASE_URL", database)
        .env("TRADEPORT_PROFILE", "test")
        .output()
        .expect("tradeport runs")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_missing_postgresql_is_one_clear_sentence() {
    for cmd in [&["migrate"][..], &["demo"], &["tenant", "list"]] {
        let out = tradeport(cmd, "postgres://postgres@127.0.0.1:1/tradeport");
        let (_, err) = text(&out);
        assert!(!out.status.success(), "{cmd:?}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.contains("WARN")).collect();
        assert_eq!(lines.len(), 1, "{cmd:?}: {err}");
        assert!(lines[0].starts_with("tradeport: PostgreSQL does not answer at 127.0.0.1:1"), "{}", lines[0]);
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn tenants_are_created_listed_suspended_and_resumed_from_the_command_line() {
    let db = database_url();
    prepare_database(&db);
    let slug = unique("zt");
    let email = format!("{slug}@cli.test");
    let out = tradeport(
        &[
            "tenant",
            "create",
            "--slug",
            &slug,
            "--name",
            "CLI Store",
            "--admin-email",
            &email,
            "--admin-password",
            TEST_PASSWORD,
            "--mode",
            "closed",
            "--locales",
            "en,ru",
        ],
        &db,
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("tenant {slug} created")) && stdout.contains("closed portal"), "{stdout}");

    let out = tradeport(&["tenant", "create", "--slug", &slug, "--name", "Again", "--admin-email", &email], &db);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("already exists"), "{stderr}");

    let out = tradeport(
        &[
            "tenant",
            "create",
            "--slug",
            "www",
            "--name",
            "W",
            "--admin-email",
            "w@w.test",
            "--admin-password",
            TEST_PASSWORD,
        ],
        &db,
    );
    assert!(!out.status.success());
    assert!(text(&out).1.contains("reserved"));

    let (list, _) = text(&tradeport(&["tenant", "list"], &db));
    let row = list.lines().find(|l| l.starts_with(&slug)).unwrap_or_default().to_owned();
    assert!(row.contains("active") && row.contains("closed") && row.contains("en,ru"), "{row}");

    assert!(tradeport(&["tenant", "suspend", &slug], &db).status.success());
    let (list, _) = text(&tradeport(&["tenant", "list"], &db));
    assert!(list.lines().any(|l| l.starts_with(&slug) && l.contains("suspended")));
    assert!(tradeport(&["tenant", "resume", &slug], &db).status.success());
    let out = tradeport(&["tenant", "suspend", "zt-no-such-tenant"], &db);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("not found"));
}

#[test]
fn operators_are_created_from_the_command_line() {
    let db = database_url();
    prepare_database(&db);
    let email = format!("{}@ops.test", unique("op"));
    let out = tradeport(&["operator", "create", "--email", &email, "--password", TEST_PASSWORD], &db);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains("created"));
    let out = tradeport(&["operator", "create", "--email", &email, "--password", "short"], &db);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("password must be at least 10 characters"), "{:?}", text(&out));
}

#[test]
fn search_reindex_reports_each_tenant_and_refuses_an_unknown_one() {
    let db = database_url();
    prepare_database(&db);
    let slug = unique("zt");
    let out = tradeport(
        &[
            "tenant",
            "create",
            "--slug",
            &slug,
            "--name",
            "Reindex Ltd",
            "--admin-email",
            &format!("{slug}@cli.test"),
            "--admin-password",
            TEST_PASSWORD,
        ],
        &db,
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let out = tradeport(&["search", "reindex", "--tenant", &slug], &db);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout} {stderr}");
    // "(postgres)" or "(meilisearch)", whichever engine this run is configured with.
    assert!(stdout.starts_with(&format!("{slug}: 0 products indexed (")), "{stdout}");
    assert!(stdout.contains("0 listed on the marketplace"), "{stdout}");
    let out = tradeport(&["search", "reindex", "--tenant", "no-such-store"], &db);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().filter(|l| !l.contains("WARN")).collect::<Vec<_>>(), vec!["tradeport: no such tenant"]);
}
