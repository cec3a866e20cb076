//! Percentiles and the printed rows.

use std::time::Duration;

/// Sorted samples.
pub(crate) struct Samples(Vec<Duration>);

impl Samples {
    pub(crate) fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Self(samples)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The nearest-rank percentile; zero when there are no samples.
    pub(crate) fn at(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[index]
    }

    pub(crate) fn max(&self) -> Duration {
        self.0.last().copied().unwrap_or_default()
    }

    /// `p50 … p90 … p99 … max` in milliseconds with `decimals` places.
    pub(crate) fn line(&self, decimals: usize) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "n={:<5} p50={:>8.decimals$} ms  p90={:>8.decimals$} ms  p99={:>8.decimals$} ms  max={:>8.decimals$} ms",
            self.len(),
            ms(self.at(0.50)),
            ms(self.at(0.90)),
            ms(self.at(0.99)),
            ms(self.max()),
        )
    }
}

/// `a / b` at p50, p90 and p99.
pub(crate) fn ratios(a: &Samples, b: &Samples) -> String {
    let ratio = |p: f64| a.at(p).as_secs_f64() / b.at(p).as_secs_f64().max(f64::MIN_POSITIVE);
    format!(
        "p50 {:.3}×  p90 {:.3}×  p99 {:.3}×",
        ratio(0.50),
        ratio(0.90),
        ratio(0.99)
    )
}
