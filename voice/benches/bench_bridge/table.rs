//! The printed table: a row per level, and the quantiles in it.

use super::driver::LevelResult;

pub(crate) fn print_row_header_once(print: bool) {
    if print {
        println!(
            "{:<8} {:>7} {:>6} {:>9} {:>9} {:>12} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>6} {:>9} {:>9} {:>9}",
            "target",
            "streams",
            "failed",
            "frames/s",
            "srv_cores",
            "streams/core",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "max_ms",
            "p50_1st_s",
            "p50_last_s",
            "sent",
            "received",
            "dropped",
            "marks",
            "µs/frame",
            "drv_cores",
            "oth_cores"
        );
    }
}

/// The `p` quantile of latencies in microseconds, in milliseconds (NaN when empty).
pub(crate) fn quantile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

pub(crate) fn sorted(samples: &[u32]) -> Vec<u32> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted
}

pub(crate) fn print_row(r: &LevelResult) {
    let all = sorted(&r.latencies_us);
    let pct = |p: f64| quantile_ms(&all, p);
    let streams_per_core = if r.server_cores > 0.0 {
        r.streams as f64 / r.server_cores
    } else {
        f64::INFINITY
    };
    println!(
        "{:<8} {:>7} {:>6} {:>9.0} {:>9.3} {:>12.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>10.2} {:>9} {:>9} {:>8} {:>6} {:>9.1} {:>9.3} {:>9.3}",
        if r.target.len() > 8 {
            "url"
        } else {
            r.target.as_str()
        },
        r.streams,
        r.failed,
        r.frames_per_s,
        r.server_cores,
        streams_per_core,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        quantile_ms(&sorted(&r.first_second_us), 0.5),
        quantile_ms(&sorted(&r.last_second_us), 0.5),
        r.sent,
        r.received,
        r.sent.saturating_sub(r.received),
        r.marks + r.clears,
        r.per_frame_us,
        r.driver_cores,
        r.other_cores,
    );
    let mut notes = Vec::new();
    if r.unmatched > 0 {
        notes.push(format!(
            "{} echoed frames did not match a sent sequence",
            r.unmatched
        ));
    }
    if r.clears > 0 {
        notes.push(format!("{} clear messages", r.clears));
    }
    if r.unclean > 0 {
        notes.push(format!(
            "{} streams not closed by the server after stop",
            r.unclean
        ));
    }
    if let Some(e) = &r.first_error {
        notes.push(format!("first client error: {e}"));
    }
    notes.push(format!("window {:.2} s", r.window_s));
    if r.target.len() > 8 {
        notes.push(r.target.clone());
    }
    println!("{:>16} ({})", "", notes.join("; "));
}

/// The headline: per target, the most streams per server core at which a level met the bar
/// (p99 ≤ 5 ms, nothing dropped, no stream failed).
pub(crate) fn print_headline(results: &[LevelResult], pinned: bool) {
    let mut targets: Vec<&str> = results.iter().map(|r| r.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    for target in targets {
        let passing = results.iter().filter(|r| {
            r.target == target
                && r.failed == 0
                && r.sent == r.received
                && quantile_ms(&sorted(&r.latencies_us), 0.99) <= 5.0
        });
        let best = passing.max_by(|a, b| a.streams.cmp(&b.streams));
        match best {
            Some(r) if r.server_cores.is_finite() => println!(
                "HEADLINE {target}: {:.0} streams per server core at p99 ≤ 5 ms with 0 dropped \
                 ({} streams on {:.3} cores, p99 {:.2} ms{})",
                r.streams as f64 / r.server_cores,
                r.streams,
                r.server_cores,
                quantile_ms(&sorted(&r.latencies_us), 0.99),
                // Only our bridge's child is pinned; a --url server runs where it runs.
                if pinned && target == "bridge" {
                    ", server pinned to one CPU"
                } else {
                    ""
                }
            ),
            Some(r) => println!(
                "HEADLINE {target}: {} streams at p99 ≤ 5 ms with 0 dropped (its CPU unknown: give --url URL@PID)",
                r.streams
            ),
            None => println!("HEADLINE {target}: no level met p99 ≤ 5 ms with 0 dropped"),
        }
    }
    println!();
}
