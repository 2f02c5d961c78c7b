//! T13: Redis down, then slow, during mixed traffic. The app reaches Redis through the
//! proxy; 1,000 requests (browse, search, cart, checkout, login, token use) are spread over
//! four phases: Redis up, Redis down (connections reset and refused, 60 s by default), Redis
//! answering 2 s late, Redis back. Brute-force clients (each its own e-mail and loopback
//! address) keep sending wrong passwords through all phases, and revoked tokens keep being
//! tried. Promises: no 5xx on checkout (nor on browse or cart), never more failed logins
//! accepted per e-mail or address than the limit (the limit window spans the whole run),
//! a login over the limit refused even with the right password, no revoked token accepted.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::checkout::Lcg;
use crate::harness::{
    env_secs, env_usize, figure, free_port, pg_addr, redis_addr, run, secs, FaultDb, Http, Proc, PASSWORD,
};
use crate::proxy::Proxy;
use crate::store::{buyer, place, product, store, Buyer, Store};

/// Failed logins allowed per e-mail and per address (`auth.login_attempts`).
const LIMIT: i64 = 10;

#[test]
#[ignore = "fault suite (T13): real processes, Redis down for a minute; run bench/faults.sh"]
fn t13_redis_down_keeps_checkout_limits_and_revocation() {
    run(t13());
}

#[derive(Default)]
struct Tally {
    /// kind → status → count.
    by_kind: BTreeMap<&'static str, BTreeMap<String, usize>>,
    /// phase → kind → 5xx count.
    five_xx: BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
    requests: usize,
    /// phase → kind → the slowest answer (seconds).
    slowest: BTreeMap<&'static str, BTreeMap<&'static str, f64>>,
}

impl Tally {
    fn note(&mut self, phase: &'static str, kind: &'static str, status: &str, took: Duration) {
        self.requests += 1;
        let s = self.slowest.entry(phase).or_default().entry(kind).or_insert(0.0);
        *s = s.max(secs(took));
        *self.by_kind.entry(kind).or_default().entry(status.to_owned()).or_insert(0) += 1;
        if status.starts_with('5') {
            *self.five_xx.entry(phase).or_default().entry(kind).or_insert(0) += 1;
        }
    }
}

struct Attacker {
    email: String,
    http: Http,
    /// Wrong-password attempts the app evaluated (401) rather than refused (429).
    evaluated: i64,
    refused: i64,
    /// Right-password logins let through while over the limit.
    over_limit_logins: i64,
}

async fn redis_keys(prefix: &str) -> usize {
    let client = redis::Client::open(format!("redis://{}", redis_addr())).expect("redis client");
    let Ok(mut c) = client.get_multiplexed_async_connection().await else { return 0 };
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}:rl:*")).query_async(&mut c).await.unwrap_or_default();
    keys.len()
}

fn status_of(r: &crate::harness::Answer) -> String {
    match r {
        Ok((s, _)) => s.to_string(),
        Err(e) if e.contains("timed out") => "timeout".into(),
        Err(_) => "error".into(),
    }
}

