//! Sending the mail outbox over SMTP: a local SMTP sink (below) receives what the worker sends;
//! temporary refusals and dropped connections are retried, permanent refusals, expired mail
//! and bad addresses are given up with the reason, and a sent mail is never sent again.

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, TestTenant};
use crate::identity::register;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Accept,
    /// 451 to RCPT TO.
    TempFail,
    /// 550 to RCPT TO.
    PermFail,
    /// The connection is closed right after the greeting.
    Drop,
}

#[derive(Default)]
struct Received {
    /// (envelope recipients, raw message)
    messages: Vec<(Vec<String>, String)>,
    /// RCPT TO commands seen, accepted or not.
    rcpt: Vec<String>,
}

/// A minimal SMTP server on loopback: enough of RFC 5321 for lettre.
struct Sink {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    got: Arc<Mutex<Received>>,
}

impl Sink {
    async fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mode = Arc::new(Mutex::new(Mode::Accept));
        let got = Arc::new(Mutex::new(Received::default()));
        let (m, g) = (mode.clone(), got.clone());
        actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (m, g) = (m.clone(), g.clone());
                actix_web::rt::spawn(async move {
                    let _ = session(stream, m, g).await;
                });
            }
        });
        Sink { port, mode, got }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().expect("mode") = mode;
    }

    /// Messages whose envelope went to `to`.
    fn to(&self, to: &str) -> Vec<String> {
        let got = self.got.lock().expect("got");
        got.messages.iter().filter(|(rcpt, _)| rcpt.iter().any(|r| r == to)).map(|(_, m)| m.clone()).collect()
    }

    fn rcpt_count(&self, to: &str) -> usize {
        self.got.lock().expect("got").rcpt.iter().filter(|r| *r == to).count()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    mode: Arc<Mutex<Mode>>,
    got: Arc<Mutex<Received>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    if *mode.lock().expect("mode") == Mode::Drop {
        return Ok(());
    }
    let mut rcpt: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let answer: String = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 OK\r\n".into()
        } else if upper.starts_with("MAIL FROM") || upper.starts_with("RSET") {
            rcpt.clear();
            "250 OK\r\n".into()
        } else if upper.starts_with("RCPT TO") {
            let addr = cmd[8..].trim().trim_start_matches('<').split('>').next().unwrap_or("").to_owned();
            got.lock().expect("got").rcpt.push(addr.clone());
            match *mode.lock().expect("mode") {
                Mode::TempFail => "451 4.3.0 Try again later\r\n".into(),
                Mode::PermFail => "550 5.1.1 No such user here\r\n".into(),
                _ => {
                    rcpt.push(addr);
                    "250 OK\r\n".into()
                }
            }
        } else if upper == "DATA" {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
            }
            got.lock().expect("got").messages.push((std::mem::take(&mut rcpt), data));
            "250 OK queued\r\n".into()
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 Command not implemented\r\n".into()
        };
        write.write_all(answer.as_bytes()).await?;
    }
}

/// The value of a header (unfolded), RFC 2047 words decoded.
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw).replace("\r\n ", " ").replace("\r\n\t", " ");
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let line = head.lines().find(|l| l.to_ascii_lowercase().starts_with(&prefix))?;
    Some(decode_words(line[prefix.len()..].trim()))
}

/// RFC 2047: whitespace between two encoded words is dropped, any other is kept.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_encoded = false;
    for (i, word) in value.split(' ').enumerate() {
        let lower = word.to_ascii_lowercase();
        let encoded = word.ends_with("?=") && (lower.starts_with("=?utf-8?b?") || lower.starts_with("=?utf-8?q?"));
        if i > 0 && !(encoded && previous_encoded) {
            out.push(' ');
        }
        if !encoded {
            out.push_str(word);
        } else if lower.starts_with("=?utf-8?b?") {
            let b = base64::engine::general_purpose::STANDARD.decode(&word[10..word.len() - 2]).expect("base64 word");
            out.push_str(&String::from_utf8(b).expect("utf-8 word"));
        } else {
            out.push_str(&quoted_printable(&word[10..word.len() - 2].replace('_', " ")));
        }
        previous_encoded = encoded;
    }
    out
}

fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8 body")
}

/// The text body, transfer encoding undone.
fn body(raw: &str) -> String {
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    match header(raw, "Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase().as_str() {
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(joined).expect("base64 body"))
                .expect("utf-8 body")
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.to_owned(),
    }
}

async fn app_with(sink: &Sink) -> TestApp {
    let url = sink.url();
    TestApp::spawn_with(move |s| {
        s.smtp.url = Some(url.into());
        s.mail.from = Some("Tradeport <orders@mail.test>".into());
    })
    .await
}

async fn worker(app: &TestApp, t: &TestTenant) -> usize {
    tradeport::jobs::worker::run_once(&app.state, Some(t.tenant.id)).await.expect("worker")
}

