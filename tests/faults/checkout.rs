//! Buyers placing orders the way a careful client does: every order has its own
//! Idempotency-Key, and whatever goes wrong (no answer, a reset connection, a 5xx) the
//! client sends the same request with the same key again until it gets an answer. The
//! ledger of what each client was told is then compared with the database.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{FaultDb, Http};
use crate::receiver::Receiver;
use crate::store::{buyer, place, product, store, webhook, Buyer, Store};

/// What the client was finally told.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 201 with this order number.
    Placed(String),
    /// 409 insufficient_stock: nothing was ordered.
    Refused,
    /// Any other 4xx: a bug in the test or the app (reported).
    Other(u16, String),
    /// No answer before the client gave up.
    Unanswered,
}

#[derive(Debug, Clone)]
pub struct Attempted {
    pub key: String,
    pub account: String,
    pub lines: Vec<(String, i64)>,
    pub outcome: Outcome,
    pub tries: u32,
    pub started: Instant,
    pub answered: Instant,
    /// Statuses (or "error") of the failed tries.
    pub failures: Vec<String>,
}

/// Shared between the clients and the fault controller of one test (one thread).
#[derive(Default)]
pub struct Ledger {
    pub done: Cell<usize>,
    pub answered_2xx: Cell<usize>,
    pub in_flight: Cell<usize>,
    pub entries: RefCell<Vec<Attempted>>,
}