async fn t13() {
    let total = env_usize("FAULTS_T13_REQUESTS", 1000);
    let down_for = env_secs("FAULTS_REDIS_DOWN_SECS", 60.0);
    let slow_for = env_secs("FAULTS_REDIS_SLOW_SECS", 20.0);
    let edge = env_secs("FAULTS_T13_EDGE_SECS", 10.0);
    let db = FaultDb::create("T13");
    let pg = Proxy::start("pg", pg_addr());
    let rd = Proxy::start("redis", redis_addr());
    let prefix = format!("tp_faults_{}", crate::harness::random_suffix());
    let port = free_port();
    let env = [
        ("DATABASE_URL", db.url_via(&pg)),
        ("REDIS_URL", format!("redis://127.0.0.1:{}", rd.port)),
        ("TRADEPORT__REDIS__PREFIX", prefix.clone()),
        // One window over the whole run: every failed login of an attacker counts.
        ("TRADEPORT__AUTH__LOGIN_WINDOW_SECS", "3600".into()),
        ("TRADEPORT__AUTH__LOGIN_ATTEMPTS", LIMIT.to_string()),
    ];
    let app = Proc::spawn(&db, "serve", &["serve"], port, &env);
    let http = Http::new(Duration::from_secs(30));
    app.wait_up(&http, Duration::from_secs(60)).await;
    let s = store(&db, &http, &app.base).await;
    for i in 0..20 {
        product(&http, &s, &format!("R-{i}"), "50.00", 100_000).await;
    }
    let mut buyers: Vec<Buyer> = Vec::new();
    for b in 0..3 {
        buyers.push(buyer(&s, b).await);
    }
    // The attackers' victims are real accounts (so a right password means something).
    let mut attackers = Vec::new();
    for a in 0..6 {
        let victim = buyer(&s, 10 + a).await;
        let ip: IpAddr = format!("127.0.7.{}", 1 + a).parse().expect("ip");
        attackers.push(RefCell::new(Attacker {
            email: victim.email,
            http: Http::from(Some(ip), Duration::from_secs(30)),
            evaluated: 0,
            refused: 0,
            over_limit_logins: 0,
        }));
    }
    // Redis is in use before the fault: a failed login leaves a counter there.
    let probe = Http::from(Some("127.0.6.1".parse().expect("ip")), Duration::from_secs(10));
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let _ = probe
            .post(
                &format!("{}/api/v1/auth/login", s.base),
                &json!({"email": "probe@faults.test", "password": "x"}),
                None,
                &[],
            )
            .await;
        if redis_keys(&prefix).await > 0 {
            break;
        }
        assert!(Instant::now() < until, "the app never used Redis; log: {}", app.tail());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let phases: [(&'static str, Duration); 4] =
        [("redis_up", edge), ("redis_down", down_for), ("redis_slow_2s", slow_for), ("redis_back", edge)];
    let span: f64 = phases.iter().map(|(_, d)| d.as_secs_f64()).sum();
    let tally = RefCell::new(Tally::default());
    let revoked_accepted = RefCell::new(0usize);
    let revoked_tried = RefCell::new(0usize);
    let revoked = RefCell::new(Vec::<String>::new());
    let phase_now = RefCell::new("redis_up");
    let carts = RefCell::new(BTreeMap::<usize, i64>::new());
    let started = Instant::now();

    // The mixed traffic: `total` requests at an even pace over all phases, 4 clients.
    let workers = 4;
    let pace = Duration::from_secs_f64(span / total as f64 * workers as f64);
    let traffic = futures_util::future::join_all((0..workers).map(|w| {
        let (s, tally, buyers, phase_now, carts, revoked_accepted, revoked_tried, revoked) =
            (&s, &tally, &buyers, &phase_now, &carts, &revoked_accepted, &revoked_tried, &revoked);
        async move {
            let http = Http::from(Some(format!("127.0.8.{}", w + 1).parse().expect("ip")), Duration::from_secs(30));
            let mut rng = Lcg(w as u64 + 99);
            for i in 0..total / workers {
                let tick = started + pace * i as u32;
                tokio::time::sleep_until(tick.into()).await;
                let phase = *phase_now.borrow();
                let bi = (w + i) % buyers.len();
                let t = Instant::now();
                let (kind, st) = one_request(
                    &http,
                    s,
                    (bi, &buyers[bi]),
                    w,
                    i,
                    &mut rng,
                    carts,
                    revoked_accepted,
                    revoked_tried,
                    revoked,
                )
                .await;
                tally.borrow_mut().note(phase, kind, &st, t.elapsed());
            }
        }
    }));

    // The brute force: every attacker tries a wrong password every ~2 s in every phase, and
    // the right one at the end of each phase.
    let brute = futures_util::future::join_all(attackers.iter().enumerate().map(|(a, att)| {
        let base = s.base.clone();
        async move {
            let mut n = 0u32;
            while started.elapsed().as_secs_f64() < span {
                n += 1;
                let (email, http) = {
                    let x = att.borrow();
                    (x.email.clone(), x.http.clone())
                };
                let body = json!({"email": email, "password": format!("wrong-{n}")});
                let r = http.post(&format!("{base}/api/v1/auth/login"), &body, None, &[]).await;
                {
                    let mut x = att.borrow_mut();
                    match r {
                        Ok((401, _)) => x.evaluated += 1,
                        Ok((429, _)) => x.refused += 1,
                        _ => {}
                    }
                }
                if n.is_multiple_of(8) {
                    let ok = json!({"email": email, "password": PASSWORD});
                    let r = http.post(&format!("{base}/api/v1/auth/login"), &ok, None, &[]).await;
                    let mut x = att.borrow_mut();
                    if matches!(r, Ok((200, _))) && x.evaluated >= LIMIT {
                        x.over_limit_logins += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(1500 + 200 * a as u64)).await;
            }
        }
    }));

    // The faults, phase by phase.
    let controller = async {
        let mut marks = Vec::new();
        for (name, d) in phases {
            *phase_now.borrow_mut() = name;
            match name {
                "redis_down" => {
                    rd.reset_peer();
                    rd.down();
                }
                "redis_slow_2s" => {
                    rd.pass();
                    rd.latency(Duration::from_secs(2));
                }
                "redis_back" => rd.pass(),
                _ => {}
            }
            marks.push((name, secs(started.elapsed())));
            tokio::time::sleep(d).await;
        }
        marks
    };
    let (_, _, marks) = tokio::join!(traffic, brute, controller);
    rd.pass();

    // After the faults the app counts in Redis again.
    let before = redis_keys(&prefix).await;
    let fresh = Http::from(Some("127.0.6.2".parse().expect("ip")), Duration::from_secs(10));
    let until = Instant::now() + Duration::from_secs(30);
    let mut redis_again = false;
    while Instant::now() < until {
        let email = format!("after-{}@faults.test", crate::harness::random_suffix());
        let _ = fresh
            .post(&format!("{}/api/v1/auth/login", s.base), &json!({"email": email, "password": "x"}), None, &[])
            .await;
        if redis_keys(&prefix).await > before {
            redis_again = true;
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    let t = tally.into_inner();
    let over_limit_failed: i64 = attackers.iter().map(|a| (a.borrow().evaluated - LIMIT).max(0)).sum();
    let over_limit_logins: i64 = attackers.iter().map(|a| a.borrow().over_limit_logins).sum();
    let over_limit = over_limit_failed + over_limit_logins;
    let attempts: i64 = attackers.iter().map(|a| a.borrow().evaluated + a.borrow().refused).sum();
    let checkout_5xx: usize = t.five_xx.values().filter_map(|m| m.get("checkout")).sum();
    let any_5xx: BTreeMap<&str, BTreeMap<&str, usize>> = t.five_xx.clone();
    let browse_cart_5xx: usize =
        t.five_xx.values().flat_map(|m| m.iter()).filter(|(k, _)| ["browse", "cart"].contains(k)).map(|(_, n)| n).sum();
    let revoked_accepted = revoked_accepted.into_inner();
    let line = json!({
        "scenario": "T13", "tried": t.requests, "phases": marks, "redis_down_s": secs(down_for),
        "redis_slow_s": secs(slow_for), "by_kind": t.by_kind, "five_xx_by_phase": any_5xx,
        "checkout_5xx": checkout_5xx, "slowest_answer_s": t.slowest, "browse_cart_5xx": browse_cart_5xx,
        "brute_force_attempts": attempts,
        "failed_logins_evaluated": attackers.iter().map(|a| a.borrow().evaluated).collect::<Vec<_>>(),
        "login_limit": LIMIT, "over_limit_logins_accepted": over_limit,
        "revoked_token_uses": revoked_tried.into_inner(), "revoked_tokens_accepted": revoked_accepted,
        "redis_used_again_after": redis_again,
        "figure": format!(
            "Redis down {:.0} s: {checkout_5xx} 5xx on checkout, {over_limit} over-limit logins accepted, {revoked_accepted} revoked tokens accepted",
            down_for.as_secs_f64()
        ),
    });
    figure(&line);
    assert_eq!(checkout_5xx, 0, "{line}");
    assert_eq!(browse_cart_5xx, 0, "browse and cart keep working from PostgreSQL: {line}");
    assert_eq!(over_limit, 0, "the login limit holds through the outage: {line}");
    assert_eq!(revoked_accepted, 0, "{line}");
    assert!(attempts > LIMIT * attackers.len() as i64, "the attackers went over the limit: {line}");
    assert!(redis_again, "the app counts in Redis again once it is back: {line}");
    drop(app);
}

/// One request of the mixed traffic; returns its kind and status.
#[expect(clippy::too_many_arguments, reason = "the shared tallies of one test")]
async fn one_request(
    http: &Http,
    s: &Store,
    (bi, b): (usize, &Buyer),
    w: usize,
    i: usize,
    rng: &mut Lcg,
    carts: &RefCell<BTreeMap<usize, i64>>,
    revoked_accepted: &RefCell<usize>,
    revoked_tried: &RefCell<usize>,
    revoked: &RefCell<Vec<String>>,
) -> (&'static str, String) {
    let sku = format!("R-{}", rng.next(20));
    match rng.next(10) {
        0..=2 => {
            let r = http.get(&s.api(&format!("/products?page={}", 1 + rng.next(2))), Some(&b.token)).await;
            ("browse", status_of(&r))
        }
        3 => {
            let r = http.get(&s.api(&format!("/search?q={sku}")), Some(&b.token)).await;
            ("browse", status_of(&r))
        }
        4..=5 => {
            // One cart per buyer (a cart is its company's: another buyer gets a 404).
            let cart = carts.borrow().get(&bi).copied();
            let cart = match cart {
                Some(c) => c,
                None => {
                    match http.post(&s.api("/carts"), &json!({"name": format!("T13 {w}")}), Some(&b.token), &[]).await {
                        Ok((201, v)) => {
                            let id = v["id"].as_i64().unwrap_or(0);
                            carts.borrow_mut().insert(bi, id);
                            id
                        }
                        r => return ("cart", status_of(&r)),
                    }
                }
            };
            let body = json!({"sku": sku, "qty": 1});
            let r = http.post(&s.api(&format!("/carts/{cart}/items")), &body, Some(&b.token), &[]).await;
            if let Ok((404 | 403, _)) = r {
                carts.borrow_mut().remove(&bi);
            }
            ("cart", status_of(&r))
        }
        6..=7 => {
            let key = format!("t13-{w}-{i}-{}", rng.next(1 << 30));
            let body = json!({"lines": [{"sku": sku, "qty": 1 + rng.next(3)}]});
            let r = place(http, s, &b.token, &key, &body).await;
            ("checkout", status_of(&r))
        }
        8 => {
            // A new session, then logged out: the token must be dead at once and stay so.
            let body = json!({"email": b.email, "password": PASSWORD});
            let r = http.post(&format!("{}/api/v1/auth/login", s.base), &body, None, &[]).await;
            let token = match &r {
                Ok((200, v)) => v["access_token"].as_str().unwrap_or_default().to_owned(),
                _ => return ("login", status_of(&r)),
            };
            let out = http.post(&format!("{}/api/v1/auth/logout", s.base), &json!({}), Some(&token), &[]).await;
            if !matches!(out, Ok((200..=299, _))) {
                return ("logout", status_of(&out));
            }
            let older = {
                let list = revoked.borrow();
                (!list.is_empty()).then(|| list[rng.next(list.len() as u64) as usize].clone())
            };
            revoked.borrow_mut().push(token.clone());
            for t in std::iter::once(token).chain(older) {
                *revoked_tried.borrow_mut() += 1;
                let r = http.get(&s.api("/account"), Some(&t)).await;
                if matches!(r, Ok((200..=299, _))) {
                    *revoked_accepted.borrow_mut() += 1;
                }
            }
            ("login", status_of(&r))
        }
        _ => {
            let r: Result<(u16, Value), String> = http.get(&s.api("/account"), Some(&b.token)).await;
            ("account", status_of(&r))
        }
    }
}
