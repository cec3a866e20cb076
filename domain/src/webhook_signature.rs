//! The signature of the tenant's message webhook, Stripe-style, and how a receiver checks it.
//!
//! Each POST carries `Switchboard-Signature: t={unix seconds},v1={hex}` where `{hex}` is
//! HMAC-SHA256 keyed with the webhook's secret over `"{t}.{raw body}"`. A receiver recomputes
//! it over the bytes it received (before parsing the JSON), compares in constant time, and
//! refuses a `t` more than [`REPLAY_WINDOW_SECS`] away from its clock, so a captured request
//! cannot be replayed later. Retries are re-signed with a fresh `t` and keep their
//! `Switchboard-Delivery` id: receivers de-duplicate on that id.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header with the timestamp and signature.
pub const SIGNATURE_HEADER: &str = "Switchboard-Signature";
/// The header with the delivery id, the same on every retry of one delivery.
pub const DELIVERY_HEADER: &str = "Switchboard-Delivery";
/// How far a signature's timestamp may be from the receiver's clock.
pub const REPLAY_WINDOW_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the replay window")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// HMAC-SHA256 over `"{timestamp}.{body}"`: also how ElevenLabs signs its webhooks
/// ([`crate::elevenlabs`]).
pub(crate) fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Switchboard-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Checks a `Switchboard-Signature` header against the raw `body`, at `now` (Unix seconds).
/// Any `v1` in the header may match (a receiver rotating secrets may see several).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => {
                signatures.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?)
            }
            _ => {}
        }
    }
    let (Some(timestamp), false) = (timestamp, signatures.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    if (now - timestamp).abs() > REPLAY_WINDOW_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, body).finalize().into_bytes();
    if signatures
        .iter()
        .any(|s| bool::from(s.as_slice().ct_eq(expected.as_slice())))
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const BODY: &[u8] = br#"{"event":"message.taken"}"#;

    #[test]
    fn a_signature_made_now_verifies() {
        let header = sign(SECRET, 1_800_000_000, BODY);
        assert_eq!(verify(SECRET, &header, BODY, 1_800_000_010), Ok(()));
    }

    #[test]
    fn the_wrong_secret_is_rejected() {
        let header = sign("whsec_other", 1_800_000_000, BODY);
        assert_eq!(
            verify(SECRET, &header, BODY, 1_800_000_000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_tampered_body_is_rejected() {
        let header = sign(SECRET, 1_800_000_000, BODY);
        let tampered = br#"{"event":"message.taken","x":1}"#;
        assert_eq!(
            verify(SECRET, &header, tampered, 1_800_000_000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_stale_timestamp_is_rejected_even_with_a_valid_signature() {
        let header = sign(SECRET, 1_800_000_000, BODY);
        assert_eq!(
            verify(
                SECRET,
                &header,
                BODY,
                1_800_000_000 + REPLAY_WINDOW_SECS + 1
            ),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn a_header_without_timestamp_or_signature_is_malformed() {
        for header in ["", "t=1800000000", "v1=abcd", "t=x,v1=zz"] {
            assert_eq!(
                verify(SECRET, header, BODY, 1_800_000_000),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }
}
