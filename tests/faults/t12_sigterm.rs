//! T12: SIGTERM during 100 in-flight checkouts. 100 clients send their orders at once
//! (PostgreSQL is reached through a proxy adding a little latency, so they are still being
//! worked on); the server gets SIGTERM while they are in flight, must exit on its own, and is
//! started again on the same port. Every client retries with its Idempotency-Key until
//! answered. Promises: no half-written order (each order has exactly the lines sent, its
//! stock allocations, its mail and its event), every 2xx has its order, nothing is
//! duplicated, stock taken equals units ordered, the webhook events all get delivered.

use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::checkout::{audit, checkout, failure_counts, shop, Lcg, Ledger, Outcome, Shop};
use crate::harness::{env_secs, env_usize, figure, free_port, pg_addr, run, secs, FaultDb, Http, Proc};
use crate::proxy::Proxy;

const SKUS: &[(&str, i64)] = &[("G-1", 1000), ("G-2", 1000), ("G-3", 1000)];

#[test]
#[ignore = "fault suite (T12): real processes, SIGTERM and restart; run bench/faults.sh"]
fn t12_sigterm_during_checkouts_leaves_no_half_written_order() {
    run(t12());
}

async fn t12() {
    let n = env_usize("FAULTS_T12_CHECKOUTS", 100);
    let latency = env_secs("FAULTS_T12_PG_LATENCY_SECS", 0.01);
    let db = FaultDb::create("T12");
    let pg = Proxy::start("pg", pg_addr());
    let port = free_port();
    // Jobs a stopping worker had claimed come back after the lease (default 300 s) unless the
    // worker hands them back; a short lease keeps this test short either way.
    let lease = env_secs("FAULTS_T12_LEASE_SECS", 20.0).as_secs().max(1);
    let env = [("DATABASE_URL", db.url_via(&pg)), ("TRADEPORT__JOBS__LEASE_SECS", lease.to_string())];
    let mut first = Proc::spawn(&db, "serve-1", &["serve"], port, &env);
    let http = Http::new(Duration::from_secs(60));
    first.wait_up(&http, Duration::from_secs(60)).await;
    let Shop { store: s, buyers, receiver: rx, initial } = shop(&db, &http, &first.base, SKUS, "250.00").await;
    pg.latency(latency);

    let ledger = Rc::new(Ledger::default());
    let tag = crate::harness::random_suffix();
    let clients = (0..n).map(|c| {
        let (http, s, ledger, buyers, tag) = (&http, &s, ledger.clone(), &buyers, &tag);
        async move {
            let mut rng = Lcg(c as u64 + 7);
            let b = &buyers[c % buyers.len()];
            let mut lines: Vec<(String, i64)> = Vec::new();
            for (sku, _) in SKUS {
                if rng.next(2) == 0 {
                    lines.push((sku.to_string(), 1 + rng.next(4) as i64));
                }
            }
            if lines.is_empty() {
                lines.push(("G-1".to_owned(), 1));
            }
            let key = format!("t12-{tag}-{c}");
            checkout(http, s, (&b.email, &b.token), key, lines, &ledger, Duration::from_secs(180)).await;
        }
    });
    let all = futures_util::future::join_all(clients);

    let controller = async {
        // SIGTERM once the checkouts are in the server's hands.
        while ledger.in_flight.get() < n && ledger.done.get() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let answered_before = ledger.done.get();
        let in_flight = ledger.in_flight.get();
        first.signal("TERM");
        let termed = Instant::now();
        let exit = first.exited(Duration::from_secs(60)).await;
        let stopped_after = termed.elapsed();
        let answered_by_first = ledger.done.get();
        // Started again on the same port; the clients' retries find it.
        let second = Proc::spawn(&db, "serve-2", &["serve"], port, &env);
        second.wait_up(&Http::new(Duration::from_secs(5)), Duration::from_secs(60)).await;
        (answered_before, in_flight, exit, stopped_after, answered_by_first, second)
    };
    let (_, (answered_before, in_flight, exit, stopped_after, answered_by_first, second)) =
        tokio::join!(all, controller);
    let restarted = Instant::now();
    pg.pass();

    let entries = ledger.entries.borrow().clone();
    let placed = entries.iter().filter(|e| matches!(e.outcome, Outcome::Placed(_))).count();
    // Events: how many the restarted server's worker delivered at once (jobs nobody held),
    // and when the last one arrived (jobs the stopped worker held come back after its lease).
    tokio::time::sleep_until((restarted + Duration::from_secs(5)).into()).await;
    let delivered_in_5s = rx.snapshot().0;
    let until = Instant::now() + Duration::from_secs(90 + lease);
    while Instant::now() < until && rx.snapshot().0 < placed {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let all_delivered_after = restarted.elapsed();
    let delivered = rx.snapshot().0;
    let a = audit(&db, &s, &entries, &initial);
    let unanswered = entries.iter().filter(|e| e.outcome == Outcome::Unanswered).count();
    let other: Vec<String> = entries
        .iter()
        .filter_map(|e| match &e.outcome {
            Outcome::Other(st, body) => Some(format!("{st} {body}")),
            _ => None,
        })
        .collect();
    let retried = entries.iter().filter(|e| e.tries > 1).count();
    let failures = failure_counts(&entries);
    let line = json!({
        "scenario": "T12", "tried": entries.len(), "in_flight_at_sigterm": in_flight,
        "answered_before_sigterm": answered_before,
        "finished_after_sigterm": answered_by_first.saturating_sub(answered_before),
        "stopped_after_s": secs(stopped_after), "exit": exit.map(|e| e.to_string()),
        "retried_after_restart": retried, "answered_2xx": placed, "unanswered": unanswered,
        "orders_in_db": a.orders, "half_written": a.half_written, "lost_orders": a.lost,
        "duplicates": a.duplicates, "unknown_orders": a.unknown, "oversold_units": a.oversold,
        "orders_without_mail": a.without_mail, "orders_without_event": a.without_event,
        "events_delivered": delivered, "events_delivered_5s_after_restart": delivered_in_5s,
        "all_events_delivered_after_restart_s": secs(all_delivered_after), "job_lease_s": lease,
        "client_failures": failures,
        "figure": format!("{in_flight} in-flight at SIGTERM: {} half-written orders", a.half_written),
    });
    figure(&line);
    assert!(exit.is_some_and(|e| e.success()), "the server exits cleanly after SIGTERM: {line}");
    assert!(other.is_empty(), "unexpected answers: {other:?}");
    assert_eq!(unanswered, 0, "{line}");
    assert_eq!((a.half_written, a.lost, a.duplicates, a.unknown), (0, 0, 0, 0), "{line}");
    assert_eq!((a.oversold, a.negative_stock), (0, 0), "{line}");
    assert_eq!((a.without_mail, a.without_event), (0, 0), "{line}");
    assert_eq!(a.orders, placed, "{line}");
    assert!(in_flight > 0, "checkouts were in flight at SIGTERM (else the test proved nothing): {line}");
    assert_eq!(delivered, placed, "every order event is delivered after the restart: {line}");
    drop(second);
}
