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
    /// Media streams being bridged on this node.
    pub active_streams: Gauge,
    /// Media stream frames, by kind: `in`, `out`, `dropped` (engine behind), `malformed`.
    pub stream_frames: Family<FrameLabels, Counter>,
    /// Times a caller interrupted the agent.
    pub barge_ins: Counter,
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
        Self {
            registry,
            webhook_latency,
            workflows_started,
            active_calls,
            active_streams,
            stream_frames,
            barge_ins,
        }
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
