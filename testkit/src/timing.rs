//! When a fake model did its own work, for benchmarks that take the model's time out of what
//! they measure (a zero-latency fake still waits for the caller's silence before it answers).

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One piece of a fake's own work: from what it had to hear (the caller's last voiced audio, a
/// request) to its first answer going out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpan {
    pub heard: Instant,
    pub answered: Instant,
}

impl ModelSpan {
    pub fn took(&self) -> std::time::Duration {
        self.answered.saturating_duration_since(self.heard)
    }
}

/// The spans a fake recorded, shared by its connections; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ModelSpans(Arc<Mutex<Vec<ModelSpan>>>);

impl ModelSpans {
    /// Records a span that ends now.
    pub fn answered_now(&self, heard: Instant) {
        let span = ModelSpan {
            heard,
            answered: Instant::now(),
        };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(span);
    }

    /// Every span so far, in the order they ended.
    pub fn all(&self) -> Vec<ModelSpan> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
