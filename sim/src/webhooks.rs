//! Webhooks the sim sends: TwiML fetches and status callbacks, signed like Twilio's.
//!
//! - `POST` sends `application/x-www-form-urlencoded` parameters; `X-Twilio-Signature` is
//!   base64(HMAC-SHA1(auth token, URL + sorted name/value pairs)) over the exact URL.
//! - `GET` appends the parameters to the URL's query; the signature covers that full URL and
//!   no parameters.
//! - Headers also carry `I-Twilio-Idempotency-Token` (the same on a retry or duplicate) and
//!   Twilio's `User-Agent`.
//! - Retries: Twilio's connection overrides put `#rc=N` on the URL; the sim retries up to the
//!   larger of that and [`FaultConfig::webhook_retries`](crate::FaultConfig), on connection
//!   failure or 5xx only. The fragment is never sent.
//! - Faults: `webhook_delay_ms` before each request; status callbacks (not TwiML fetches) are
//!   sent twice at `webhook_duplicate_rate`.

use std::time::Duration;

use crate::state::{CallEventKind, Shared, new_sid};

/// How long the sim waits for a webhook answer (Twilio: 15 s).
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// One webhook request.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub url: String,
    pub method: String,
    pub params: Vec<(String, String)>,
    /// What it is for, in the call's transcript (`voice-url`, `status-callback`, …).
    pub purpose: String,
}

impl Webhook {
    pub(crate) fn post(url: &str, params: Vec<(String, String)>, purpose: &str) -> Self {
        Self {
            url: url.to_owned(),
            method: "POST".into(),
            params,
            purpose: purpose.to_owned(),
        }
    }

    pub(crate) fn with_method(mut self, method: &str) -> Self {
        self.method = if method.eq_ignore_ascii_case("GET") {
            "GET".into()
        } else {
            "POST".into()
        };
        self
    }
}

/// Why a webhook did not yield a usable answer: Twilio's error code and a message.
#[derive(Debug, Clone)]
pub(crate) struct WebhookError {
    pub code: u32,
    pub message: String,
}

/// A successful answer: its body.
#[derive(Debug, Clone)]
pub(crate) struct WebhookAnswer {
    pub body: String,
}

