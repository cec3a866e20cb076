//! Percentiles of latencies, as the load summary prints them.

/// `p50 … ms  p90 … ms  p99 … ms  (n=…)`, or `n/a` when there are no values.
pub fn percentiles(values: Vec<u64>) -> String {
    let n = values.len();
    match percentile_values(values) {
        None => "n/a".into(),
        Some(p) => format!("{}  (n={n})", percentile_line(p)),
    }
}

/// p50, p90 and p99 (nearest rank on the sorted values); `None` when there are none.
pub fn percentile_values(mut values: Vec<u64>) -> Option<(u64, u64, u64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some((at(0.5), at(0.9), at(0.99)))
}

/// `p50 … ms  p90 … ms  p99 … ms`.
pub fn percentile_line((p50, p90, p99): (u64, u64, u64)) -> String {
    format!("p50 {p50} ms  p90 {p90} ms  p99 {p99} ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_list() {
        assert_eq!(percentiles(vec![]), "n/a");
        assert_eq!(
            percentiles((1..=100).collect()),
            "p50 51 ms  p90 90 ms  p99 99 ms  (n=100)"
        );
    }

    #[test]
    fn nearest_rank_on_unsorted_values() {
        assert_eq!(percentile_values(vec![]), None);
        assert_eq!(percentile_values(vec![7]), Some((7, 7, 7)));
        assert_eq!(percentile_values(vec![30, 10, 20]), Some((20, 30, 30)));
        assert_eq!(
            percentile_values((0..=10).rev().collect()),
            Some((5, 9, 10))
        );
        assert_eq!(percentile_line((1, 2, 3)), "p50 1 ms  p90 2 ms  p99 3 ms");
    }
}
