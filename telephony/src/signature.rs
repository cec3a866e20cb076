//! Twilio request signatures.
//!
//! Twilio signs each webhook with HMAC-SHA1 (key: the account's auth token) over the full
//! public URL followed by every POST parameter's name and value, sorted by name, then base64.
//! The URL must be the one Twilio was configured with — we build it from `PUBLIC_URL`, never
//! from the `Host` header, which a caller controls.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The signature Twilio would send for `url` and form `params`.
pub fn compute_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac =
        Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `provided` is the right signature, compared in constant time.
pub fn validate_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    provided: &str,
) -> bool {
    let expected = compute_signature(auth_token, url, params);
    expected.as_bytes().ct_eq(provided.trim().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // Twilio's documented example (token 12345); the expected value was also checked with
    // Python's hmac module.
    const DOC_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn doc_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn matches_twilio_documented_example() {
        assert_eq!(
            compute_signature("12345", DOC_URL, &doc_params()),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let mut reversed = doc_params();
        reversed.reverse();
        assert!(validate_signature(
            "12345",
            DOC_URL,
            &reversed,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn rejects_tampered_params_url_or_token() {
        let sig = compute_signature("12345", DOC_URL, &doc_params());
        let mut tampered = doc_params();
        tampered[2].1 = "9999".into();
        assert!(!validate_signature("12345", DOC_URL, &tampered, &sig));
        assert!(!validate_signature(
            "12345",
            "https://evil.example/myapp.php?foo=1&bar=2",
            &doc_params(),
            &sig
        ));
        assert!(!validate_signature("54321", DOC_URL, &doc_params(), &sig));
        assert!(!validate_signature("12345", DOC_URL, &doc_params(), ""));
    }
}
