//! T15: the outbox and a worker killed at random. The web server runs without its embedded
//! worker; a separate `tradeport worker` is killed with SIGKILL 20 times at random moments
//! and started again while orders and product changes queue about 1,000 jobs (webhook
//! deliveries to a local receiver that counts by delivery id, search index updates, e-mail
//! when the build delivers mail by SMTP). 100 of the changes are made to roll back at
//! COMMIT, after all their work (a deferred constraint trigger the test adds): they must
//! queue nothing. The test records every job committed to `public.jobs` (an insert trigger
//! copying it to a log table in the same transaction, so rolled-back jobs never appear).
//! Promises: every committed job ran (none left, none dead), every committed delivery reached
//! the receiver, nothing from a rolled-back change reached it, duplicates only as repeats of
//! one delivery id (absorbed by the receiver).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::checkout::Lcg;
use crate::harness::{env_secs, env_usize, figure, free_port, run, secs, FaultDb, Http, Proc};
use crate::meili::{binary, Meili};
use crate::receiver::Receiver;
use crate::store::{buyer, place, product, store, webhook, Store};

#[test]
#[ignore = "fault suite (T15): real processes, the worker killed 20 times; run bench/faults.sh"]
fn t15_worker_killed_at_random_loses_nothing_and_sends_nothing_rolled_back() {
    run(t15());
}

/// The log of committed jobs and the injected rollbacks (test instrumentation only).
fn instrument(db: &FaultDb, s: &Store) {
    db.exec(
        "CREATE TABLE public.faults_jobs_log (id bigint PRIMARY KEY, kind text NOT NULL, tenant_id bigint, payload jsonb);
         CREATE FUNCTION public.faults_log_job() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN INSERT INTO public.faults_jobs_log VALUES (NEW.id, NEW.kind, NEW.tenant_id, NEW.payload); RETURN NEW; END $$;
         CREATE TRIGGER faults_log_job AFTER INSERT ON public.jobs FOR EACH ROW EXECUTE FUNCTION public.faults_log_job();
         CREATE FUNCTION public.faults_rollback() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'faults: injected rollback at commit'; END $$;",
    );
    let sc = &s.schema;
    db.exec(&format!(
        "CREATE CONSTRAINT TRIGGER faults_rollback AFTER INSERT ON {sc}.orders DEFERRABLE INITIALLY DEFERRED
           FOR EACH ROW WHEN (NEW.po_number LIKE 'ROLLBACK%') EXECUTE FUNCTION public.faults_rollback();
         CREATE CONSTRAINT TRIGGER faults_rollback AFTER UPDATE ON {sc}.products DEFERRABLE INITIALLY DEFERRED
           FOR EACH ROW WHEN (NEW.name LIKE 'ROLLBACK%') EXECUTE FUNCTION public.faults_rollback();"
    ));
}

