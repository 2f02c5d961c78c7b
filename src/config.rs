//! Layered configuration: `config/default.toml` (embedded), `config/<profile>.toml`,
//! `TRADEPORT__SECTION__KEY` variables, then the documented variables of CONTRACT.md
//! (`DATABASE_URL`, `TRADEPORT_BIND`, …) and their `*_FILE` forms for mounted secrets.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULT_TOML: &str = include_str!("../config/default.toml");
/// The JWT secret shipped in `config/default.toml`; `prod` refuses to start with it.
pub const DEV_JWT_SECRET: &str = "dev-only-secret-change-me-0123456789abcdef";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub profile: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub redis: OptionalService,
    #[serde(default)]
    pub meili: OptionalService,
    #[serde(default)]
    pub stripe: StripeSettings,
    #[serde(default)]
    pub smtp: OptionalService,
    #[serde(default)]
    pub documents: DocumentSettings,
    #[serde(default)]
    pub exchange: ExchangeSettings,
    #[serde(default)]
    pub webhooks: WebhookSettings,
    #[serde(default)]
    pub mail: MailSettings,
    #[serde(default)]
    pub worker: WorkerSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub jobs: JobSettings,
}

/// The job worker: its probe and metrics endpoint (`tradeport worker`) and how long it may
/// take to stop.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerSettings {
    /// Where `tradeport worker` serves `/healthz`, `/readyz` and `/metrics`
    /// (`TRADEPORT__WORKER__BIND`; the Helm chart's `metrics` port).
    #[serde(default = "default_worker_bind")]
    pub bind: String,
    /// Seconds the worker may spend finishing the job it runs after SIGTERM (jobs claimed but
    /// not started go back to the queue at once); after that the process exits with status 1
    /// and the unfinished job comes back when its lease ends.
    #[serde(default = "default_worker_shutdown")]
    pub shutdown_timeout_secs: u64,
}

fn default_worker_bind() -> String {
    "127.0.0.1:9090".into()
}

fn default_worker_shutdown() -> u64 {
    30
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings { bind: default_worker_bind(), shutdown_timeout_secs: default_worker_shutdown() }
    }
}

/// Prometheus metrics (`/metrics`).
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// How many tenants get their own `tenant` label on `tenant_http_requests_total`: the
    /// first ones seen by the process; later ones are counted as `other`.
    #[serde(default = "default_tenant_labels")]
    pub tenant_labels: usize,
}

fn default_tenant_labels() -> usize {
    100
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings { tenant_labels: default_tenant_labels() }
    }
}

/// The job queue (`crate::jobs`).
#[derive(Debug, Clone, Deserialize)]
pub struct JobSettings {
    /// Seconds a claimed job stays hidden from other workers. A worker that dies mid-job
    /// (`kill -9`, a lost node) delays its jobs this long; a job running longer than this may
    /// be claimed a second time, so keep it above the longest job (a 1C import).
    #[serde(default = "default_lease_secs")]
    pub lease_secs: i64,
}

fn default_lease_secs() -> i64 {
    crate::jobs::LEASE_SECS
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings { lease_secs: default_lease_secs() }
    }
}

/// The 1C exchange (`/1c/exchange`): where received files are kept and how large they may be.
#[derive(Debug, Clone, Deserialize)]
pub struct ExchangeSettings {
    /// Files of a session go to `<dir>/<tenant schema>/<session id>/`. With several instances
    /// this must be storage they share (the import job may run on another one).
    pub dir: PathBuf,
    /// The largest body of one `mode=file` request (`file_limit=` in the answer to `init`);
    /// 1C splits larger files into chunks of this size.
    pub file_limit: u64,
    /// The most one session may upload in all.
    pub session_quota: u64,
    /// How many recent sessions of a tenant keep their files (for support).
    pub keep_sessions: i64,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        ExchangeSettings {
            dir: PathBuf::from("data/exchange"),
            file_limit: 100 * 1024 * 1024,
            session_quota: 4 * 1024 * 1024 * 1024,
            keep_sessions: 10,
        }
    }
}

/// Delivery of the mail outbox over SMTP (`SMTP_URL`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// The sender address; default `no-reply@<server.base_domain>`. A store's mail carries the
    /// store's name as the display name.
    pub from: Option<String>,
    /// Mail not sent within this many hours is given up as expired (a password-reset link sent
    /// days late helps nobody; it also keeps a long-stopped outbox from flooding inboxes).
    pub max_age_hours: i64,
    /// Seconds one SMTP conversation may take.
    pub timeout_secs: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings { from: None, max_age_hours: 48, timeout_secs: 20 }
    }
}

