//! The `Stripe-Signature` header of a webhook delivery: `t=<unix time>,v1=<hex>[,v1=<hex>…]`,
//! each `v1` an HMAC-SHA256 of `"<t>.<raw body>"` with the endpoint's signing secret. Checked
//! on the raw bytes before anything is parsed; any `v1` may match (Stripe sends two while a
//! secret is rolled); the time must be within [`TOLERANCE_SECS`] of ours, either way.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far the signed time may be from ours, in the past or the future.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// No header, no `t`, several `t`, or no `v1`.
    Malformed,
    /// `t` is more than the tolerance away from now.
    OutOfTolerance,
    /// No `v1` matches the body.
    NoMatch,
}

impl SignatureError {
    pub fn message(&self) -> &'static str {
        match self {
            SignatureError::Malformed => "the Stripe-Signature header is missing or malformed",
            SignatureError::OutOfTolerance => "the signature's timestamp is more than 5 minutes from now",
            SignatureError::NoMatch => "no signature matches the body",
        }
    }
}

/// The `v1` signature of `body` signed at `t` with `secret`, as hex.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, t, body))
}

fn mac(secret: &[u8], t: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut m = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Checks `header` over `body` at time `now` (unix seconds).
pub fn verify(secret: &[u8], header: Option<&str>, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Malformed)?;
    let mut t: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else { continue };
        match k {
            "t" => {
                let parsed = v.parse::<i64>().map_err(|_| SignatureError::Malformed)?;
                if t.replace(parsed).is_some() {
                    return Err(SignatureError::Malformed);
                }
            }
            // A value that is not hex cannot match; it is skipped, not fatal.
            "v1" => candidates.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(SignatureError::OutOfTolerance);
    }
    let expected = mac(secret, t, body);
    // Every candidate is compared (no early exit on a match), each in constant time.
    let matched = candidates.iter().fold(subtle::Choice::from(0u8), |acc, c| acc | expected.as_slice().ct_eq(c));
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    fn header(t: i64, sigs: &[String]) -> String {
        let mut h = format!("t={t}");
        for s in sigs {
            h.push_str(&format!(",v1={s}"));
        }
        h
    }

    #[test]
    fn a_fresh_valid_signature_passes_and_a_known_vector_matches() {
        let now = 1_700_000_000;
        let good = sign(SECRET, now, BODY);
        assert_eq!(verify(SECRET, Some(&header(now, std::slice::from_ref(&good))), BODY, now), Ok(()));
        // Stripe's scheme: HMAC-SHA256("t.body"), checked against an independent computation.
        let mut m = Hmac::<Sha256>::new_from_slice(SECRET).expect("key");
        m.update(format!("{now}.").as_bytes());
        m.update(BODY);
        assert_eq!(hex::encode(m.finalize().into_bytes()), good);
    }

    #[test]
    fn stale_future_forged_and_modified_deliveries_are_refused() {
        let now = 1_700_000_000;
        for t in [now - 301, now + 301] {
            let h = header(t, &[sign(SECRET, t, BODY)]);
            assert_eq!(verify(SECRET, Some(&h), BODY, now), Err(SignatureError::OutOfTolerance), "t = {t}");
        }
        for t in [now - 300, now + 300] {
            assert_eq!(verify(SECRET, Some(&header(t, &[sign(SECRET, t, BODY)])), BODY, now), Ok(()));
        }
        let forged = header(now, &[sign(b"whsec_other", now, BODY)]);
        assert_eq!(verify(SECRET, Some(&forged), BODY, now), Err(SignatureError::NoMatch));
        let mut changed = BODY.to_vec();
        changed[10] ^= 1;
        let h = header(now, &[sign(SECRET, now, BODY)]);
        assert_eq!(verify(SECRET, Some(&h), &changed, now), Err(SignatureError::NoMatch));
        // The same signature presented with another timestamp does not match.
        let moved = header(now + 1, &[sign(SECRET, now, BODY)]);
        assert_eq!(verify(SECRET, Some(&moved), BODY, now), Err(SignatureError::NoMatch));
    }

    #[test]
    fn one_valid_v1_among_several_is_enough() {
        let now = 1_700_000_000;
        let h = header(now, &[sign(b"whsec_old", now, BODY), sign(SECRET, now, BODY), "zz".into()]);
        assert_eq!(verify(SECRET, Some(&h), BODY, now), Ok(()));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let now = 1_700_000_000;
        let sig = sign(SECRET, now, BODY);
        for h in [
            String::new(),
            format!("v1={sig}"),
            format!("t=abc,v1={sig}"),
            format!("t={now}"),
            format!("t={now},t={now},v1={sig}"),
            format!("t={now},v0={sig}"),
        ] {
            assert_eq!(verify(SECRET, Some(&h), BODY, now), Err(SignatureError::Malformed), "{h}");
        }
        assert_eq!(verify(SECRET, None, BODY, now), Err(SignatureError::Malformed));
    }
}