/// (sent_at set, failed_at set, attempts, last_error) of an outbox row.
async fn row(app: &TestApp, id: i64) -> (bool, bool, i32, Option<String>) {
    app.db(move |c| {
        use diesel::prelude::*;
        use tradeport::db::schema_platform::mail_outbox as m;
        m::table
            .find(id)
            .select((m::sent_at.is_not_null(), m::failed_at.is_not_null(), m::attempts, m::last_error))
            .first(c)
            .expect("outbox row")
    })
    .await
}

async fn enqueue(app: &TestApp, t: &TestTenant, to: &str) -> i64 {
    let (tid, to) = (t.tenant.id, to.to_owned());
    app.db(move |c| {
        tradeport::platform::mail::enqueue(
            c,
            tradeport::platform::mail::OutgoingMail {
                tenant_id: Some(tid),
                to: &to,
                subject: "Счёт № 15 готов".into(),
                text: "Здравствуйте!\n\nСчёт готов.\n".into(),
                links: vec![],
            },
        )
        .expect("enqueue")
    })
    .await
}

/// Changes one outbox row as time or earlier tries would have: `set` is the SET clause.
async fn set_row(app: &TestApp, id: i64, set: &'static str) {
    app.db(move |c| {
        use diesel::prelude::*;
        diesel::sql_query(format!("UPDATE public.mail_outbox SET {set} WHERE id = $1"))
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(c)
            .expect("update the outbox row")
    })
    .await;
}

/// Makes a waiting mail due now, as if its back-off had passed.
async fn make_due(app: &TestApp, id: i64) {
    set_row(app, id, "next_attempt_at = now()").await;
}

#[actix_web::test]
async fn a_registration_mail_goes_out_over_smtp_once_with_a_stable_message_id() {
    let sink = Sink::start().await;
    let app = app_with(&sink).await;
    let t = app.new_tenant().await;
    let (email, r) = register(&app, &t, "7707083893").await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Without SMTP_URL the worker leaves mail in the outbox.
    let plain = TestApp::spawn().await;
    tradeport::jobs::worker::run_once(&plain.state, Some(t.tenant.id)).await.expect("worker");
    assert!(sink.to(&email).is_empty());

    let op = app.operator_token().await;
    let listed = app.get(&format!("/api/v1/platform/mail?to={email}"), Some(&op)).await.json();
    let item = listed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["subject"].as_str().is_some_and(|s| s.contains("подтвердите") || s.contains("confirm")))
        .cloned()
        .expect("the confirmation mail");
    let (id, subject, link) = (
        item["id"].as_i64().expect("id"),
        item["subject"].as_str().expect("subject").to_owned(),
        item["links"][0].as_str().expect("link").to_owned(),
    );
    assert_eq!(item["sent_at"], serde_json::Value::Null);
    assert_eq!(item["attempts"], 0);

    // Registration writes two mails to the buyer (confirm the address; the account is open).
    let queued = listed["total"].as_i64().expect("total") as usize;
    assert!(queued >= 1);
    assert!(worker(&app, &t).await >= queued);
    let got = sink.to(&email);
    assert_eq!(got.len(), queued, "each mail to {email} sent once");
    let message_id = format!("<tp-mail-{id}@localhost>");
    let raw = got.iter().find(|m| header(m, "Message-ID").as_deref() == Some(message_id.as_str())).expect("the mail");
    assert_eq!(header(raw, "Subject").as_deref(), Some(subject.as_str()), "{raw}");
    let from = header(raw, "From").expect("From");
    assert!(from.contains(&t.tenant.name) && from.contains("<orders@mail.test>"), "{from}");
    assert!(header(raw, "To").expect("To").contains(&email));
    assert!(body(raw).contains(&link), "the confirmation link is in the body: {}", body(raw));

    let listed = app.get(&format!("/api/v1/platform/mail?to={email}"), Some(&op)).await.json();
    for item in listed["items"].as_array().expect("items") {
        assert_ne!(item["sent_at"], serde_json::Value::Null, "{item}");
        assert_eq!(item["attempts"], 1);
    }

    // Sent once: later runs send nothing again.
    worker(&app, &t).await;
    make_due(&app, id).await;
    worker(&app, &t).await;
    assert_eq!(sink.to(&email).len(), queued);
}