/// Splits Twilio's `#rc=…` connection overrides off a URL.
fn split_overrides(url: &str) -> (&str, u32) {
    match url.split_once('#') {
        None => (url, 0),
        Some((base, fragment)) => {
            let rc = fragment
                .split('&')
                .find_map(|kv| kv.strip_prefix("rc="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            (base, rc)
        }
    }
}

/// Sends `hook` once (with retries); records it on `call_sid`'s transcript.
async fn send(
    shared: &Shared,
    hook: &Webhook,
    call_sid: Option<&str>,
    token: &str,
) -> Result<WebhookAnswer, WebhookError> {
    let (delay, config_retries) = {
        let f = shared.faults();
        (f.config.webhook_delay_ms, f.config.webhook_retries)
    };
    let (base, rc) = split_overrides(&hook.url);
    let retries = rc.max(config_retries);
    let signed = Signed::new(shared, hook, base);
    let mut attempt = 0;
    loop {
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let tried = signed.attempt(shared, hook, token).await;
        if let Some(sid) = call_sid {
            shared.event(
                sid,
                CallEventKind::Webhook {
                    purpose: hook.purpose.clone(),
                    url: signed.url.clone(),
                    status: tried.status,
                    latency_ms: tried.latency_ms,
                },
            );
        }
        match tried.outcome {
            Ok(answer) => return Ok(answer),
            Err(error) if tried.retryable && attempt < retries => {
                attempt += 1;
                tracing::debug!(url = %signed.url, attempt, message = %error.message, "retrying webhook");
            }
            Err(error) => return Err(error),
        }
    }
}

/// The request as sent: its URL (a `GET`'s with the parameters) and its signature.
struct Signed {
    url: String,
    signature: String,
}

/// One attempt: its outcome, whether another may follow, the HTTP status and the latency.
struct Attempt {
    outcome: Result<WebhookAnswer, WebhookError>,
    retryable: bool,
    status: Option<u16>,
    latency_ms: u64,
}

impl Signed {
    /// A `POST` signs its URL and parameters; a `GET` carries them in the URL it signs.
    fn new(shared: &Shared, hook: &Webhook, base: &str) -> Self {
        let (url, signed_params) = if hook.method == "GET" {
            let mut url = base.to_owned();
            if !hook.params.is_empty() {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&serde_urlencoded::to_string(&hook.params).unwrap_or_default());
            }
            (url, Vec::new())
        } else {
            (base.to_owned(), hook.params.clone())
        };
        let signature =
            telephony::compute_signature(shared.settings.auth_token.expose(), &url, &signed_params);
        Self { url, signature }
    }

    async fn attempt(&self, shared: &Shared, hook: &Webhook, token: &str) -> Attempt {
        let request = if hook.method == "GET" {
            shared.http.get(&self.url)
        } else {
            shared.http.post(&self.url).form(&hook.params)
        };
        let request = request
            .timeout(WEBHOOK_TIMEOUT)
            .header("X-Twilio-Signature", &self.signature)
            .header("I-Twilio-Idempotency-Token", token)
            .header("User-Agent", "TwilioProxy/1.1");
        let sent_at = std::time::Instant::now();
        let result = request.send().await;
        let latency_ms = sent_at.elapsed().as_millis() as u64;
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                let code = if e.is_timeout() { 11205 } else { 11200 };
                let message = format!("HTTP connection failure: {}: {e}", self.url);
                return Attempt {
                    outcome: Err(WebhookError { code, message }),
                    retryable: true,
                    status: None,
                    latency_ms,
                };
            }
        };
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        let outcome = if (200..300).contains(&status) {
            Ok(WebhookAnswer { body })
        } else {
            Err(WebhookError {
                code: 11200,
                message: format!("HTTP retrieval failure: {} answered {status}", self.url),
            })
        };
        Attempt {
            retryable: outcome.is_err() && status >= 500,
            outcome,
            status: Some(status),
            latency_ms,
        }
    }
}

/// Fetches TwiML: the answer's body, or the error Twilio would log (11200 / 11205).
pub(crate) async fn fetch(
    shared: &Shared,
    hook: Webhook,
    call_sid: Option<&str>,
) -> Result<String, WebhookError> {
    let token = new_sid("ID");
    send(shared, &hook, call_sid, &token).await.map(|a| a.body)
}

/// Posts a callback (status, AMD, stream, conference…). Failures are logged as
/// notifications (code 11200/11205) and otherwise ignored, as Twilio does.
pub(crate) async fn send_callback(shared: &Shared, hook: Webhook, call_sid: Option<&str>) {
    let token = new_sid("ID");
    let duplicate = shared.faults().duplicate_webhook();
    for _ in 0..(1 + usize::from(duplicate)) {
        if let Err(e) = send(shared, &hook, call_sid, &token).await {
            shared.notify_error(call_sid, e.code, e.message, Some(&hook.url));
        }
    }
}

/// Posts a callback in the background, so a slow receiver does not hold up the call.
pub(crate) fn spawn_callback(shared: &Shared, hook: Webhook, call_sid: Option<&str>) {
    let shared = shared.clone();
    let call_sid = call_sid.map(str::to_owned);
    tokio::spawn(async move { send_callback(&shared, hook, call_sid.as_deref()).await });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_override_is_split_off() {
        assert_eq!(
            split_overrides("https://a.b/c?x=1#rc=3&rp=all"),
            ("https://a.b/c?x=1", 3)
        );
        assert_eq!(split_overrides("https://a.b/c"), ("https://a.b/c", 0));
    }
}
