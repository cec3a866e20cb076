//! Prometheus metrics, exposed at `/metrics`.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

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
        Self {
            registry,
            webhook_latency,
            workflows_started,
            active_calls,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