#[actix_web::test]
async fn temporary_refusals_and_dropped_connections_are_retried_and_nothing_is_lost() {
    let sink = Sink::start().await;
    let app = app_with(&sink).await;
    let t = app.new_tenant().await;
    let to = format!("{}@buyers.test", crate::helpers::unique("m"));

    sink.set(Mode::TempFail);
    let id = enqueue(&app, &t, &to).await;
    worker(&app, &t).await;
    let (sent, failed, attempts, error) = row(&app, id).await;
    assert!(!sent && !failed);
    assert_eq!(attempts, 1);
    assert!(error.as_deref().unwrap_or("").contains("451"), "{error:?}");
    // Backed off: the next run does not try again at once.
    worker(&app, &t).await;
    assert_eq!(sink.rcpt_count(&to), 1);

    // The server drops the connection: still waiting, not lost.
    sink.set(Mode::Drop);
    make_due(&app, id).await;
    worker(&app, &t).await;
    let (sent, failed, attempts, _) = row(&app, id).await;
    assert!(!sent && !failed);
    assert_eq!(attempts, 2);

    sink.set(Mode::Accept);
    make_due(&app, id).await;
    worker(&app, &t).await;
    let (sent, _, attempts, error) = row(&app, id).await;
    assert!(sent, "delivered once the server takes it");
    assert_eq!((attempts, error), (3, None));
    let got = sink.to(&to);
    assert_eq!(got.len(), 1);
    assert_eq!(header(&got[0], "Subject").as_deref(), Some("Счёт № 15 готов"), "{}", got[0]);
    assert_eq!(body(&got[0]).replace("\r\n", "\n"), "Здравствуйте!\n\nСчёт готов.\n");
}

#[actix_web::test]
async fn refused_expired_and_undeliverable_mail_is_given_up_with_the_reason() {
    let sink = Sink::start().await;
    let app = app_with(&sink).await;
    let t = app.new_tenant().await;
    let u = crate::helpers::unique("g");

    // A permanent refusal: given up at once, never tried again.
    sink.set(Mode::PermFail);
    let refused = enqueue(&app, &t, &format!("{u}-nobody@buyers.test")).await;
    worker(&app, &t).await;
    let (sent, failed, attempts, error) = row(&app, refused).await;
    assert!(!sent && failed);
    assert_eq!(attempts, 1);
    assert!(error.as_deref().unwrap_or("").contains("550"), "{error:?}");
    sink.set(Mode::Accept);
    make_due(&app, refused).await;
    worker(&app, &t).await;
    assert_eq!(sink.rcpt_count(&format!("{u}-nobody@buyers.test")), 1);

    // Mail older than mail.max_age_hours (48) is not sent days late.
    let old = enqueue(&app, &t, &format!("{u}-late@buyers.test")).await;
    set_row(&app, old, "created_at = now() - interval '3 days'").await;
    // Not an address at all.
    let bad = enqueue(&app, &t, "not an address").await;
    // The eighth temporary failure gives up.
    let tired = enqueue(&app, &t, &format!("{u}-tired@buyers.test")).await;
    set_row(&app, tired, "attempts = 7").await;
    sink.set(Mode::TempFail);
    worker(&app, &t).await;

    let (sent, failed, _, error) = row(&app, old).await;
    assert!(!sent && failed);
    assert!(error.as_deref().unwrap_or("").contains("expired"), "{error:?}");
    assert_eq!(sink.rcpt_count(&format!("{u}-late@buyers.test")), 0);
    let (sent, failed, _, error) = row(&app, bad).await;
    assert!(!sent && failed);
    assert!(error.as_deref().unwrap_or("").contains("not an e-mail address"), "{error:?}");
    let (sent, failed, attempts, error) = row(&app, tired).await;
    assert!(!sent && failed, "given up after {attempts} tries");
    assert_eq!(attempts, 8);
    assert!(error.as_deref().unwrap_or("").contains("451"), "{error:?}");

    // Operators see why on the outbox page.
    let op = app.operator_token().await;
    let listed = app.get(&format!("/api/v1/platform/mail?to={u}-late@buyers.test"), Some(&op)).await.json();
    assert_ne!(listed["items"][0]["failed_at"], serde_json::Value::Null);
    assert!(listed["items"][0]["last_error"].as_str().unwrap_or("").contains("expired"), "{listed}");
}

#[actix_web::test]
async fn mails_claimed_when_shutdown_begins_go_back_at_once_unsent() {
    let sink = Sink::start().await;
    let app = app_with(&sink).await;
    let t = app.new_tenant().await;
    let to = format!("{}@buyers.test", crate::helpers::unique("s"));
    let ids = [enqueue(&app, &t, &to).await, enqueue(&app, &t, &to).await];
    app.state.lifecycle.begin_shutdown();
    // The two, and the store's welcome mail from onboarding.
    assert_eq!(tradeport::platform::mail_delivery::deliver(&app.state, Some(t.tenant.id)).await.expect("deliver"), 3);
    assert_eq!(sink.rcpt_count(&to), 0, "nothing sent once stopping");
    for id in ids {
        // Not sent, not failed, the attempt given back, and due now for the next worker.
        assert_eq!(row(&app, id).await, (false, false, 0, None));
        let due: bool = app
            .db(move |c| {
                use diesel::prelude::*;
                use tradeport::db::schema_platform::mail_outbox as m;
                m::table.find(id).select(m::next_attempt_at.le(diesel::dsl::now)).first(c).expect("row")
            })
            .await;
        assert!(due, "mail {id} waits for no lease");
    }
}
