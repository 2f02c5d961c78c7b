//! The card processor: Stripe through async-stripe (pointed at `STRIPE_API_BASE` when set),
//! or, without `STRIPE_SECRET_KEY`, the test gateway: a clearly labelled stand-in whose
//! "payments" are confirmed on a test page and booked through the same event path.
//!
//! Every Stripe request carries an idempotency key derived from our row's id, and a failed
//! try (timeout, connection lost, 409/429/5xx) is retried with the same key, so Stripe
//! answers a retry with the object the first try created: never a second PaymentIntent.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use stripe::{RequestStrategy, StripeError, StripeRequest};

use crate::config::StripeSettings;

/// A PaymentIntent to create.
pub struct IntentRequest<'a> {
    /// The idempotency key (from the attempt's id).
    pub key: String,
    pub amount_minor: i64,
    /// Lower-case ISO code.
    pub currency: &'a str,
    /// The supplier's connected account: a direct charge on it with the platform's fee.
    pub account: Option<&'a str>,
    pub fee_minor: i64,
    pub metadata: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub id: String,
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GatewayError {
    /// No answer (timeout, connection refused or lost) or a temporary refusal: the same
    /// request may be tried again with the same key.
    Unavailable(String),
    /// The processor refused the request: trying again will not help.
    Refused(String),
}

impl GatewayError {
    pub fn message(&self) -> &str {
        match self {
            GatewayError::Unavailable(m) | GatewayError::Refused(m) => m,
        }
    }
}

pub struct StripeGateway {
    client: stripe::Client,
    timeout: Duration,
    tries: u32,
}

pub enum Gateway {
    Stripe(Box<StripeGateway>),
    /// The labelled test gateway (no Stripe keys): nothing leaves the process.
    Test,
}

/// Per-try timeout and tries when the settings do not say.
const TIMEOUT_MS: u64 = 10_000;
const TRIES: u32 = 3;

impl Gateway {
    pub fn from_settings(s: &StripeSettings) -> anyhow::Result<Gateway> {
        let Some(secret) = s.secret_key.as_ref().map(|k| k.expose_secret().to_owned()).filter(|k| !k.is_empty()) else {
            return Ok(Gateway::Test);
        };
        let mut builder = stripe::ClientBuilder::new(secret).app_info("tradeport", None, None);
        if let Some(base) = s.api_base.as_deref().filter(|b| !b.is_empty()) {
            // The client appends `v1/…` to the base.
            let base = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
            builder = builder.url(base);
        }
        let client = builder.build().map_err(|e| anyhow::anyhow!("the Stripe settings are invalid: {e}"))?;
        Ok(Gateway::Stripe(Box::new(StripeGateway {
            client,
            timeout: Duration::from_millis(s.timeout_ms.unwrap_or(TIMEOUT_MS).max(1)),
            tries: s.tries.unwrap_or(TRIES).clamp(1, 10),
        })))
    }