/// Outbound webhooks (issue 8).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebhookSettings {
    /// Lets endpoints and their resolved addresses be private or loopback (development and
    /// tests, where the receiver runs on 127.0.0.1). Off by default: a store must not make
    /// the platform call its internal network.
    #[serde(default)]
    pub allow_private_addresses: bool,
}

/// Invoices, statements and other PDF documents.
#[derive(Debug, Clone, Deserialize)]
pub struct DocumentSettings {
    /// Where DejaVuSans.ttf and DejaVuSans-Bold.ttf are (Debian's fonts-dejavu-core).
    pub font_dir: PathBuf,
    /// The file exchange EDO provider's folders: `<edo_dir>/<tenant schema>/outbox` gets the
    /// XML files sent, `<edo_dir>/<tenant schema>/inbox` the status receipts read back.
    #[serde(default = "default_edo_dir")]
    pub edo_dir: PathBuf,
}

fn default_edo_dir() -> PathBuf {
    PathBuf::from("data/edo")
}

impl Default for DocumentSettings {
    fn default() -> Self {
        DocumentSettings { font_dir: PathBuf::from("/usr/share/fonts/truetype/dejavu"), edo_dir: default_edo_dir() }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    pub base_domain: String,
    pub scheme: String,
    pub workers: usize,
    pub templates_dir: PathBuf,
    /// Where uploaded product images and files are kept (object_store, local filesystem).
    pub media_dir: PathBuf,
    pub static_dir: PathBuf,
    pub shutdown_timeout_secs: u64,
    /// Seconds between SIGTERM and closing the listener: `/readyz` answers 503 at once while
    /// requests are still served, so load balancers (Kubernetes endpoints) stop sending new
    /// ones first. 0 in development and tests.
    #[serde(default)]
    pub drain_secs: u64,
    /// Where `/metrics` is served instead of the public port (`TRADEPORT__SERVER__METRICS_BIND`,
    /// e.g. `0.0.0.0:9090` in the Helm chart), so an Ingress never exposes it; with it set the
    /// public port answers 404 for `/metrics`. Unset: `/metrics` is on the public port.
    #[serde(default)]
    pub metrics_bind: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed (`TRADEPORT__SERVER__TRUSTED_PROXIES`):
    /// addresses or CIDR ranges separated by commas, e.g. the Ingress controller's pod network.
    /// Empty: the TCP peer is the client (rate limits per address would then count every
    /// client behind a proxy as one).
    #[serde(default)]
    pub trusted_proxies: String,
    /// In-process caches validated by cache generations (`crate::cache`); off for
    /// benchmarks of the uncached path.
    #[serde(default = "yes")]
    pub cache: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub pool_max_size: u32,
    pub connection_timeout_secs: u64,
    pub max_lifetime_secs: u64,
    pub statement_timeout_ms: u64,
    pub lock_timeout_ms: u64,
    pub tenant_working_set: usize,
    pub migrate_workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub token_ttl_secs: i64,
    pub refresh_ttl_days: i64,
    /// Seconds a rotated refresh token may be presented again (parallel requests of a page).
    pub refresh_reuse_grace_secs: i64,
    pub login_attempts: u32,
    pub login_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: String,
    pub filter: String,
}

/// A service that is used only when its URL is set (Redis, Meilisearch, SMTP).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OptionalService {
    pub url: Option<SecretString>,
    pub key: Option<SecretString>,
    /// Key prefix (Redis), so several deployments can share one server.
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StripeSettings {
    pub secret_key: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    pub api_base: Option<String>,
    /// Milliseconds one try of a Stripe request may take (default 10,000).
    pub timeout_ms: Option<u64>,
    /// Tries of a Stripe request, all with the same idempotency key (default 3).
    pub tries: Option<u32>,
    /// The publishable key Stripe.js takes on the card page (without it the page cannot take
    /// card details: the API's client secret is for the buyer's own client).
    pub publishable_key: Option<String>,
    /// Where Stripe.js is loaded from (default `https://js.stripe.com/v3/`).
    pub js_url: Option<String>,
}

/// The documented environment variables and the settings key each one overrides.
const CONTRACT_VARS: &[(&str, &str)] = &[
    ("DATABASE_URL", "database.url"),
    ("TRADEPORT_BIND", "server.bind"),
    ("TRADEPORT_BASE_DOMAIN", "server.base_domain"),
    ("TRADEPORT_JWT_SECRET", "auth.jwt_secret"),
    ("REDIS_URL", "redis.url"),
    ("MEILI_URL", "meili.url"),
    ("MEILI_KEY", "meili.key"),
    ("STRIPE_SECRET_KEY", "stripe.secret_key"),
    ("STRIPE_WEBHOOK_SECRET", "stripe.webhook_secret"),
    ("STRIPE_API_BASE", "stripe.api_base"),
    ("STRIPE_PUBLISHABLE_KEY", "stripe.publishable_key"),
    ("SMTP_URL", "smtp.url"),
];

impl Settings {
    /// Loads settings for the profile named by `TRADEPORT_PROFILE` (default `dev`).
    pub fn load() -> anyhow::Result<Settings> {
        let profile = std::env::var("TRADEPORT_PROFILE").unwrap_or_else(|_| "dev".into());
        Self::load_from(&config_dir(), &profile, |name| std::env::var(name).ok())
    }