/// Tries one order until it is answered (or `give_up` passes).
pub async fn checkout(
    http: &Http,
    s: &Store,
    (email, token): (&str, &str),
    key: String,
    lines: Vec<(String, i64)>,
    ledger: &Ledger,
    give_up: Duration,
) {
    let body = json!({
        "lines": lines.iter().map(|(sku, q)| json!({"sku": sku, "qty": q})).collect::<Vec<_>>(),
        "po_number": key,
    });
    let started = Instant::now();
    let mut tries = 0;
    let mut failures = Vec::new();
    let outcome = loop {
        tries += 1;
        ledger.in_flight.set(ledger.in_flight.get() + 1);
        let r = place(http, s, token, &key, &body).await;
        ledger.in_flight.set(ledger.in_flight.get() - 1);
        match r {
            Ok((200 | 201, v)) => break Outcome::Placed(v["number"].as_str().unwrap_or_default().to_owned()),
            Ok((409, v)) if v["error"]["code"] == "insufficient_stock" => break Outcome::Refused,
            Ok((s, v)) if s >= 500 || s == 409 || s == 429 => failures.push(format!("{s} {}", code(&v))),
            Ok((s, v)) => break Outcome::Other(s, v.to_string()),
            Err(e) => failures.push(if e.contains("timed out") { "timeout".into() } else { "error".into() }),
        }
        if started.elapsed() > give_up {
            break Outcome::Unanswered;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    if matches!(outcome, Outcome::Placed(_)) {
        ledger.answered_2xx.set(ledger.answered_2xx.get() + 1);
    }
    ledger.done.set(ledger.done.get() + 1);
    ledger.entries.borrow_mut().push(Attempted {
        key,
        account: email.to_owned(),
        lines,
        outcome,
        tries,
        started,
        answered: Instant::now(),
        failures,
    });
}

fn code(v: &Value) -> String {
    v["error"]["code"].as_str().unwrap_or("").to_owned()
}

/// A small deterministic generator (the runs are reproducible per seed).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// What the database holds against what the clients were told.
#[derive(Debug, Default)]
pub struct Audit {
    pub orders: usize,
    /// A 2xx answer whose order is not there (or not with that key).
    pub lost: usize,
    /// More than one order for one key, or one number answered to two keys.
    pub duplicates: usize,
    /// Orders no client was told about (their key was refused, unanswered or unknown).
    pub unknown: usize,
    /// Orders whose lines differ from what was sent (a half-written order).
    pub half_written: usize,
    /// Units taken from stock beyond the units in order lines (negative: taken too few).
    pub oversold: i64,
    pub negative_stock: i64,
    pub without_mail: usize,
    pub without_event: usize,
}

/// Compares the ledger with the store's orders, stock (against `initial` per SKU) and
/// outbox (the buyer's mail and the `order.created` event, both written in the order's
/// transaction).
pub fn audit(db: &FaultDb, s: &Store, entries: &[Attempted], initial: &BTreeMap<String, i64>) -> Audit {
    let sc = &s.schema;
    let orders = db.rows(&format!(
        "SELECT o.id, o.number, o.idempotency_key AS key, a.email AS account,
                (SELECT coalesce(json_agg(json_build_array(l.sku, l.qty::bigint) ORDER BY l.sku), '[]')
                   FROM {sc}.order_lines l WHERE l.order_id = o.id) AS lines,
                (SELECT coalesce(sum(qty), 0)::bigint FROM {sc}.order_allocations x WHERE x.order_id = o.id) AS allocated,
                (SELECT count(*) FROM public.mail_outbox m
                  WHERE m.tenant_id = {id} AND m.subject LIKE '%' || o.number || '%') AS mails,
                (SELECT count(*) FROM {sc}.webhook_events e
                  WHERE e.type = 'order.created' AND e.data->>'number' = o.number) AS events
           FROM {sc}.orders o JOIN public.accounts a ON a.id = o.account_id",
        id = s.id
    ));
    let mut a = Audit { orders: orders.len(), ..Audit::default() };
    let mut by_key: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for o in &orders {
        let k = (o["account"].as_str().unwrap_or("").to_owned(), o["key"].as_str().unwrap_or("").to_owned());
        by_key.entry(k).or_default().push(o);
    }
    a.duplicates = by_key.values().map(|v| v.len().saturating_sub(1)).sum();
    for e in entries {
        let found = by_key.get(&(e.account.clone(), e.key.clone())).cloned().unwrap_or_default();
        match &e.outcome {
            Outcome::Placed(number) => {
                if !found.iter().any(|o| o["number"] == number.as_str()) {
                    a.lost += 1;
                }
            }
            _ => a.unknown += found.len(),
        }
        let mut want: Vec<(String, i64)> = e.lines.clone();
        want.sort();
        for o in &found {
            let got: Vec<(String, i64)> = o["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| (l[0].as_str().unwrap_or("").to_owned(), l[1].as_i64().unwrap_or(0)))
                .collect();
            let qty: i64 = got.iter().map(|(_, q)| q).sum();
            if got != want || o["allocated"].as_i64() != Some(qty) {
                a.half_written += 1;
            }
            if o["mails"].as_i64().unwrap_or(0) < 1 {
                a.without_mail += 1;
            }
            if o["events"].as_i64().unwrap_or(0) < 1 {
                a.without_event += 1;
            }
        }
    }
    // Orders whose key no client holds at all.
    let keys: std::collections::BTreeSet<(String, String)> =
        entries.iter().map(|e| (e.account.clone(), e.key.clone())).collect();
    a.unknown += by_key.iter().filter(|(k, _)| !keys.contains(*k)).map(|(_, v)| v.len()).sum::<usize>();
    let now = stock(db, s);
    let ordered = db.rows(&format!("SELECT sku, sum(qty)::bigint AS q FROM {sc}.order_lines GROUP BY sku"));
    let ordered: BTreeMap<String, i64> =
        ordered.iter().map(|r| (r["sku"].as_str().unwrap_or("").to_owned(), r["q"].as_i64().unwrap_or(0))).collect();
    for (sku, start) in initial {
        let taken = start - now.get(sku).copied().unwrap_or(0);
        a.oversold += taken - ordered.get(sku).copied().unwrap_or(0);
    }
    a.negative_stock = db.int(&format!("SELECT count(*) FROM {sc}.stock WHERE quantity < 0"));
    a
}

/// Stock on hand per SKU.
pub fn stock(db: &FaultDb, s: &Store) -> BTreeMap<String, i64> {
    let sc = &s.schema;
    db.rows(&format!(
        "SELECT p.sku, coalesce(sum(st.quantity), 0)::bigint AS q FROM {sc}.products p
           LEFT JOIN {sc}.stock st ON st.product_id = p.id GROUP BY p.sku"
    ))
    .iter()
    .map(|r| (r["sku"].as_str().unwrap_or("").to_owned(), r["q"].as_i64().unwrap_or(0)))
    .collect()
}

/// Counts of each failure seen by the clients (`"503 unavailable"`, `"error"`, …).
pub fn failure_counts(entries: &[Attempted]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in entries.iter().flat_map(|e| e.failures.iter()) {
        *m.entry(f.clone()).or_insert(0) += 1;
    }
    m
}

/// The set-up of the checkout scenarios: a store with `skus` at `price`, four buyers, an
/// `order.created` webhook to a local receiver, and the stock before the run.
pub struct Shop {
    pub store: Store,
    pub buyers: Vec<Buyer>,
    pub receiver: Receiver,
    pub initial: BTreeMap<String, i64>,
}

pub async fn shop(db: &FaultDb, http: &Http, base: &str, skus: &[(&str, i64)], price: &str) -> Shop {
    let s = store(db, http, base).await;
    let receiver = Receiver::start();
    webhook(http, &s, &receiver.url, &["order.created"]).await;
    for (sku, q) in skus {
        product(http, &s, sku, price, *q).await;
    }
    let mut buyers = Vec::new();
    for n in 0..4 {
        buyers.push(buyer(&s, n).await);
    }
    let initial = stock(db, &s);
    Shop { store: s, buyers, receiver, initial }
}