    /// `stripe` or `test`, as card payment rows name their gateway.
    pub fn name(&self) -> &'static str {
        match self {
            Gateway::Stripe(_) => "stripe",
            Gateway::Test => "test",
        }
    }

    pub async fn create_intent(&self, r: &IntentRequest<'_>) -> Result<Intent, GatewayError> {
        match self {
            Gateway::Test => Ok(Intent { id: test_id("pi", &r.key), client_secret: None }),
            Gateway::Stripe(g) => {
                let make = || {
                    let currency = stripe_types::Currency::from_str(r.currency).unwrap_or(stripe_types::Currency::RUB);
                    let mut req = stripe_core::payment_intent::CreatePaymentIntent::new(r.amount_minor, currency)
                        .metadata(r.metadata.clone());
                    if r.account.is_some() {
                        req = req.application_fee_amount(r.fee_minor);
                    }
                    req
                };
                let v = g.send(make, &r.key, r.account).await?;
                let id = v["id"]
                    .as_str()
                    .filter(|s| s.starts_with("pi_"))
                    .ok_or_else(|| GatewayError::Unavailable("Stripe answered without a PaymentIntent id".into()))?;
                Ok(Intent { id: id.to_owned(), client_secret: v["client_secret"].as_str().map(str::to_owned) })
            }
        }
    }

    /// Refunds `amount_minor` of a PaymentIntent; answers the refund's id.
    pub async fn refund(
        &self,
        key: &str,
        intent: &str,
        amount_minor: i64,
        account: Option<&str>,
    ) -> Result<String, GatewayError> {
        match self {
            Gateway::Test => Ok(test_id("re", key)),
            Gateway::Stripe(g) => {
                let make = || {
                    let mut req = stripe_core::refund::CreateRefund::new().payment_intent(intent).amount(amount_minor);
                    if account.is_some() {
                        // A direct charge's refund gives the platform's fee back in proportion.
                        req = req.refund_application_fee(true);
                    }
                    req
                };
                let v = g.send(make, key, account).await?;
                v["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| GatewayError::Unavailable("Stripe answered without a refund id".into()))
            }
        }
    }
}

/// The test gateway's ids: stable for a key, marked as test objects.
fn test_id(prefix: &str, key: &str) -> String {
    format!("{prefix}_test_{}", key.trim_start_matches("tradeport-").replace('-', "_"))
}

impl StripeGateway {
    /// Sends the request built by `make` with idempotency key `key` (on `account`), trying
    /// again with the same key while Stripe is unreachable; answers the response as JSON.
    async fn send<R: StripeRequest>(
        &self,
        make: impl Fn() -> R,
        key: &str,
        account: Option<&str>,
    ) -> Result<serde_json::Value, GatewayError> {
        let key = stripe::IdempotencyKey::new(key).map_err(|e| GatewayError::Refused(format!("bad key: {e:?}")))?;
        let mut last = GatewayError::Unavailable("Stripe was not asked".into());
        for attempt in 0..self.tries {
            if attempt > 0 {
                actix_web::rt::time::sleep(Duration::from_millis(250 << attempt.min(4))).await;
            }
            let mut req = make()
                .build()
                .customize::<miniserde::json::Value>()
                .request_strategy(RequestStrategy::Idempotent(key.clone()))
                .timeout(self.timeout);
            if let Some(a) = account {
                req = req.account_id(stripe::AccountId::from(a));
            }
            match req.send(&self.client).await {
                Ok(v) => {
                    let text = miniserde::json::to_string(&v);
                    return serde_json::from_str(&text)
                        .map_err(|_| GatewayError::Unavailable("Stripe's answer is not JSON".into()));
                }
                Err(e) => {
                    last = classify(&e);
                    tracing::warn!(attempt = attempt + 1, error = %last.message(), "Stripe request failed");
                    if matches!(last, GatewayError::Refused(_)) {
                        break;
                    }
                }
            }
        }
        Err(last)
    }
}

fn classify(e: &StripeError) -> GatewayError {
    match e {
        StripeError::Stripe(err, status) => {
            let msg = format!("Stripe answered {status}: {}", err.message.as_deref().unwrap_or("no message"));
            // 409: the same key is still being processed; 429: rate limited; 5xx: Stripe's side.
            if *status == 409 || *status == 429 || *status >= 500 {
                GatewayError::Unavailable(msg)
            } else {
                GatewayError::Refused(msg)
            }
        }
        StripeError::Timeout => GatewayError::Unavailable("Stripe did not answer in time".into()),
        StripeError::ClientError(m) => GatewayError::Unavailable(format!("Stripe is unreachable: {m}")),
        // An error answer that is not Stripe's format (a proxy's page): unknown, try again.
        StripeError::JSONDeserialize(m) => GatewayError::Unavailable(format!("unexpected answer from Stripe: {m}")),
        StripeError::ConfigError(m) => GatewayError::Refused(format!("the Stripe client is misconfigured: {m}")),
    }
}
