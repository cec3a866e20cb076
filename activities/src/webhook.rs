//! The tenant's webhook: a signed JSON POST (see `domain::webhook_signature`), for taken
//! messages (`message.taken`) and events (`call.analyzed`).

use domain::webhook_signature::{DELIVERY_HEADER, SIGNATURE_HEADER, sign};
use std::time::Duration;

/// How long the tenant's endpoint has to answer one POST.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(8);

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// 4xx other than 408/429: the endpoint refuses this request; retrying will not help.
    #[error("the webhook answered HTTP {0}")]
    Refused(u16),
    /// 5xx, 408, 429, other statuses (`status`), timeouts and connection failures (none).
    #[error("the webhook failed: {reason}")]
    Retryable { status: Option<u16>, reason: String },
}

impl WebhookError {
    /// The HTTP status the webhook answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused(status) => Some(*status),
            Self::Retryable { status, .. } => *status,
        }
    }

    fn answered(status: u16) -> Self {
        Self::Retryable {
            status: Some(status),
            reason: format!("HTTP {status}"),
        }
    }
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
            WebhookError::Retryable {
                status: None,
                reason: kind.to_owned(),
            }
        })?;
    let status = response.status().as_u16();
    match status {
        200..=299 => Ok(status),
        408 | 429 => Err(WebhookError::answered(status)),
        400..=499 => Err(WebhookError::Refused(status)),
        _ => Err(WebhookError::answered(status)),
    }
}
