//! The tenant's message webhook: a signed JSON POST (see `domain::webhook_signature`).

use domain::webhook_signature::{DELIVERY_HEADER, SIGNATURE_HEADER, sign};
use std::time::Duration;

/// How long the tenant's endpoint has to answer one POST.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(8);

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// 4xx other than 408/429: the endpoint refuses this request; retrying will not help.
    #[error("the webhook answered HTTP {0}")]
    Refused(u16),
    /// 5xx, 408, 429, other statuses, timeouts and connection failures.
    #[error("the webhook failed: {0}")]
    Retryable(String),
}

/// POSTs `body` to `url`, signed with `secret` at `now` (Unix seconds), as delivery
/// `delivery_id`.
pub async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    delivery_id: &str,
    body: Vec<u8>,
    now: i64,
) -> Result<u16, WebhookError> {
    let signature = sign(secret, now, &body);
    let response = http
        .post(url)
        .timeout(WEBHOOK_TIMEOUT)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(DELIVERY_HEADER, delivery_id)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            let kind = if e.is_timeout() {
                "timeout"
            } else {
                "connection failed"
            };
            WebhookError::Retryable(kind.to_owned())
        })?;
    let status = response.status().as_u16();
    match status {
        200..=299 => Ok(status),
        408 | 429 => Err(WebhookError::Retryable(format!("HTTP {status}"))),
        400..=499 => Err(WebhookError::Refused(status)),
        _ => Err(WebhookError::Retryable(format!("HTTP {status}"))),
    }
}
