//! T19: 1C import atomicity and idempotency. The web server runs without its embedded
//! worker; a separate `tradeport worker` runs the `exchange.import` jobs and is killed with
//! SIGKILL at a random moment of 20 imports of a generated catalog (two packages of the same
//! products, `--seed 1` and `--seed 2`, imported in turn, so every import changes every
//! product). At each kill, the store's catalog must be the one before the file or the one
//! after it, never a mix; the worker then finishes the import. At the end the full exchange
//! (import.xml and offers.xml) runs twice: the second changes no row. Another store, with
//! the same catalog imported once, never changes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::checkout::Lcg;
use crate::harness::{env_usize, figure, free_port, run, secs, FaultDb, Http, Proc};
use crate::store::{store, Store};

const LOGIN: &str = "onec";
const PASSWORD: &str = "exchange-password-19";

#[test]
#[ignore = "fault suite (T19): real processes, the worker killed 20 times mid-import; run bench/faults.sh"]
fn t19_import_killed_at_random_leaves_the_old_or_the_new_catalog_and_reimport_changes_nothing() {
    run(t19());
}

/// A CommerceML package of `products` products from the repository's generator.
fn package(dir: &Path, products: usize, seed: u64) -> PathBuf {
    let out = dir.join(format!("package-{seed}"));
    let status = std::process::Command::new("python3")
        .arg(crate::harness::source_dir().join("scripts/gen_commerceml.py"))
        .args(["--products", &products.to_string(), "--seed", &seed.to_string(), "--out"])
        .arg(&out)
        .status()
        .expect("run scripts/gen_commerceml.py");
    assert!(status.success(), "gen_commerceml.py failed");
    out
}