    /// Loads from an explicit directory and variable source (used by tests).
    pub fn load_from(dir: &Path, profile: &str, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
        if !matches!(profile, "dev" | "prod" | "test") {
            bail!("TRADEPORT_PROFILE must be dev, prod or test, not {profile:?}.");
        }
        let mut figment = Figment::new()
            .merge(Toml::string(DEFAULT_TOML))
            .merge(Toml::file(dir.join(format!("{profile}.toml"))))
            .merge(Env::prefixed("TRADEPORT__").split("__"))
            .merge(("profile", profile));
        for (name, key) in CONTRACT_VARS {
            if let Some(value) = read_var(&var, name)? {
                figment = figment.merge((*key, value));
            }
        }
        let settings: Settings = figment.extract().map_err(|e| anyhow::anyhow!("configuration is invalid: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        crate::web::client_addr::parse_trusted(&self.server.trusted_proxies)?;
        let secret = self.auth.jwt_secret.expose_secret();
        if self.profile == "prod" && secret == DEV_JWT_SECRET {
            bail!("the prod profile refuses the development JWT secret: set TRADEPORT_JWT_SECRET (or TRADEPORT_JWT_SECRET_FILE) to a random value of at least 32 bytes.");
        }
        if secret.len() < 32 {
            bail!("TRADEPORT_JWT_SECRET must be at least 32 bytes long.");
        }
        if self.server.base_domain.trim().is_empty() || self.server.base_domain.contains('/') {
            bail!("TRADEPORT_BASE_DOMAIN must be a host name such as example.com.");
        }
        if self.database.pool_max_size == 0 || self.database.tenant_working_set == 0 {
            bail!("database.pool_max_size and database.tenant_working_set must be at least 1.");
        }
        if self.jobs.lease_secs < 1 {
            bail!("jobs.lease_secs must be at least 1 second.");
        }
        if !matches!(self.log.format.as_str(), "compact" | "json") {
            bail!("log.format must be compact or json.");
        }
        if self.server.drain_secs > 3600 || self.server.shutdown_timeout_secs > 3600 {
            bail!("server.drain_secs and server.shutdown_timeout_secs must be at most 3600 seconds.");
        }
        if self.worker.bind.trim().is_empty() {
            bail!("worker.bind must be an address such as 0.0.0.0:9090.");
        }
        if !matches!(self.server.scheme.as_str(), "http" | "https") {
            bail!("server.scheme must be http or https.");
        }
        let set = |v: &Option<SecretString>| v.as_ref().is_some_and(|s| !s.expose_secret().is_empty());
        if self.profile == "prod" && set(&self.stripe.secret_key) && !set(&self.stripe.webhook_secret) {
            bail!("STRIPE_SECRET_KEY is set without STRIPE_WEBHOOK_SECRET: card payments would never be booked; set the webhook endpoint's signing secret.");
        }
        Ok(())
    }

    pub fn is_prod(&self) -> bool {
        self.profile == "prod"
    }

    pub fn uses_dev_secret(&self) -> bool {
        self.auth.jwt_secret.expose_secret() == DEV_JWT_SECRET
    }

    /// Absolute URL of the platform host, for mail links (never taken from a request).
    pub fn platform_url(&self) -> String {
        let port = self.server.bind.rsplit(':').next().unwrap_or("80");
        let host = &self.server.base_domain;
        match (self.server.scheme.as_str(), port) {
            ("http", "80") | ("https", "443") => format!("{}://{host}", self.server.scheme),
            (scheme, port) if self.profile != "prod" => format!("{scheme}://{host}:{port}"),
            (scheme, _) => format!("{scheme}://{host}"),
        }
    }
}

/// `NAME` or, for a mounted secret, the contents of the file named by `NAME_FILE`.
fn read_var(var: &impl Fn(&str) -> Option<String>, name: &str) -> anyhow::Result<Option<String>> {
    if let Some(path) = var(&format!("{name}_FILE")) {
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {name}_FILE at {path}"))?;
        return Ok(Some(text.trim_end().to_owned()));
    }
    Ok(var(name).filter(|v| !v.is_empty()))
}

/// `TRADEPORT_CONFIG_DIR`, else `./config`, else the source tree's `config/`.
pub fn config_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("TRADEPORT_CONFIG_DIR") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("config");
    if local.is_dir() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
    }
}

/// A path from the settings, resolved against the working directory or the source tree.
pub fn resource_path(path: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path.to_path_buf();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(profile: &str, vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::load_from(&config_dir(), profile, |n| map.get(n).cloned())
    }

    #[test]
    fn contract_variables_override_files() {
        let s = load("dev", &[("TRADEPORT_BIND", "127.0.0.1:9999"), ("TRADEPORT_BASE_DOMAIN", "shop.test")])
            .expect("loads");
        assert_eq!(s.server.bind, "127.0.0.1:9999");
        assert_eq!(s.server.base_domain, "shop.test");
        assert_eq!(s.platform_url(), "http://shop.test:9999");
    }

    #[test]
    fn prod_refuses_the_dev_secret_and_accepts_a_real_one() {
        let err = load("prod", &[]).expect_err("dev secret refused");
        assert!(err.to_string().contains("refuses the development JWT secret"));
        let ok = load("prod", &[("TRADEPORT_JWT_SECRET", "x9Jd83hd72jdk2l0Pqmz71bD0sk2lQ3Z")]).expect("loads");
        assert_eq!(ok.log.format, "json");
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_read_from_files() {
        let dir = std::env::temp_dir().join(format!("tp-secret-{}", uuid::Uuid::new_v4()));
        std::fs::write(&dir, "file-secret-file-secret-file-secret-42\n").expect("write");
        let path = dir.to_string_lossy().to_string();
        let s = load("dev", &[("TRADEPORT_JWT_SECRET_FILE", path.as_str())]).expect("loads");
        assert_eq!(s.auth.jwt_secret.expose_secret(), "file-secret-file-secret-file-secret-42");
        let debug = format!("{s:?}");
        assert!(!debug.contains("file-secret"), "secret leaked into Debug: {debug}");
        assert!(!debug.contains("postgres://"), "database url leaked into Debug");
        let _ = std::fs::remove_file(dir);
    }

    #[test]
    fn prod_refuses_stripe_keys_without_a_webhook_secret() {
        let secret = ("TRADEPORT_JWT_SECRET", "x9Jd83hd72jdk2l0Pqmz71bD0sk2lQ3Z");
        let err = load("prod", &[secret, ("STRIPE_SECRET_KEY", "sk_live_x")]).expect_err("refused");
        assert!(err.to_string().contains("STRIPE_WEBHOOK_SECRET"), "{err}");
        let ok = load("prod", &[secret, ("STRIPE_SECRET_KEY", "sk_live_x"), ("STRIPE_WEBHOOK_SECRET", "whsec_x")]);
        assert!(ok.is_ok());
        assert!(load("dev", &[("STRIPE_SECRET_KEY", "sk_test_x")]).is_ok());
    }

    #[test]
    fn shutdown_and_worker_settings_have_defaults_and_env_overrides() {
        let s = load("test", &[]).expect("loads");
        assert_eq!((s.server.drain_secs, s.worker.bind.as_str(), s.metrics.tenant_labels), (0, "127.0.0.1:9090", 100));
        let p = load("prod", &[("TRADEPORT_JWT_SECRET", "x9Jd83hd72jdk2l0Pqmz71bD0sk2lQ3Z")]).expect("loads");
        assert_eq!(p.server.drain_secs, 5, "prod drains for 5 s by default");
    }

    #[test]
    fn short_secrets_and_unknown_profiles_are_refused() {
        assert!(load("dev", &[("TRADEPORT_JWT_SECRET", "short")]).is_err());
        assert!(load("staging", &[]).is_err());
    }
}
