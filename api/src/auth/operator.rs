//! The platform operator: whoever holds `SWITCHBOARD_OPERATOR_TOKEN` manages tenants under
//! `/v1/admin`. The comparison is constant-time; without a configured token nobody is one.

use crate::{ApiError, AppState};
use axum::{extract::FromRequestParts, http::request::Parts};
use sha2::{Digest, Sha256};

/// A request made with the operator's credential.
#[derive(Debug, Clone)]
pub struct Operator {
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

/// Equal digests of equal inputs, compared without an early exit: the time taken says nothing
/// about how much of the token was right, nor (digests having one length) about its length.
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let expected = state
            .config
            .auth
            .operator_token
            .as_ref()
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let given = super::bearer(parts).ok_or(ApiError::Unauthorized)?;
        if !same_secret(given, expected.expose()) {
            return Err(ApiError::Unauthorized);
        }
        let (request_id, client_addr) = super::request_meta(parts);
        Ok(Self {
            request_id,
            client_addr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn only_the_same_token_matches() {
        assert!(same_secret("op_abc", "op_abc"));
        assert!(!same_secret("op_abd", "op_abc"));
        assert!(!same_secret("", "op_abc"));
        assert!(!same_secret("op_abc ", "op_abc"));
    }
}