/// What a buyer sees of the catalog: every product with its category, and the categories.
fn catalog(db: &FaultDb, s: &Store) -> String {
    let sc = &s.schema;
    db.value(&format!(
        "SELECT (SELECT md5(coalesce(string_agg(concat_ws('|', p.external_id, p.sku, p.name, p.status, \
                    md5(p.description), p.attributes::text, p.unit, c.external_id), ',' ORDER BY p.external_id), '')) \
                   FROM {sc}.products p LEFT JOIN {sc}.categories c ON c.id = p.category_id) \
             || (SELECT md5(coalesce(string_agg(concat_ws('|', external_id, name), ',' ORDER BY external_id), '')) \
                   FROM {sc}.categories)"
    ))
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Every row the import writes, as stored (ids, `updated_at`): equal only if nothing was touched.
fn everything(db: &FaultDb, s: &Store) -> String {
    let sc = &s.schema;
    let parts: Vec<String> = ["products", "categories", "attributes", "product_prices", "stock", "warehouses"]
        .iter()
        .map(|t| format!("(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {sc}.{t} x)"))
        .collect();
    db.value(&format!("SELECT {}", parts.join(" || "))).as_str().unwrap_or_default().to_owned()
}

/// A 1C client of one store: Basic auth on checkauth, then its cookie.
struct OneC {
    client: reqwest::Client,
    url: String,
    cookie: Option<String>,
}

impl OneC {
    fn new(s: &Store) -> OneC {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("client");
        OneC { client, url: format!("{}/s/{}/1c/exchange", s.base, s.slug), cookie: None }
    }

    async fn call(&self, query: &str, body: Option<Vec<u8>>, basic: bool) -> Vec<String> {
        let url = format!("{}?{query}", self.url);
        let mut req = match &body {
            Some(_) => self.client.post(&url),
            None => self.client.get(&url),
        };
        if basic {
            req = req.basic_auth(LOGIN, Some(PASSWORD));
        }
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let res = req.send().await.expect("1C request");
        assert_eq!(res.status().as_u16(), 200, "1C always gets HTTP 200");
        let bytes = res.bytes().await.expect("body");
        let text = encoding_rs::WINDOWS_1251.decode(&bytes).0.into_owned();
        text.lines().map(str::to_owned).collect()
    }

    /// checkauth → init → the files, uploaded in 1 MB chunks.
    async fn upload(&mut self, dir: &Path, files: &[&str]) {
        self.cookie = None;
        let a = self.call("type=catalog&mode=checkauth", None, true).await;
        assert_eq!(a[0], "success", "{a:?}");
        self.cookie = Some(format!("{}={}", a[1], a[2]));
        let init = self.call("type=catalog&mode=init", None, false).await;
        assert!(init.iter().any(|l| l.starts_with("file_limit=")), "{init:?}");
        for name in files {
            let bytes = std::fs::read(dir.join(name)).expect("package file");
            for part in bytes.chunks(1024 * 1024) {
                let a = self.call(&format!("type=catalog&mode=file&filename={name}"), Some(part.to_vec()), false).await;
                assert_eq!(a[0], "success", "{name}: {a:?}");
            }
        }
    }

    /// One `mode=import` call: `progress`, `success` or `failure` and what follows.
    async fn import(&self, name: &str) -> Vec<String> {
        self.call(&format!("type=catalog&mode=import&filename={name}"), None, false).await
    }

    /// `mode=import` until it is no longer `progress` (the worker must be running).
    async fn import_to_end(&self, name: &str, timeout: Duration) -> Vec<String> {
        let until = Instant::now() + timeout;
        loop {
            let a = self.import(name).await;
            if a[0] != "progress" {
                return a;
            }
            assert!(Instant::now() < until, "{name} still in progress after {timeout:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn enable_exchange(s: &Store) {
    let r = reqwest::Client::new()
        .put(s.api("/admin/exchange-1c"))
        .bearer_auth(&s.admin)
        .header("Content-Type", "application/json")
        .body(json!({"enabled": true, "login": LOGIN, "password": PASSWORD}).to_string())
        .send()
        .await
        .expect("enable the exchange");
    assert_eq!(r.status().as_u16(), 200, "{:?}", r.text().await);
}

/// The whole exchange of `files` with a worker running; every import must succeed.
async fn full_exchange(db: &FaultDb, env: &[(&str, String)], onec: &mut OneC, dir: &Path, files: &[&str]) {
    onec.upload(dir, files).await;
    let mut worker = Proc::spawn(db, "worker-full", &["worker"], 0, env);
    for name in files {
        let a = onec.import_to_end(name, Duration::from_secs(300)).await;
        assert_eq!(a[0], "success", "{name}: {a:?}\n{}", worker.tail());
    }
    worker.kill9();
}

async fn t19() {
    let products = env_usize("FAULTS_T19_PRODUCTS", 3000);
    let kills = env_usize("FAULTS_T19_KILLS", 20);
    let db = FaultDb::create("T19");
    let packages = [package(&db.dir, products, 1), package(&db.dir, products, 2)];
    let env = vec![
        ("DATABASE_URL", db.url.clone()),
        // A killed worker's import comes back after the lease.
        ("TRADEPORT__JOBS__LEASE_SECS", "2".to_owned()),
    ];
    let port = free_port();
    let web = Proc::spawn(&db, "serve", &["serve", "--no-worker"], port, &env);
    let http = Http::new(Duration::from_secs(60));
    web.wait_up(&http, Duration::from_secs(60)).await;
    let (s, other) = (store(&db, &http, &web.base).await, store(&db, &http, &web.base).await);
    enable_exchange(&s).await;
    enable_exchange(&other).await;

    // The other store: the first package, whole, once.
    let mut onec_other = OneC::new(&other);
    full_exchange(&db, &env, &mut onec_other, &packages[0], &["import.xml", "offers.xml"]).await;
    let other_before = everything(&db, &other);

    // Warm-up without kills: package 1, 2, 1, 2 learn each package's catalog over the other
    // one (what a finished import must leave), and how long an import takes here.
    let mut onec = OneC::new(&s);
    let mut expected = [String::new(), String::new()];
    let mut import_secs: f64 = 0.0;
    for i in 0..4 {
        let started = Instant::now();
        full_exchange(&db, &env, &mut onec, &packages[i % 2], &["import.xml"]).await;
        import_secs = import_secs.max(secs(started.elapsed()));
        expected[i % 2] = catalog(&db, &s);
    }
    assert_ne!(expected[0], expected[1], "the two packages differ");

    // The kills: import the other package, start the worker, kill it at a random moment.
    let mut rng = Lcg(19);
    let (mut mid_import, mut finished_before_kill, mut partial) = (0, 0, 0);
    let mut other_changed = 0;
    let started = Instant::now();
    for round in 0..kills {
        // The warm-up left package 2: round 0 imports package 1, round 1 package 2, …
        let (from, to) = ((round + 1) % 2, round % 2);
        assert_eq!(catalog(&db, &s), expected[from], "round {round} starts from package {}", from + 1);
        onec.upload(&packages[to], &["import.xml"]).await;
        assert_eq!(onec.import("import.xml").await[0], "progress", "queued");
        let mut worker = Proc::spawn(&db, &format!("worker-{round}"), &["worker"], 0, &env);
        let delay = Duration::from_millis(rng.next((import_secs * 1000.0) as u64 + 1));
        tokio::time::sleep(delay).await;
        let claimed = db.int(&format!(
            "SELECT count(*) FROM public.jobs WHERE tenant_id = {} AND kind = 'exchange.import' AND attempts > 0",
            s.id
        ));
        worker.kill9();
        let now = catalog(&db, &s);
        if now == expected[to] {
            finished_before_kill += 1;
        } else if now == expected[from] {
            mid_import += usize::from(claimed > 0);
        } else {
            partial += 1;
        }
        if everything(&db, &other) != other_before {
            other_changed += 1;
        }
        // The import is finished by a new worker once the killed one's lease is over.
        let mut worker = Proc::spawn(&db, &format!("worker-{round}-again"), &["worker"], 0, &env);
        let a = onec.import_to_end("import.xml", Duration::from_secs(300)).await;
        assert_eq!(a[0], "success", "round {round}: {a:?}\n{}", worker.tail());
        worker.kill9();
        assert_eq!(catalog(&db, &s), expected[to], "round {round} ends with package {}", to + 1);
    }
    let kill_secs = secs(started.elapsed());

    // The full exchange of the last package, then the same again: nothing changes.
    let last = (kills + 1) % 2;
    full_exchange(&db, &env, &mut onec, &packages[last], &["import.xml", "offers.xml"]).await;
    let once = everything(&db, &s);
    full_exchange(&db, &env, &mut onec, &packages[last], &["import.xml", "offers.xml"]).await;
    let twice = everything(&db, &s);
    let other_after = everything(&db, &other);
    figure(&json!({
        "scenario": "T19",
        "products": products,
        "kills": kills,
        "kills_mid_import": mid_import,
        "imports_finished_before_the_kill": finished_before_kill,
        "partial_catalogues": partial,
        "reimport_changed_rows": once != twice,
        "other_store_changed": other_changed > 0 || other_after != other_before,
        "import_secs_here": import_secs,
        "kill_rounds_secs": kill_secs,
    }));
    assert_eq!(partial, 0, "a catalog was neither the old nor the new one");
    assert_eq!(once, twice, "importing the same package again changed rows");
    assert_eq!((other_changed, other_after), (0, other_before), "the other store changed");
    assert!(mid_import > 0, "no kill landed inside an import: the scenario proved nothing");
}
