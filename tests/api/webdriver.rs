//! A WebDriver harness for the browser tests: its own chromedriver on a free port, headless
//! Chromium sessions with fresh profiles, waits that poll and give up after [`WAIT`], and
//! screenshots under `target/screenshots/<test>/`. Dropping a [`Browser`] ends its session and
//! dropping the last handle on the driver kills chromedriver and every Chromium process it
//! started (they share its process group), also when the test panics.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::rt::time::{sleep, timeout};
use fantoccini::elements::Element;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest a wait for an element, a page or an attribute may take before the test fails.
/// Generous for a loaded 2-core machine; a passing wait returns as soon as its condition holds.
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);
const DRIVER_START: Duration = Duration::from_secs(20);
const SESSION_START: Duration = Duration::from_secs(60);
const PAGE_LOAD: Duration = Duration::from_secs(30);

/// A chromedriver process owned by one test.
pub struct Driver {
    process: Arc<DriverProcess>,
}

struct DriverProcess {
    child: Mutex<Child>,
    port: u16,
    /// Temporary: Chromium profiles and the driver's log.
    dir: PathBuf,
    /// `target/screenshots/<test>`.
    shots: PathBuf,
    step: AtomicUsize,
    sessions: AtomicUsize,
}

/// `target/` of this build (the parent of `CARGO_TARGET_TMPDIR`, so `CARGO_TARGET_DIR` is honoured).
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address").port()
}

/// A blocking HTTP/1.1 request to chromedriver on loopback, bounded by socket timeouts.
/// Used where no runtime can be relied on (readiness before the client exists, and `Drop`).
fn driver_request(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")?;
    // chromedriver keeps the connection open: read the head, then Content-Length bytes.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok()).flatten()
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn driver_ready(port: u16) -> bool {
    driver_request(port, "GET", "/status").is_ok_and(|r| r.replace(' ', "").contains("\"ready\":true"))
}

impl Driver {
    /// Starts chromedriver for the test `test` (the name of its screenshot folder, which is
    /// emptied first). Fails the test if chromedriver does not answer within 20 s.
    pub async fn start(test: &str) -> Driver {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
            "browser tests need {CHROMIUM} and {CHROMEDRIVER} (Debian: chromium chromium-driver; .ci/run installs them)"
        );
        let shots = target_dir().join("screenshots").join(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("create the screenshot folder");
        let dir = std::env::temp_dir().join(format!("tradeport-webdriver-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the driver's temporary folder");
        // A port found free can be taken before chromedriver binds it: then it exits, and we
        // try another.
        for _attempt in 0..3 {
            let port = free_port();
            let log = std::fs::File::create(dir.join("chromedriver.log")).expect("driver log file");
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log)
                // Its own process group, so that Drop can end Chromium's processes with it.
                .process_group(0)
                .spawn()
                .expect("spawn chromedriver");
            let process = DriverProcess {
                child: Mutex::new(child),
                port,
                dir: dir.clone(),
                shots: shots.clone(),
                step: AtomicUsize::new(1),
                sessions: AtomicUsize::new(0),
            };
            let deadline = Instant::now() + DRIVER_START;
            while Instant::now() < deadline {
                if process.exited() {
                    break;
                }
                if driver_ready(port) {
                    return Driver { process: Arc::new(process) };
                }
                sleep(Duration::from_millis(50)).await;
            }
            // Dropping `process` kills it (the folder is kept until the last attempt).
            process.forget_dir();
        }
        let log = std::fs::read_to_string(dir.join("chromedriver.log")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        panic!("chromedriver did not become ready within {DRIVER_START:?}; its log:\n{log}");
    }

    /// A new browser session (a fresh Chromium profile: no cookies) on `base_url`; `label`
    /// names it in messages (e.g. "buyer", "staff").
    pub async fn session(&self, base_url: &str, label: &str) -> Browser {
        let p = &self.process;
        let n = p.sessions.fetch_add(1, Ordering::SeqCst);
        let profile = p.dir.join(format!("profile-{n}"));
        std::fs::create_dir_all(&profile).expect("create the Chromium profile folder");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }
        });
        let caps = caps.as_object().cloned().expect("capabilities are an object");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let url = format!("http://127.0.0.1:{}", p.port);
        let client = timeout(SESSION_START, ClientBuilder::new(connector).capabilities(caps).connect(&url))
            .await
            .unwrap_or_else(|_| panic!("no Chromium session within {SESSION_START:?}"))
            .unwrap_or_else(|e| panic!("start a Chromium session: {e}"));
        let session_id = client.session_id().await.ok().flatten().expect("the session has an id");
        let browser = Browser {
            client,
            session_id,
            driver: Arc::clone(p),
            base: base_url.trim_end_matches('/').to_owned(),
            label: label.to_owned(),
        };
        browser
            .client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(10)),
                Some(PAGE_LOAD),
                Some(Duration::ZERO),
            ))
            .await
            .expect("set the session's timeouts");
        browser
    }
}

