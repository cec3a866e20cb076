//! Prometheus metrics, exposed at `/metrics`, and [`time_webhook`], the middleware that
//! records every webhook's latency.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use std::{sync::Arc, time::Instant};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    pub webhook: &'static str,
}

pub struct Metrics {
    registry: Registry,
    /// Seconds from a Twilio webhook arriving to our answer, per webhook.
    pub webhook_latency: Family<WebhookLabels, Histogram>,
    /// Call workflows started by this node (duplicate webhooks not counted).
    pub workflows_started: Counter,
    /// Calls this node started whose final status it has not yet seen.
    pub active_calls: Gauge,
    /// Media streams being bridged on this node.
    pub active_streams: Gauge,
    /// Media stream frames, by kind: `in`, `out`, `dropped` (engine behind), `malformed`.
    pub stream_frames: Family<FrameLabels, Counter>,
    /// Times a caller interrupted the agent.
    pub barge_ins: Counter,
    /// Requests refused by a tenant's rate limit, by route class (`read`, `write`).
    pub rate_limited: Family<ClassLabels, Counter>,
    /// Requests let through because the rate limiter (Redis) could not decide.
    pub rate_limiter_errors: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClassLabels {
    pub class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct FrameLabels {
    pub kind: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("switchboard");
        let webhook_latency = Family::<WebhookLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
        });
        let workflows_started = Counter::default();
        let active_calls = Gauge::default();
        let active_streams = Gauge::default();
        let stream_frames = Family::<FrameLabels, Counter>::default();
        let barge_ins = Counter::default();
        registry.register(
            "active_streams",
            "Media streams being bridged",
            active_streams.clone(),
        );
        registry.register(
            "stream_frames",
            "Media stream frames by kind",
            stream_frames.clone(),
        );
        registry.register(
            "barge_ins",
            "Callers interrupting the agent",
            barge_ins.clone(),
        );
        registry.register(
            "webhook_latency_seconds",
            "Twilio webhook handling latency",
            webhook_latency.clone(),
        );
        registry.register(
            "workflows_started",
            "Call workflows started",
            workflows_started.clone(),
        );
        registry.register("active_calls", "Calls in progress", active_calls.clone());
        let rate_limited = Family::<ClassLabels, Counter>::default();
        let rate_limiter_errors = Counter::default();
        registry.register(
            "rate_limited",
            "Requests refused by a tenant rate limit",
            rate_limited.clone(),
        );
        registry.register(
            "rate_limiter_errors",
            "Requests let through because the rate limiter was unavailable",
            rate_limiter_errors.clone(),
        );
        Self {
            registry,
            webhook_latency,
            workflows_started,
            active_calls,
            active_streams,
            stream_frames,
            barge_ins,
            rate_limited,
            rate_limiter_errors,
        }
    }

    pub fn record_rate_limited(&self, class: &'static str) {
        self.rate_limited
            .get_or_create(&ClassLabels { class })
            .inc();
    }

    /// Adds one finished stream's counters.
    pub fn record_bridge(&self, report: &voice::bridge::BridgeReport) {
        for (kind, n) in [
            ("in", report.frames_in),
            ("out", report.frames_out),
            ("dropped", report.frames_dropped),
            ("malformed", report.malformed_frames),
        ] {
            self.stream_frames
                .get_or_create(&FrameLabels { kind })
                .inc_by(n);
        }
        self.barge_ins.inc_by(report.barge_ins);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// The state of [`time_webhook`]: which webhook a route is, and where to record it.
#[derive(Clone)]
pub struct WebhookTimer {
    pub metrics: Arc<Metrics>,
    pub webhook: &'static str,
}

/// Middleware (`axum::middleware::from_fn_with_state`): observes
/// [`Metrics::webhook_latency`] for every answer of the webhook — TwiML, 204, and errors
/// (403, 400, 500) alike — from the request arriving to the response leaving the handler.
pub async fn time_webhook(
    State(timer): State<WebhookTimer>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    timer
        .metrics
        .webhook_latency
        .get_or_create(&WebhookLabels {
            webhook: timer.webhook,
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{Router, body::Body, http::StatusCode, middleware, routing::post};
    use tower::ServiceExt;

    #[tokio::test]
    async fn every_answer_of_a_timed_webhook_is_observed_errors_included() {
        let metrics = Arc::new(Metrics::new());
        let timer = WebhookTimer {
            metrics: metrics.clone(),
            webhook: "status",
        };
        let app = Router::new().route(
            "/twilio/status",
            post(|body: String| async move {
                if body.is_empty() {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::NO_CONTENT
                }
            })
            .layer(middleware::from_fn_with_state(timer, time_webhook)),
        );
        for body in ["", "CallStatus=completed", ""] {
            let request = Request::post("/twilio/status")
                .body(Body::from(body))
                .unwrap();
            app.clone().oneshot(request).await.unwrap();
        }
        let rendered = metrics.render();
        assert!(
            rendered.contains("switchboard_webhook_latency_seconds_count{webhook=\"status\"} 3"),
            "{rendered}"
        );
    }
}
