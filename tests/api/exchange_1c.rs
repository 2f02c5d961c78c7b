//! The 1C exchange as 1C drives it: credentials set by staff, checkauth with Basic auth and
//! the session cookie after it, init, files in chunks and zips, import polling, the answers'
//! encoding, refused names and files, and the log staff read.

use std::io::Write;

use base64::Engine;
use serde_json::{json, Value};

use crate::catalog::api;
use crate::helpers::{TestApp, TestTenant};
use crate::order_pages::sign_in;
use crate::ordering::store;

pub const LOGIN: &str = "exchange-1c";
pub const PASSWORD: &str = "Obmen-s-1C-2026";

/// A 1C exchange node pointed at one store.
pub struct OneC<'a> {
    pub app: &'a TestApp,
    pub url: String,
    pub login: String,
    pub password: String,
    pub cookie: Option<String>,
    pub sessid: Option<String>,
}

/// An answer: its lines decoded by the charset it declares, and its raw bytes.
pub struct Answer {
    pub lines: Vec<String>,
    pub bytes: Vec<u8>,
    pub content_type: String,
}

impl Answer {
    pub fn status(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or_default()
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl<'a> OneC<'a> {
    pub fn new(app: &'a TestApp, t: &TestTenant) -> Self {
        OneC {
            app,
            url: format!("/s/{}/1c/exchange", t.slug),
            login: LOGIN.into(),
            password: PASSWORD.into(),
            cookie: None,
            sessid: None,
        }
    }

    pub async fn call(&self, method: awc::http::Method, query: &str, body: Option<Vec<u8>>, basic: bool) -> Answer {
        let mut path = format!("{}?{query}", self.url);
        if let Some(s) = &self.sessid {
            path.push_str(&format!("&sessid={s}"));
        }
        let mut req = self.app.request(method, &path);
        if basic {
            let raw = format!("{}:{}", self.login, self.password);
            req = req.insert_header((
                "Authorization",
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)),
            ));
        }
        if let Some(c) = &self.cookie {
            req = req.insert_header(("Cookie", c.clone()));
        }
        let mut res = match body {
            Some(b) => req.send_body(b).await,
            None => req.send().await,
        }
        .expect("request sent");
        assert_eq!(res.status(), 200, "1C always gets HTTP 200");
        let bytes = res.body().limit(64 * 1024 * 1024).await.expect("body").to_vec();
        let content_type =
            res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let text = if content_type.contains("windows-1251") {
            encoding_rs::WINDOWS_1251.decode(&bytes).0.into_owned()
        } else {
            String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).into_owned()
        };
        Answer { lines: text.lines().map(str::to_owned).collect(), bytes, content_type }
    }

    pub async fn get(&self, query: &str) -> Answer {
        self.call(awc::http::Method::GET, query, None, false).await
    }

    /// checkauth; keeps the cookie and sessid 1C would keep.
    pub async fn checkauth(&mut self, kind: &str) -> Answer {
        self.cookie = None;
        self.sessid = None;
        let a = self.call(awc::http::Method::GET, &format!("type={kind}&mode=checkauth"), None, true).await;
        if a.status() == "success" {
            self.cookie = Some(format!("{}={}", a.lines[1], a.lines[2]));
            self.sessid = a.lines.get(3).and_then(|l| l.strip_prefix("sessid=")).map(str::to_owned);
        }
        a
    }

    /// A file in chunks of `chunk` bytes, as 1C splits by `file_limit`.
    pub async fn upload(&self, kind: &str, name: &str, bytes: &[u8], chunk: usize) -> Vec<Answer> {
        let mut out = Vec::new();
        for part in bytes.chunks(chunk.max(1)) {
            let q = format!("type={kind}&mode=file&filename={}", urlencode(name));
            out.push(self.call(awc::http::Method::POST, &q, Some(part.to_vec()), false).await);
        }
        out
    }

    /// mode=import repeated while the answer is `progress`; returns every answer.
    pub async fn import(&self, kind: &str, name: &str) -> Vec<Answer> {
        let mut out = Vec::new();
        for _ in 0..600 {
            let a = self.get(&format!("type={kind}&mode=import&filename={}", urlencode(name))).await;
            let more = a.status() == "progress";
            out.push(a);
            if !more {
                return out;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("import of {name} still in progress after 600 calls");
    }

    /// checkauth → init → every file in chunks → import each in order; the last answers.
    pub async fn full_session(&mut self, kind: &str, files: &[(&str, Vec<u8>)], imports: &[&str]) -> Vec<Answer> {
        assert_eq!(self.checkauth(kind).await.status(), "success");
        let init = self.get(&format!("type={kind}&mode=init")).await;
        assert!(init.lines.iter().any(|l| l.starts_with("file_limit=")), "{}", init.text());
        for (name, bytes) in files {
            for a in self.upload(kind, name, bytes, 40_000).await {
                assert_eq!(a.status(), "success", "{name}: {}", a.text());
            }
        }
        let mut last = Vec::new();
        for name in imports {
            let answers = self.import(kind, name).await;
            last.push(answers.into_iter().last().expect("an answer"));
        }
        last
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn sample(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/commerceml");
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("sample {name}: {e}"))
}

pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish");
    buf.into_inner()
}

/// Staff turn the exchange on with the test credentials.
pub async fn enable(app: &TestApp, t: &TestTenant, staff: &str, extra: Value) -> Value {
    let mut body = json!({"enabled": true, "login": LOGIN, "password": PASSWORD});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = app.json_request(awc::http::Method::PUT, &api(t, "/admin/exchange-1c"), &body, Some(staff)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

async fn sessions(app: &TestApp, t: &TestTenant, staff: &str) -> Vec<Value> {
    let r = app.get(&api(t, "/admin/exchange-1c/sessions"), Some(staff)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

async fn session(app: &TestApp, t: &TestTenant, staff: &str, id: i64) -> Value {
    let r = app.get(&api(t, &format!("/admin/exchange-1c/sessions/{id}")), Some(staff)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[actix_web::test]
async fn staff_set_credentials_and_only_they_open_a_session() {
    let app = TestApp::spawn().await;
    let (t, staff) = store(&app).await;
    let mut onec = OneC::new(&app, &t);

    // Off until staff turn it on: 1C is told where to do it.
    let a = onec.checkauth("catalog").await;
    assert_eq!(a.status(), "failure");
    assert!(a.text().contains("выключен"), "{}", a.text());

    // Turning it on needs a login and a password; nothing is stored otherwise.
    let r = app
        .json_request(
            awc::http::Method::PUT,
            &api(&t, "/admin/exchange-1c"),
            &json!({"enabled": true, "login": ""}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"]["fields"]["password"].is_string() && r.json()["error"]["fields"]["login"].is_string());
    let r = app
        .json_request(
            awc::http::Method::PUT,
            &api(&t, "/admin/exchange-1c"),
            &json!({"enabled": true, "login": LOGIN, "password": PASSWORD, "colour": "red"}),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status, 400, "unknown fields are refused: {}", r.body);
    let r = app.get(&api(&t, "/admin/exchange-1c"), Some(&staff)).await;
    assert_eq!(r.json()["enabled"], false);

    let v = enable(&app, &t, &staff, json!({})).await;
    assert_eq!(
        (v["enabled"].clone(), v["has_password"].clone(), v["ready"].clone()),
        (json!(true), json!(true), json!(true))
    );
    assert!(!r.body.contains("argon2") && !v.to_string().contains("argon2"), "the hash is never shown");
    let urls = v["urls"].as_array().expect("urls");
    assert!(urls.iter().any(|u| u.as_str().unwrap_or_default().ends_with(&format!("/s/{}/1c/exchange", t.slug))));

    // Wrong password, no credentials, another store's credentials: failure, no session.
    onec.password = "wrong-password".into();
    let a = onec.checkauth("catalog").await;
    assert_eq!(a.status(), "failure");
    assert!(a.text().contains("неверный логин или пароль"), "{}", a.text());
    let a = onec.get("type=catalog&mode=checkauth").await;
    assert_eq!(a.status(), "failure");
    let (other, other_staff) = store(&app).await;
    enable(&app, &other, &other_staff, json!({"login": "other-1c", "password": "Drugoy-Parol-2026"})).await;
    let mut stranger = OneC::new(&app, &t);
    stranger.login = "other-1c".into();
    stranger.password = "Drugoy-Parol-2026".into();
    assert_eq!(stranger.checkauth("catalog").await.status(), "failure", "credentials belong to one store");

    // Without a session nothing else works.
    let a = onec.get("type=catalog&mode=init").await;
    assert_eq!(a.status(), "failure");
    assert!(a.text().contains("checkauth"), "{}", a.text());

    // The right credentials: cookie name and value, sessid, timestamp.
    onec.password = PASSWORD.into();
    let a = onec.checkauth("catalog").await;
    assert_eq!(a.status(), "success", "{}", a.text());
    assert_eq!(a.lines[1], "tp_1c");
    assert_eq!(a.lines[2].len(), 64);
    assert!(a.lines[3].starts_with("sessid=") && a.lines[4].starts_with("timestamp="), "{}", a.text());
    let init = onec.get("type=catalog&mode=init").await;
    assert_eq!(init.lines, vec!["zip=yes".to_owned(), "file_limit=104857600".to_owned()]);

    // A wrong sessid or an unknown cookie is refused.
    let saved = onec.sessid.clone();
    onec.sessid = Some("0".repeat(32));
    assert_eq!(onec.get("type=catalog&mode=init").await.status(), "failure");
    onec.sessid = saved;
    let cookie = onec.cookie.clone();
    onec.cookie = Some(format!("tp_1c={}", "f".repeat(64)));
    assert_eq!(onec.get("type=catalog&mode=init").await.status(), "failure");
    onec.cookie = cookie;
    // The session's cookie does not open another store's exchange.
    let mut cross = OneC::new(&app, &other);
    cross.cookie = onec.cookie.clone();
    assert_eq!(cross.get("type=catalog&mode=init").await.status(), "failure");

    // The log shows the session and the refused attempts.
    let list = sessions(&app, &t, &staff).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["type"], "catalog");
    let detail = session(&app, &t, &staff, list[0]["id"].as_i64().expect("id")).await;
    let modes: Vec<&str> = detail["log"].as_array().expect("log").iter().filter_map(|r| r["mode"].as_str()).collect();
    assert_eq!(modes, vec!["checkauth", "init"], "{detail}");
    assert!(
        !detail.to_string().contains(onec.cookie.as_deref().unwrap_or("x").trim_start_matches("tp_1c=")),
        "the cookie is never logged"
    );
    assert!(sessions(&app, &other, &other_staff).await.is_empty(), "one store's log is its own");
}

#[actix_web::test]
async fn files_arrive_in_chunks_and_import_answers_progress_until_done_once() {
    let app = TestApp::spawn().await;
    let (t, staff) = store(&app).await;
    enable(&app, &t, &staff, json!({"file_limit": 65536})).await;
    let mut onec = OneC::new(&app, &t);
    assert_eq!(onec.checkauth("catalog").await.status(), "success");
    let init = onec.get("type=catalog&mode=init").await;
    assert_eq!(init.lines[1], "file_limit=65536");

    let file = sample("dobromyslov__commerceml-parser__import0_1.xml");
    let answers = onec.upload("catalog", "import0_1.xml", &file, 60_000).await;
    assert_eq!(answers.len(), 3);
    assert!(answers.iter().all(|a| a.status() == "success"));
    // A chunk larger than file_limit is refused and leaves the file as it was.
    let big = onec.upload("catalog", "import0_1.xml", &vec![b' '; 70_000], 70_000).await;
    assert_eq!(big[0].status(), "failure");
    assert!(big[0].text().contains("file_limit"), "{}", big[0].text());

    let polled = onec.import("catalog", "import0_1.xml").await;
    assert!(polled.len() >= 2, "the first call queues the import and answers at once");
    assert_eq!(polled[0].status(), "progress");
    let last = polled.last().expect("answer");
    assert_eq!(last.status(), "success", "{}", last.text());
    // Asked again, the answer is the same and nothing is imported twice.
    let again = onec.get("type=catalog&mode=import&filename=import0_1.xml").await;
    assert_eq!(again.text(), last.text());
    assert_eq!(onec.get("type=catalog&mode=complete").await.status(), "success");

    let list = sessions(&app, &t, &staff).await;
    let detail = session(&app, &t, &staff, list[0]["id"].as_i64().expect("id")).await;
    assert_eq!(detail["status"], "completed");
    let f = &detail["files"][0];
    assert_eq!(
        (f["name"].as_str(), f["size_bytes"].as_u64(), f["chunks"].as_u64()),
        (Some("import0_1.xml"), Some(file.len() as u64), Some(3))
    );
    assert_eq!(f["status"], "done");
    assert_eq!(f["report"]["schema_version"], "2.07", "{f}");
    assert_eq!(detail["bytes_received"].as_u64(), Some(file.len() as u64));

    // A file never sent: failure with its name.
    let a = onec.get("type=catalog&mode=import&filename=offers0_1.xml").await;
    assert_eq!(a.status(), "failure");
    assert!(a.text().contains("offers0_1.xml"), "{}", a.text());
}

#[actix_web::test]
async fn bad_names_and_hostile_files_fail_with_a_message_and_apply_nothing() {
    let app = TestApp::spawn().await;
    let (t, staff) = store(&app).await;
    enable(&app, &t, &staff, json!({})).await;
    let before = product_count(&app, &t).await;
    let mut onec = OneC::new(&app, &t);
    assert_eq!(onec.checkauth("catalog").await.status(), "success");
    onec.get("type=catalog&mode=init").await;

    for name in ["../import.xml", "import_files/../../x.xml", "/etc/passwd.xml", "shell.php", ".htaccess"] {
        let a = onec.upload("catalog", name, b"<?xml version=\"1.0\"?><x/>", 1000).await;
        assert_eq!(a[0].status(), "failure", "{name} was accepted");
    }
    let escaped = tradeport::config::resource_path(&app.state.settings.exchange.dir)
        .join(t.tenant.schema.as_str())
        .join("import.xml");
    assert!(!escaped.exists(), "nothing was written outside the session folder");

    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><КоммерческаяИнформация ВерсияСхемы="2.05"><Каталог><Товары><Товар><Ид>1</Ид><Наименование>&e;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>"#.as_bytes();
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><КоммерческаяИнформация>&b;</КоммерческаяИнформация>"#.as_bytes();
    for (name, body) in
        [("xxe.xml", xxe), ("laughs.xml", laughs), ("broken.xml", &b"<?xml version=\"1.0\"?><a><b></a>"[..])]
    {
        assert_eq!(onec.upload("catalog", name, body, 100_000).await[0].status(), "success");
        let last = onec.import("catalog", name).await.pop().expect("answer");
        assert_eq!(last.status(), "failure", "{name}: {}", last.text());
        assert!(last.text().contains("ничего не изменено"), "{}", last.text());
    }

    // Zips: an entry escaping the folder, and a bomb, refuse the whole archive.
    let slip = zip_of(&[("import.xml", b"<?xml version=\"1.0\"?><x/>"), ("../../evil.xml", b"x")]);
    assert_eq!(onec.upload("catalog", "slip.zip", &slip, 1 << 20).await[0].status(), "success");
    let a = onec.import("catalog", "import.xml").await.pop().expect("answer");
    assert_eq!(a.status(), "failure", "{}", a.text());
    assert!(a.text().contains("выход за каталог"), "{}", a.text());
    assert_eq!(product_count(&app, &t).await, before, "nothing was applied");
}

async fn product_count(app: &TestApp, t: &TestTenant) -> i64 {
    let schema = t.tenant.schema.clone();
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| {
            use diesel::prelude::*;
            Ok(tradeport::db::schema_tenant::products::table.count().get_result::<i64>(c)?)
        })
        .expect("count")
    })
    .await
}

#[actix_web::test]
async fn a_zip_package_is_unpacked_on_the_first_import_call_and_answers_follow_the_encoding() {
    let app = TestApp::spawn().await;
    let (t, staff) = store(&app).await;
    enable(&app, &t, &staff, json!({"encoding": "utf8_bom"})).await;
    let mut onec = OneC::new(&app, &t);
    let a = onec.checkauth("catalog").await;
    assert!(a.bytes.starts_with(b"\xEF\xBB\xBFsuccess"), "UTF-8 with BOM");
    assert!(a.content_type.contains("charset=UTF-8"), "{}", a.content_type);
    onec.get("type=catalog&mode=init").await;
    let pkg = zip_of(&[
        ("import.xml", &sample("irpsv__commerceml__off-doc-1c_import.xml")),
        ("offers.xml", &sample("irpsv__commerceml__off-doc-1c_offers.xml")),
    ]);
    assert_eq!(onec.upload("catalog", "package.zip", &pkg, 1 << 20).await[0].status(), "success");
    let answers = onec.import("catalog", "import.xml").await;
    assert!(answers[0].text().contains("распакован"), "{}", answers[0].text());
    assert_eq!(answers.last().map(|a| a.status().to_owned()).as_deref(), Some("success"));
    let answers = onec.import("catalog", "offers.xml").await;
    assert_eq!(
        answers.last().map(|a| a.status().to_owned()).as_deref(),
        Some("success"),
        "{}",
        answers.last().map(Answer::text).unwrap_or_default()
    );

    // windows-1251: the message bytes are cp1251, and the header says so.
    enable(&app, &t, &staff, json!({"encoding": "windows_1251"})).await;
    let a = onec.get("type=catalog&mode=import&filename=nothing.xml").await;
    assert!(a.content_type.contains("windows-1251"), "{}", a.content_type);
    assert!(a.text().contains("не получен"), "{}", a.text());
    assert!(std::str::from_utf8(&a.bytes).is_err(), "the bytes are not UTF-8");
}

#[actix_web::test]
async fn staff_set_up_the_exchange_from_the_admin_page_alone() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let page = format!("/s/{}/admin/exchange", t.slug);
    let mut b = sign_in(&app, &t, &t.admin_email, &page).await;
    let r = b.get(&page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&format!("/s/{}/1c/exchange", t.slug)), "the address to enter in 1C is shown");
    assert!(r.body.contains("exchange-no-sessions"));

    // A short password is refused; the login typed stays on the form.
    let r = b
        .post(
            &page,
            &[
                ("enabled", "1"),
                ("login", "obmen"),
                ("password", "short"),
                ("encoding", "windows_1251"),
                ("zip", "1"),
                ("file_limit_kb", "102400"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("value=\"obmen\""), "typed login kept");
    let r = b
        .post(
            &page,
            &[
                ("enabled", "1"),
                ("login", "obmen"),
                ("password", PASSWORD),
                ("encoding", "windows_1251"),
                ("zip", "1"),
                ("file_limit_kb", "102400"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // 1C can now connect with what was set on the page, and the session is in the log.
    let mut onec = OneC::new(&app, &t);
    onec.login = "obmen".into();
    assert_eq!(onec.checkauth("sale").await.status(), "success");
    let r = b.get(&page).await;
    assert!(r.body.contains("exchange-session"), "the session is listed");
    assert!(!r.body.contains(PASSWORD), "the password is never shown");
    let id = sessions_of_page(&r.body);
    let r = b.get(&format!("/s/{}/admin/exchange/sessions/{id}", t.slug)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("checkauth"));
}

fn sessions_of_page(body: &str) -> String {
    body.split("/admin/exchange/sessions/").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned()
}

/// The report of `file` in the store's newest session, from the staff log.
async fn report_of(app: &TestApp, t: &TestTenant, staff: &str, file: &str) -> Value {
    let id = sessions(app, t, staff).await[0]["id"].as_i64().expect("id");
    let detail = session(app, t, staff, id).await;
    detail["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["name"] == file)
        .map(|f| f["report"].clone())
        .unwrap_or_default()
}

#[actix_web::test]
async fn full_catalog_sessions_with_every_sample_import_the_files_values() {
    use crate::exchange_catalog::{checksum, scalar};
    let app = TestApp::spawn().await;

    // carono (2.07, UTF-8 with BOM): products with variants, prices and stock per warehouse.
    let (t, staff) = store(&app).await;
    enable(&app, &t, &staff, json!({})).await;
    let mut onec = OneC::new(&app, &t);
    let files = [
        ("import.xml", sample("carono__php-commerceml__import.xml")),
        ("offers.xml", sample("carono__php-commerceml__offers.xml")),
    ];
    for a in onec.full_session("catalog", &files, &["import.xml", "offers.xml"]).await {
        assert_eq!(a.status(), "success", "{}", a.text());
    }
    let r = report_of(&app, &t, &staff, "offers.xml").await;
    assert_eq!(
        (r["counts"]["variants"]["created"].as_u64(), r["counts"]["stock"]["created"].as_u64()),
        (Some(5), Some(5)),
        "{r}"
    );
    let variant = "bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4";
    let v = scalar(
        &app,
        &t,
        &format!("SELECT price || '|' || stock_available FROM {{s}}.products WHERE external_id = '{variant}'"),
    )
    .await;
    assert_eq!(v, "1719.00|20.000");
    // The same package again over the wire: nothing changes.
    let before = checksum(&app, &t).await;
    for a in onec.full_session("catalog", &files, &["import.xml", "offers.xml"]).await {
        assert_eq!(a.status(), "success", "{}", a.text());
        assert!(a.text().contains("новых 0, изменено 0, удалено 0"), "{}", a.text());
    }
    assert_eq!(checksum(&app, &t).await, before, "re-import is idempotent");

    // dobromyslov (УТ 11 names import0_1/offers0_1, sent as one zip): three warehouses.
    let (t, staff) = store(&app).await;
    enable(&app, &t, &staff, json!({})).await;
    let mut onec = OneC::new(&app, &t);
    let pkg = zip_of(&[
        ("import0_1.xml", &sample("dobromyslov__commerceml-parser__import0_1.xml")),
        ("offers0_1.xml", &sample("dobromyslov__commerceml-parser__offers0_1.xml")),
    ]);
    for a in onec.full_session("catalog", &[("package.zip", pkg)], &["import0_1.xml", "offers0_1.xml"]).await {
        assert_eq!(a.status(), "success", "{}", a.text());
    }
    let r = report_of(&app, &t, &staff, "import0_1.xml").await;
    assert_eq!(r["counts"]["products"]["created"].as_u64(), Some(36), "{r}");
    let row = scalar(&app, &t, "SELECT sku || '|' || price || '|' || stock_available FROM {s}.products WHERE external_id = 'bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1'").await;
    assert_eq!(row, "PM-421-WP|100.00|377.000");

    // irpsv (the official 1C examples, 2.04): variants made orderable, four price types.
    let (t, staff) = store(&app).await;
    enable(&app, &t, &staff, json!({})).await;
    let mut onec = OneC::new(&app, &t);
    let files = [
        ("import.xml", sample("irpsv__commerceml__off-doc-1c_import.xml")),
        ("offers.xml", sample("irpsv__commerceml__off-doc-1c_offers.xml")),
    ];
    for a in onec.full_session("catalog", &files, &["import.xml", "offers.xml"]).await {
        assert_eq!(a.status(), "success", "{}", a.text());
    }
    assert_eq!(scalar(&app, &t, "SELECT count(*) FROM {s}.products WHERE parent_id IS NOT NULL").await, "4");
    let white = "05e26d70-01e4-11dc-a411-00055d80a2d1#05e26d76-01e4-11dc-a411-00055d80a2d1";
    assert_eq!(
        scalar(&app, &t, &format!("SELECT price FROM {{s}}.products WHERE external_id = '{white}'")).await,
        "7.00"
    );

    // gillbeits: a split rests file (2.09) for products this store lacks: applied with warnings.
    let (t, staff) = store(&app).await;
    enable(&app, &t, &staff, json!({})).await;
    let mut onec = OneC::new(&app, &t);
    let files = [("rests___1af6e7b8.xml", sample("gillbeits__commerceml__rests___1af6e7b8.xml"))];
    let last = onec.full_session("catalog", &files, &["rests___1af6e7b8.xml"]).await;
    assert_eq!(last[0].status(), "success", "{}", last[0].text());
    assert!(last[0].text().contains("предупреждений"), "{}", last[0].text());
    assert!(onec.get("type=catalog&mode=deactivate&timestamp=1").await.status() == "success");
    assert_eq!(onec.get("type=catalog&mode=complete").await.status(), "success");
    assert_eq!(onec.get("type=catalog&mode=unknown").await.status(), "failure");
}

#[actix_web::test]
async fn orders_go_to_1c_by_query_until_success_and_come_back_numbered_by_file() {
    let app = TestApp::spawn().await;
    let (t, staff) = store(&app).await;
    enable(&app, &t, &staff, json!({})).await;
    let (b, _, _) = crate::ordering::buyer(&app, &t, crate::identity::INNS[4]).await;
    let number = crate::exchange_sale::place(&app, &t, &b, json!({"lines": [{"sku": "PCS-1", "qty": 4}]})).await;

    // The new protocol: init with version answers sessid and version too.
    let mut onec = OneC::new(&app, &t);
    assert_eq!(onec.checkauth("sale").await.status(), "success");
    let init = onec.get("type=sale&mode=init&version=2.09").await;
    assert!(
        init.lines.iter().any(|l| l.starts_with("sessid=")) && init.lines.contains(&"version=2.09".to_owned()),
        "{}",
        init.text()
    );
    let q = onec.get("type=sale&mode=query").await;
    assert!(q.content_type.starts_with("application/xml; charset=windows-1251"), "{}", q.content_type);
    let xml = q.text();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"windows-1251\"?>"), "{}", &xml[..80.min(xml.len())]);
    assert!(xml.contains(&format!("<Номер>{number}</Номер>")), "{xml}");
    assert!(xml.contains(crate::identity::INNS[4]), "the buyer's INN goes to 1C");
    // Not confirmed: sent again.
    assert!(onec.get("type=sale&mode=query").await.text().contains(&format!("<Номер>{number}</Номер>")));
    let ok = onec.get("type=sale&mode=success").await;
    assert_eq!(ok.status(), "success", "{}", ok.text());
    assert!(
        !onec.get("type=sale&mode=query").await.text().contains("<Документ>"),
        "confirmed orders are not sent again"
    );

    // The old protocol: a file from 1C is imported at once and the answer is the result.
    assert_eq!(onec.checkauth("sale").await.status(), "success");
    onec.get("type=sale&mode=init").await;
    let file =
        crate::exchange_sale::from_1c(&[(number.as_str(), &[("Номер по 1С", "ЦБ-555"), ("Дата по 1С", "2026-11-28")])]);
    let a = onec.upload("sale", "orders-1.xml", file.as_bytes(), 1 << 20).await;
    assert_eq!(a[0].status(), "success", "{}", a[0].text());
    let o = app.get(&api(&t, &format!("/admin/orders/{number}")), Some(&staff)).await.json();
    assert_eq!(o["number_1c"], "ЦБ-555", "{o}");

    // The new protocol: stored by mode=file, imported by mode=import.
    assert_eq!(onec.checkauth("sale").await.status(), "success");
    onec.get("type=sale&mode=init&version=2.09").await;
    let file = crate::exchange_sale::from_1c(&[(number.as_str(), &[("Номер по 1С", "ЦБ-556")])]);
    assert_eq!(onec.upload("sale", "orders-2.xml", file.as_bytes(), 1 << 20).await[0].status(), "success");
    let o = app.get(&api(&t, &format!("/admin/orders/{number}")), Some(&staff)).await.json();
    assert_eq!(o["number_1c"], "ЦБ-555", "not imported before mode=import");
    let last = onec.import("sale", "orders-2.xml").await.pop().expect("answer");
    assert_eq!(last.status(), "success", "{}", last.text());
    let o = app.get(&api(&t, &format!("/admin/orders/{number}")), Some(&staff)).await.json();
    assert_eq!(o["number_1c"], "ЦБ-556");
}