impl DriverProcess {
    fn exited(&self) -> bool {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        matches!(child.try_wait(), Ok(Some(_)))
    }

    /// Keeps the temporary folder when this attempt is dropped (a retry reuses it).
    fn forget_dir(mut self) {
        self.dir = PathBuf::new();
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.dir.as_os_str().is_empty() {
            let copy = self.shots.join("chromedriver.log");
            if std::fs::copy(self.dir.join("chromedriver.log"), &copy).is_ok() {
                eprintln!("chromedriver's log: {}", copy.display());
            }
        }
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        // The whole group: chromedriver and the Chromium processes it started.
        let group = format!("-{}", child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !killed {
            let _ = child.kill();
        }
        let _ = child.wait();
        if !self.dir.as_os_str().is_empty() && std::fs::remove_dir_all(&self.dir).is_err() {
            // A dying Chromium may still be writing its profile: once more, a moment later.
            std::thread::sleep(Duration::from_millis(300));
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One Chromium session. Paths given to it are relative to the application's base URL.
pub struct Browser {
    client: Client,
    session_id: String,
    driver: Arc<DriverProcess>,
    base: String,
    label: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session, so chromedriver closes this Chromium (bounded by socket timeouts).
        let _ = driver_request(self.driver.port, "DELETE", &format!("/session/{}", self.session_id));
    }
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn goto(&self, path: &str) {
        let url = self.url(path);
        if let Err(e) = self.client.goto(&url).await {
            self.fail(&format!("open {url}: {e}")).await;
        }
    }

    /// The current path and query (`/s/x/account?y=1`).
    pub async fn path(&self) -> String {
        match self.client.current_url().await {
            Ok(u) => match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            },
            Err(_) => String::new(),
        }
    }

    /// Saves a PNG of the viewport as `target/screenshots/<test>/<NN>-<step>.png` (NN: the
    /// order of steps within the test).
    pub async fn screenshot(&self, step: &str) {
        let n = self.driver.step.fetch_add(1, Ordering::SeqCst);
        let file = self.driver.shots.join(format!("{n:02}-{step}.png"));
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot {step}: {e}"));
        std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    }

    /// The first element matching `css` now, if any (errors while a page is changing count as none).
    async fn find_now(&self, css: &str) -> Option<Element> {
        self.client.find_all(Locator::Css(css)).await.ok().and_then(|v| v.into_iter().next())
    }

    /// Waits until an element matches `css` and returns it.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find_now(css).await {
                return e;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("no element {css:?} after {WAIT:?}")).await;
            }
            sleep(POLL).await;
        }
    }

    /// Waits until nothing matches `css` (e.g. the page it was on has been replaced).
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        while self.find_now(css).await.is_some() {
            if Instant::now() >= deadline {
                self.fail(&format!("{css:?} still on the page after {WAIT:?}")).await;
            }
            sleep(POLL).await;
        }
    }

    /// Waits until the current path (without the query) is `path`.
    pub async fn wait_path(&self, path: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.path().await;
            if now.split('?').next() == Some(path) {
                return;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("expected to be at {path}, still at {now} after {WAIT:?}")).await;
            }
            sleep(POLL).await;
        }
    }

    /// Waits until an element matching `css` has `attr` equal to `value`.
    pub async fn wait_attr(&self, css: &str, attr: &str, value: &str) {
        let deadline = Instant::now() + WAIT;
        let mut last = None;
        loop {
            if let Some(e) = self.find_now(css).await {
                last = e.attr(attr).await.ok().flatten();
                if last.as_deref() == Some(value) {
                    return;
                }
            }
            if Instant::now() >= deadline {
                self.fail(&format!("expected {css:?} with {attr}={value:?}, last seen {last:?}, after {WAIT:?}")).await;
            }
            sleep(POLL).await;
        }
    }

    /// Waits until an element matching `css` is displayed (e.g. a notice shown by `:target`).
    pub async fn wait_visible(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find_now(css).await {
                if e.is_displayed().await.unwrap_or(false) {
                    return;
                }
            }
            if Instant::now() >= deadline {
                self.fail(&format!("{css:?} not visible after {WAIT:?}")).await;
            }
            sleep(POLL).await;
        }
    }

    /// How many elements match `css` now (no waiting: wait for the page first).
    pub async fn count(&self, css: &str) -> usize {
        match self.client.find_all(Locator::Css(css)).await {
            Ok(v) => v.len(),
            Err(e) => self.fail(&format!("find {css:?}: {e}")).await,
        }
    }

    /// Types `value` into the field matching `css` (cleared first).
    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.wait_for(css).await;
        if let Err(err) = e.clear().await {
            self.fail(&format!("clear {css:?}: {err}")).await;
        }
        if let Err(err) = e.send_keys(value).await {
            self.fail(&format!("type into {css:?}: {err}")).await;
        }
    }

    /// Fills the fields of `form` by their `name` attributes.
    pub async fn fill_form(&self, form: &str, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            self.fill(&format!("{form} [name=\"{name}\"]"), value).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self.wait_for(css).await;
        if let Err(err) = e.click().await {
            self.fail(&format!("click {css:?}: {err}")).await;
        }
    }

    /// Clicks the submit button of the form matching `form` (as a person would).
    pub async fn submit(&self, form: &str) {
        self.click(&format!(
            "{form} button[type=\"submit\"], {form} button:not([type]), {form} input[type=\"submit\"]"
        ))
        .await;
    }

    /// The visible text of the first element matching `css` (waited for).
    pub async fn text(&self, css: &str) -> String {
        let e = self.wait_for(css).await;
        e.text().await.unwrap_or_default()
    }

    /// The value of `attr` on the first element matching `css` (waited for); fails when absent.
    pub async fn attr(&self, css: &str, attr: &str) -> String {
        let e = self.wait_for(css).await;
        match e.attr(attr).await {
            Ok(Some(v)) => v,
            other => self.fail(&format!("{css:?} has no {attr}: {other:?}")).await,
        }
    }

    /// The visible text of the whole page.
    pub async fn page_text(&self) -> String {
        match self.client.execute("return document.body ? document.body.innerText : ''", vec![]).await {
            Ok(Value::String(s)) => s,
            _ => String::new(),
        }
    }

    /// Fails the test with `what`, where the browser is and what the page says, after saving
    /// a screenshot of it.
    pub async fn fail(&self, what: &str) -> ! {
        let at = self.path().await;
        let text = self.page_text().await;
        let text: String = text.chars().take(1500).collect();
        let n = self.driver.step.fetch_add(1, Ordering::SeqCst);
        let file = self.driver.shots.join(format!("{n:02}-failed-{}.png", self.label));
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&file, png);
        }
        panic!("[{}] {what}\n  at: {at}\n  screenshot: {}\n  page text:\n{text}", self.label, file.display());
    }
}

/// The path and query of an absolute link (mail links name the public host, not the test server).
pub fn path_of(link: &str) -> String {
    let rest = link.split_once("://").map_or(link, |(_, r)| r);
    rest.find('/').map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned())
}