async fn t15() {
    let orders = env_usize("FAULTS_T15_ORDERS", 350);
    let updates = env_usize("FAULTS_T15_UPDATES", 300);
    let rollbacks = env_usize("FAULTS_T15_ROLLBACKS", 100);
    let kills = env_usize("FAULTS_T15_KILLS", 20);
    let lease = env_secs("FAULTS_T15_LEASE_SECS", 10.0).as_secs().max(1);
    let db = FaultDb::create("T15");
    let meili = match binary() {
        Some(bin) => Some(Meili::start(&db, &bin).await),
        None => None,
    };
    let mut env = vec![
        ("DATABASE_URL", db.url.clone()),
        // A killed worker's jobs come back after the lease (default 300 s).
        ("TRADEPORT__JOBS__LEASE_SECS", lease.to_string()),
    ];
    if let Some(m) = &meili {
        env.push(("MEILI_URL", m.url.clone()));
        env.push(("MEILI_KEY", m.key.clone()));
    }
    // Mail goes to a local sink when the build delivers by SMTP (else it stays in the outbox).
    let smtp = crate::smtp::Sink::start();
    env.push(("SMTP_URL", smtp.url.clone()));
    let port = free_port();
    let web = Proc::spawn(&db, "serve", &["serve", "--no-worker"], port, &env);
    let http = Http::new(Duration::from_secs(30));
    web.wait_up(&http, Duration::from_secs(60)).await;
    let s = store(&db, &http, &web.base).await;
    for i in 0..10 {
        product(&http, &s, &format!("W-{i}"), "10.00", 1_000_000).await;
    }
    // RB-1 is ordered only by the changes that roll back: any event naming it leaked.
    product(&http, &s, "RB-1", "10.00", 1_000_000).await;
    let rx = Receiver::start();
    rx.set_delay(Duration::from_millis(env_usize("FAULTS_T15_RECEIVER_DELAY_MS", 300) as u64));
    webhook(&http, &s, &rx.url, &["order.created", "stock.changed"]).await;
    let buyers = [buyer(&s, 0).await, buyer(&s, 1).await];
    instrument(&db, &s);
    // Jobs queued while setting up (index updates of the new products) count too.
    db.exec("INSERT INTO public.faults_jobs_log SELECT id, kind, tenant_id, payload FROM public.jobs ON CONFLICT DO NOTHING");

    let mut worker_n = 1;
    let mut worker = Some(Proc::spawn(&db, "worker-1", &["worker"], 0, &env));
    let now = || db.value("SELECT clock_timestamp()::text").as_str().unwrap_or_default().to_owned();
    let mut worker_since = now();
    let started = Instant::now();

    // The load: orders and product changes from 4 clients, with the rollbacks spread among them.
    let plan: Vec<(usize, bool)> = {
        let mut rng = Lcg(15);
        let mut v: Vec<(usize, bool)> = (0..orders + updates).map(|i| (i, false)).collect();
        for i in 0..rollbacks {
            v.push((orders + updates + i, true));
        }
        for i in (1..v.len()).rev() {
            let j = rng.next(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v
    };
    let results = std::cell::RefCell::new(BTreeMap::<String, usize>::new());
    let done = std::cell::Cell::new(false);
    let load = async {
        let chunks: Vec<Vec<(usize, bool)>> = plan.chunks(plan.len().div_ceil(4)).map(<[_]>::to_vec).collect();
        futures_util::future::join_all(chunks.into_iter().enumerate().map(|(c, work)| {
            let (http, s, buyers, results) = (&http, &s, &buyers, &results);
            async move {
                let mut rng = Lcg(100 + c as u64);
                for (i, rollback) in work {
                    let b = &buyers[i % 2];
                    let is_order = i < orders || (rollback && i % 5 != 0);
                    let (kind, r) = if is_order {
                        let (sku, po) = if rollback {
                            ("RB-1".to_owned(), format!("ROLLBACK-{i}"))
                        } else {
                            (format!("W-{}", rng.next(10)), format!("PO-{i}"))
                        };
                        let body = json!({"lines": [{"sku": sku, "qty": 1 + rng.next(3)}], "po_number": po});
                        let key = format!("t15-{i}");
                        ("order", place(http, s, &b.token, &key, &body).await)
                    } else {
                        let sku = if rollback { "RB-1".to_owned() } else { format!("W-{}", rng.next(10)) };
                        let name = if rollback { format!("ROLLBACK {i}") } else { format!("Изделие {i}") };
                        let price = format!("{}.{:02}", 10 + rng.next(90), rng.next(100));
                        let body = json!({"name": name, "price": price});
                        ("update", http.patch(&s.api(&format!("/admin/products/{sku}")), &body, Some(&s.admin)).await)
                    };
                    let st = match r {
                        Ok((st, _)) => st.to_string(),
                        Err(_) => "error".into(),
                    };
                    let tag = format!("{kind}{} {st}", if rollback { " (rollback)" } else { "" });
                    *results.borrow_mut().entry(tag).or_insert(0) += 1;
                }
            }
        }))
        .await;
        done.set(true);
    };
    // The killer: SIGKILL at random moments while there is work (mostly while the worker
    // holds claimed jobs, so deliveries are cut half-way), then start it again at once.
    let killer = async {
        let mut rng = Lcg(2015);
        let mut killed = 0;
        let mut jobs_at_kill = Vec::new();
        let mut mid_batch = 0;
        let give_up = Instant::now() + Duration::from_secs(600);
        while killed < kills && Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(500 + rng.next(2500))).await;
            if done.get() && db.int("SELECT count(*) FROM public.jobs") == 0 {
                // The load is over before all kills: a burst of orders gives the worker work.
                for n in 0..5 {
                    let body =
                        json!({"lines": [{"sku": format!("W-{}", rng.next(10)), "qty": 1}], "po_number": "burst"});
                    let _ = place(&http, &s, &buyers[0].token, &format!("t15-burst-{killed}-{n}"), &body).await;
                }
            }
            // Jobs the running worker has claimed (leased since it started): kill it while it
            // holds some if that happens within a random wait, else wherever it is.
            let held = format!(
                "SELECT count(*) FROM public.jobs WHERE run_at > now() AND run_at - interval '{lease} s' > '{worker_since}'::timestamptz"
            );
            let wait = Instant::now() + Duration::from_millis(rng.next(2000));
            while Instant::now() < wait && db.int(&held) == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if db.int(&held) > 0 {
                mid_batch += 1;
            }
            let pending = db.int("SELECT count(*) FROM public.jobs");
            if let Some(mut w) = worker.take() {
                w.kill9();
            }
            killed += 1;
            jobs_at_kill.push(pending);
            worker_n += 1;
            worker = Some(Proc::spawn(&db, &format!("worker-{worker_n}"), &["worker"], 0, &env));
            worker_since = now();
        }
        (jobs_at_kill, mid_batch)
    };
    let (_, (jobs_at_kill, mid_batch)) = tokio::join!(load, killer);
    let load_done = started.elapsed();

    // Drain: every committed job gone from the queue (leases of killed workers run out).
    // (Mail, when this build sends it by SMTP, is leased and sent by the same worker.)
    let smtp_build = db.int(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'mail_outbox' AND column_name = 'next_attempt_at'",
    ) > 0;
    let unsent = "SELECT count(*) FROM public.mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL";
    let until = Instant::now() + Duration::from_secs(180 + lease);
    while Instant::now() < until
        && (db.int("SELECT count(*) FROM public.jobs") > 0 || (smtp_build && db.int(unsent) > 0))
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drained_after = started.elapsed();
    let sc = &s.schema;
    let committed = db.rows("SELECT kind, count(*) AS n FROM public.faults_jobs_log GROUP BY kind ORDER BY kind");
    let jobs_total: i64 = committed.iter().map(|r| r["n"].as_i64().unwrap_or(0)).sum();
    let left = db.int("SELECT count(*) FROM public.jobs");
    let dead = db.int("SELECT count(*) FROM public.dead_jobs");
    let deliveries = db.rows(&format!("SELECT id::text AS id, status FROM {sc}.webhook_deliveries"));
    let (distinct, requests, seen) = rx.snapshot();
    let committed_ids: std::collections::BTreeSet<String> =
        deliveries.iter().filter_map(|d| d["id"].as_str().map(str::to_owned)).collect();
    let lost = committed_ids.iter().filter(|id| !seen.contains_key(*id)).count();
    let foreign = seen.keys().filter(|id| !committed_ids.contains(*id)).count();
    let from_rollback = seen.values().filter(|(_, body)| mentions_rollback(body)).count();
    let duplicates = requests - distinct as u64;
    let rolled_back_orders = db.int(&format!("SELECT count(*) FROM {sc}.orders WHERE po_number LIKE 'ROLLBACK%'"));
    let rolled_back_names = db.int(&format!("SELECT count(*) FROM {sc}.products WHERE name LIKE 'ROLLBACK%'"));
    let index_rollback = match &meili {
        Some(m) => m.documents(&format!("tp_{sc}")).await.iter().filter(|d| mentions_rollback(d)).count(),
        None => 0,
    };
    let index_equal = match &meili {
        Some(m) => {
            let mut a: Vec<(i64, f64)> = m
                .documents(&format!("tp_{sc}"))
                .await
                .iter()
                .map(|d| (d["id"].as_i64().unwrap_or(0), d["price"].as_f64().unwrap_or(0.0)))
                .collect();
            let mut b: Vec<(i64, f64)> = db
                .rows(&format!("SELECT id, price::float8 AS price FROM {sc}.products WHERE status <> 'archived'"))
                .iter()
                .map(|r| (r["id"].as_i64().unwrap_or(0), r["price"].as_f64().unwrap_or(0.0)))
                .collect();
            Some(crate::meili::checksum(&mut a) == crate::meili::checksum(&mut b))
        }
        None => None,
    };
    let mail = smtp.check(&db, sc);
    let results = results.into_inner();
    let rollback_2xx: usize = results
        .iter()
        .filter(|(k, _)| k.contains("(rollback)") && (k.ends_with(" 200") || k.ends_with(" 201")))
        .map(|(_, n)| n)
        .sum();
    let delivered = distinct.saturating_sub(foreign);
    let line = json!({
        "scenario": "T15", "jobs": jobs_total, "jobs_by_kind": committed, "worker_kills": jobs_at_kill.len(), "kills_while_holding_claimed_jobs": mid_batch,
        "jobs_queued_at_each_kill": jobs_at_kill, "lease_s": lease, "requests": results,
        "rollbacks_injected": rollbacks,
        "deliveries_committed": committed_ids.len(), "deliveries_received": distinct, "receiver_requests": requests,
        "duplicates_absorbed": duplicates, "lost": lost, "foreign_deliveries": foreign,
        "from_rolled_back": from_rollback + index_rollback + rolled_back_orders as usize + rolled_back_names as usize,
        "jobs_left": left, "dead_jobs": dead, "search_engine": if meili.is_some() { "meilisearch" } else { "postgres (index jobs complete at once)" },
        "index_equals_db": index_equal, "mail": mail, "load_s": secs(load_done), "drained_after_s": secs(drained_after),
        "figure": format!(
            "{jobs_total} jobs{}, {} worker kills: {} delivered, {} lost, {} from rolled-back txns, {} duplicates absorbed",
            if mail["delivers_by_smtp"] == true { format!(" and {} mails", mail["outbox"]) } else { String::new() },
            jobs_at_kill.len(),
            jobs_total - left - dead + mail["sent"].as_i64().unwrap_or(0),
            lost as i64 + mail["lost"].as_i64().unwrap_or(0),
            (from_rollback + index_rollback) as i64 + mail["from_rolled_back"].as_i64().unwrap_or(0),
            duplicates as i64 + mail["duplicates_absorbed"].as_i64().unwrap_or(0),
        ),
    });
    figure(&line);
    assert_eq!(jobs_at_kill.len(), kills, "{line}");
    assert_eq!((left, dead), (0, 0), "every committed job ran: {line}");
    assert_eq!((lost, foreign), (0, 0), "every committed delivery arrived, nothing else: {line}");
    assert_eq!(delivered, committed_ids.len(), "{line}");
    assert_eq!(rollback_2xx, 0, "the injected rollbacks failed: {line}");
    assert_eq!((from_rollback, index_rollback, rolled_back_orders, rolled_back_names), (0, 0, 0, 0), "{line}");
    assert!(deliveries.iter().all(|d| d["status"] == "delivered"), "every delivery is marked delivered: {line}");
    if let Some(eq) = index_equal {
        assert!(eq, "the search index equals the database: {line}");
    }
    if mail["delivers_by_smtp"] == true {
        let m = |k: &str| mail[k].as_i64();
        assert_eq!((m("lost"), m("from_rolled_back"), m("given_up")), (Some(0), Some(0), Some(0)), "mail: {line}");
    }
    drop(worker);
    drop(web);
}

/// A delivery or document coming from a change that was rolled back.
fn mentions_rollback(v: &Value) -> bool {
    let t = v.to_string();
    t.contains("ROLLBACK") || t.contains("\"RB-1\"")
}
