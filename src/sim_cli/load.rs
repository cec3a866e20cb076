//! `switchboard sim load`: a bounded number of concurrent calls through the simulator, with a
//! progress bar, then a summary: how the calls ended, webhook and voice-to-voice latency, the
//! peak number of concurrent calls, and the CPU and memory of this process and the product's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use sim::person::PersonScript;
use sim::{CallEvent, CallEventKind, CallStatus};
use tokio::task::JoinHandle;

use super::args::LoadArgs;
use super::client::Control;
use super::percentiles::{percentile_line, percentile_values, percentiles};
use super::procstat::{own_cpu_seconds, process_cpu_seconds, process_memory};

/// The load's caller: the first line 500 ms after answering (no waiting for a greeting: the
/// load shape is the same whatever the agent says first), each further line after the agent
/// went quiet, then on the line for `duration_secs` and hang up.
pub fn load_script(lines: &[String], duration_secs: u64) -> PersonScript {
    let mut person = PersonScript::human().pause(500);
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            person = person.wait_quiet();
        }
        person = person.say(line);
    }
    person
        .pause(u32::try_from(duration_secs.saturating_mul(1000)).unwrap_or(u32::MAX))
        .hang_up()
}

/// What one call of a load run measured.
#[derive(Debug, Default)]
pub struct CallOutcome {
    /// The final status; `None` when the call could not be placed or followed.
    pub status: Option<CallStatus>,
    pub answered: bool,
    pub webhook_ms: Vec<u64>,
    pub first_audio_ms: Option<u64>,
    /// Voice-to-voice latency of each answered caller turn.
    pub v2v_ms: Vec<u64>,
    pub unanswered: usize,
    pub overlapped: usize,
    pub error: Option<String>,
}

impl CallOutcome {
    /// Caller turns measured (answered, unanswered or talked over).
    pub fn turns(&self) -> usize {
        self.v2v_ms.len() + self.unanswered + self.overlapped
    }
}

/// What a call's events tell.
pub fn outcome_of(status: CallStatus, events: &[CallEvent]) -> CallOutcome {
    let mut outcome = CallOutcome {
        status: Some(status),
        ..CallOutcome::default()
    };
    let mut stream_started = None;
    for event in events {
        match &event.kind {
            CallEventKind::Status {
                status: CallStatus::InProgress,
            } => outcome.answered = true,
            CallEventKind::Webhook { latency_ms, .. } => outcome.webhook_ms.push(*latency_ms),
            CallEventKind::Stream { event: e, .. } if e == "started" => {
                stream_started.get_or_insert(event.at_ms);
            }
            CallEventKind::StreamAudio { ms } => {
                if let (Some(start), None) = (stream_started, outcome.first_audio_ms) {
                    // The event is logged when a stretch of audio ends.
                    outcome.first_audio_ms =
                        Some(event.at_ms.saturating_sub(*ms).saturating_sub(start));
                }
            }
            CallEventKind::AgentAnswered { after_ms, .. } => outcome.v2v_ms.push(*after_ms),
            CallEventKind::TurnUnanswered { .. } => outcome.unanswered += 1,
            CallEventKind::TurnOverlapped { .. } => outcome.overlapped += 1,
            CallEventKind::Error { code, message } => {
                outcome.error.get_or_insert(format!("{code}: {message}"));
            }
            _ => {}
        }
    }
    outcome
}

pub async fn load(args: LoadArgs) -> Result<()> {
    if args.calls == 0 || args.concurrency == 0 {
        bail!("--calls and --concurrency must be at least 1");
    }
    let control = Arc::new(Control::new(&args.sim)?);
    let progress = indicatif::ProgressBar::new(args.calls as u64);
    progress.set_style(indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} calls ended  {msg}",
    )?);
    let cpu_before = own_cpu_seconds();
    let product = ProductWatch::start(args.product_pid);
    let concurrent = Arc::new(Concurrency::default());
    let started = std::time::Instant::now();
    let outcomes = place_all(&args, control, &progress, &concurrent).await?;
    progress.finish_and_clear();
    let wall = started.elapsed();
    let (product_cpu, memory) = product.finish();
    let run = RunMeasures {
        wall,
        cpu: own_cpu_seconds() - cpu_before,
        product_cpu,
        memory,
        peak_concurrent: concurrent.peak.load(Ordering::Relaxed),
    };
    print_summary(&args, &outcomes, &run);
    Ok(())
}

/// Places every call, at most `concurrency` at a time; their outcomes in the order they ended.
async fn place_all(
    args: &LoadArgs,
    control: Arc<Control>,
    progress: &indicatif::ProgressBar,
    concurrent: &Arc<Concurrency>,
) -> Result<Vec<CallOutcome>> {
    let person = load_script(&args.say, args.duration);
    let permits = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let ramp_start = tokio::time::Instant::now();
    let ramp = Duration::from_secs_f64(args.ramp_secs.max(0.0));
    let ramped = args.calls.min(args.concurrency).max(1) as u32;
    for i in 0..args.calls {
        if i < args.concurrency {
            tokio::time::sleep_until(ramp_start + ramp * i as u32 / ramped).await;
        }
        let permit = permits.clone().acquire_owned().await?;
        let call = LoadCall {
            control: control.clone(),
            from: format!("+1415555{:04}", i % 10_000),
            to: args.to.clone(),
            person: person.clone(),
            timeout: Duration::from_secs(args.duration + 120),
            concurrent: concurrent.clone(),
        };
        let progress = progress.clone();
        tasks.spawn(async move {
            let outcome = call.run().await;
            drop(permit);
            progress.inc(1);
            outcome
        });
    }
    let mut outcomes = Vec::with_capacity(args.calls);
    while let Some(outcome) = tasks.join_next().await {
        outcomes.push(outcome?);
    }
    Ok(outcomes)
}

/// One call of the load.
struct LoadCall {
    control: Arc<Control>,
    from: String,
    to: String,
    person: PersonScript,
    timeout: Duration,
    concurrent: Arc<Concurrency>,
}

impl LoadCall {
    /// Places the call and follows it to its end, counting it as concurrent while it is in
    /// progress.
    async fn run(self) -> CallOutcome {
        let result = async {
            let sid = self
                .control
                .place(&self.from, &self.to, &self.person)
                .await?;
            let mut in_progress = false;
            let followed = self
                .control
                .follow(&sid, self.timeout, |event| {
                    let answered = matches!(
                        event.kind,
                        CallEventKind::Status {
                            status: CallStatus::InProgress
                        }
                    );
                    if answered && !in_progress {
                        in_progress = true;
                        self.concurrent.start();
                    }
                })
                .await;
            if in_progress {
                self.concurrent.end();
            }
            let (status, events) = followed?;
            anyhow::Ok(outcome_of(status, &events))
        }
        .await;
        result.unwrap_or_else(|e| CallOutcome {
            error: Some(format!("{e:#}")),
            ..CallOutcome::default()
        })
    }
}

/// The product's CPU time and memory over the run (with `--product-pid`): RSS sampled every
/// second.
struct ProductWatch {
    pid: Option<String>,
    cpu_before: Option<f64>,
    memory_before: Option<super::procstat::ProcessMemory>,
    max_rss_kb: Arc<AtomicU64>,
    sampler: Option<JoinHandle<()>>,
}

impl ProductWatch {
    fn start(pid: Option<u32>) -> Self {
        let pid = pid.map(|pid| pid.to_string());
        let cpu_before = pid.as_deref().and_then(process_cpu_seconds);
        let memory_before = pid.as_deref().and_then(process_memory);
        let max_rss_kb = Arc::new(AtomicU64::new(memory_before.map_or(0, |m| m.rss_kb)));
        let sampler = pid.clone().map(|pid| {
            let max_rss_kb = max_rss_kb.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(1));
                loop {
                    every.tick().await;
                    if let Some(m) = process_memory(&pid) {
                        max_rss_kb.fetch_max(m.rss_kb, Ordering::Relaxed);
                    }
                }
            })
        });
        Self {
            pid,
            cpu_before,
            memory_before,
            max_rss_kb,
            sampler,
        }
    }

    /// The product's CPU seconds during the run and its memory report.
    fn finish(self) -> (Option<f64>, Option<MemoryReport>) {
        if let Some(sampler) = self.sampler {
            sampler.abort();
        }
        let pid = self.pid.as_deref();
        let cpu = pid
            .and_then(process_cpu_seconds)
            .zip(self.cpu_before)
            .map(|(after, before)| after - before);
        let memory_after = pid.and_then(process_memory);
        if let Some(m) = memory_after {
            self.max_rss_kb.fetch_max(m.rss_kb, Ordering::Relaxed);
        }
        let memory = self
            .memory_before
            .zip(memory_after)
            .map(|(before, after)| MemoryReport {
                rss_before_kb: before.rss_kb,
                max_rss_kb: self.max_rss_kb.load(Ordering::Relaxed),
                hwm_kb: after.hwm_kb,
            });
        (cpu, memory)
    }
}

/// Calls in progress (answered, not yet ended), as the load generator follows them.
#[derive(Debug, Default)]
struct Concurrency {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Concurrency {
    fn start(&self) {
        let now = self.now.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    fn end(&self) {
        self.now.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The product's memory over a load run, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MemoryReport {
    rss_before_kb: u64,
    /// Largest RSS seen (sampled every second, and at the start and end).
    max_rss_kb: u64,
    /// VmHWM at the end: the peak RSS since the process started.
    hwm_kb: u64,
}

impl MemoryReport {
    /// (max RSS during the run − RSS before) / peak concurrent calls, in MiB.
    fn per_call_mib(&self, peak_concurrent: usize) -> Option<f64> {
        (peak_concurrent > 0).then(|| {
            self.max_rss_kb.saturating_sub(self.rss_before_kb) as f64
                / 1024.0
                / peak_concurrent as f64
        })
    }
}

/// What a load run measured besides the calls' own events.
#[derive(Debug)]
struct RunMeasures {
    wall: Duration,
    /// CPU seconds of this load generator.
    cpu: f64,
    product_cpu: Option<f64>,
    memory: Option<MemoryReport>,
    peak_concurrent: usize,
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn print_summary(args: &LoadArgs, outcomes: &[CallOutcome], run: &RunMeasures) {
    println!();
    println!(
        "  {} calls, {} at a time ({}), {} s each, to {}: {:.1} s wall",
        args.calls,
        args.concurrency,
        if args.ramp_secs > 0.0 {
            format!("the first started over {} s", args.ramp_secs)
        } else {
            "started together".to_owned()
        },
        args.duration,
        args.to,
        run.wall.as_secs_f64()
    );
    print_calls(outcomes);
    print_latencies(outcomes);
    println!(
        "  peak concurrent calls {} (answered, not yet ended)",
        run.peak_concurrent
    );
    println!(
        "  this load generator used {:.2} CPU s ({:.3} per call)",
        run.cpu,
        run.cpu / outcomes.len().max(1) as f64
    );
    if let Some(pid) = args.product_pid {
        print_product(pid, outcomes.len(), run);
    }
    println!();
}

/// How the calls ended, with up to five distinct errors.
fn print_calls(outcomes: &[CallOutcome]) {
    let completed = outcomes
        .iter()
        .filter(|o| o.status == Some(CallStatus::Completed))
        .count();
    let answered = outcomes.iter().filter(|o| o.answered).count();
    println!("  answered   {answered}");
    println!("  completed  {completed}");
    println!("  failed     {}", outcomes.len() - completed);
    let mut errors: Vec<&str> = outcomes.iter().filter_map(|o| o.error.as_deref()).collect();
    errors.sort_unstable();
    errors.dedup();
    for error in errors.iter().take(5) {
        println!("    {error}");
    }
}

fn print_latencies(outcomes: &[CallOutcome]) {
    let webhook: Vec<u64> = outcomes
        .iter()
        .flat_map(|o| o.webhook_ms.iter().copied())
        .collect();
    let first_audio: Vec<u64> = outcomes.iter().filter_map(|o| o.first_audio_ms).collect();
    println!("  webhook latency     {}", percentiles(webhook));
    println!(
        "  first agent audio   {} (after the stream opened)",
        percentiles(first_audio)
    );
    println!("  voice-to-voice      {}", voice_to_voice(outcomes));
}

/// The product's CPU and memory over the run.
fn print_product(pid: u32, calls: usize, run: &RunMeasures) {
    if let Some(product_cpu) = run.product_cpu {
        println!(
            "  process {pid} used {product_cpu:.2} CPU s ({:.3} per call, {:.2} cores on average)",
            product_cpu / calls.max(1) as f64,
            product_cpu / run.wall.as_secs_f64().max(0.001)
        );
    }
    let Some(m) = run.memory else { return };
    println!(
        "  process {pid} RSS {} before, max {} during the run (sampled every 1 s), VmHWM {} (peak since it started)",
        mib(m.rss_before_kb),
        mib(m.max_rss_kb),
        mib(m.hwm_kb)
    );
    match m.per_call_mib(run.peak_concurrent) {
        Some(per_call) => println!(
            "  memory per concurrent call {per_call:.2} MiB ((max RSS − RSS before) / {} calls)",
            run.peak_concurrent
        ),
        None => println!("  memory per concurrent call n/a (no call was in progress)"),
    }
}

/// `p50 … p90 … p99 … (n turns, m unanswered, k over agent speech)` over every caller turn.
fn voice_to_voice(outcomes: &[CallOutcome]) -> String {
    let latencies: Vec<u64> = outcomes
        .iter()
        .flat_map(|o| o.v2v_ms.iter().copied())
        .collect();
    let turns: usize = outcomes.iter().map(CallOutcome::turns).sum();
    let unanswered: usize = outcomes.iter().map(|o| o.unanswered).sum();
    let overlapped: usize = outcomes.iter().map(|o| o.overlapped).sum();
    let counts =
        format!("({turns} turns, {unanswered} unanswered, {overlapped} over agent speech)");
    match percentile_values(latencies) {
        None => format!("n/a {counts}"),
        Some(p) => format!("{}  {counts}", percentile_line(p)),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An event at `seq` × 100 ms.
    pub(in crate::sim_cli) fn event(seq: usize, kind: CallEventKind) -> CallEvent {
        CallEvent {
            seq,
            at_ms: seq as u64 * 100,
            kind,
        }
    }

    #[test]
    fn voice_to_voice_counts_every_turn() {
        let events = [
            event(
                0,
                CallEventKind::Status {
                    status: CallStatus::InProgress,
                },
            ),
            event(1, CallEventKind::TurnOverlapped { turn: 1 }),
            event(
                2,
                CallEventKind::AgentAnswered {
                    turn: 2,
                    after_ms: 900,
                },
            ),
            event(3, CallEventKind::TurnUnanswered { turn: 3 }),
        ];
        let a = outcome_of(CallStatus::Completed, &events);
        assert!(a.answered);
        assert_eq!(
            (a.v2v_ms.clone(), a.unanswered, a.overlapped, a.turns()),
            (vec![900], 1, 1, 3)
        );
        let b = outcome_of(
            CallStatus::Completed,
            &[
                event(
                    0,
                    CallEventKind::AgentAnswered {
                        turn: 1,
                        after_ms: 700,
                    },
                ),
                event(
                    1,
                    CallEventKind::AgentAnswered {
                        turn: 2,
                        after_ms: 800,
                    },
                ),
            ],
        );
        assert!(!b.answered);
        assert_eq!(
            voice_to_voice(&[a, b]),
            "p50 800 ms  p90 900 ms  p99 900 ms  (5 turns, 1 unanswered, 1 over agent speech)"
        );
        assert_eq!(
            voice_to_voice(&[]),
            "n/a (0 turns, 0 unanswered, 0 over agent speech)"
        );
    }

    #[test]
    fn first_agent_audio_counts_from_the_stream_start() {
        let events = [
            event(
                1,
                CallEventKind::Stream {
                    event: "started".into(),
                    detail: String::new(),
                },
            ),
            // A 300 ms stretch that ended at 1 s: it began 600 ms after the stream opened.
            CallEvent {
                seq: 2,
                at_ms: 1000,
                kind: CallEventKind::StreamAudio { ms: 300 },
            },
            event(
                3,
                CallEventKind::Error {
                    code: 11200,
                    message: "boom".into(),
                },
            ),
        ];
        let o = outcome_of(CallStatus::Completed, &events);
        assert_eq!(o.first_audio_ms, Some(600));
        assert_eq!(o.error.as_deref(), Some("11200: boom"));
    }

    #[test]
    fn memory_per_concurrent_call() {
        let m = MemoryReport {
            rss_before_kb: 100 * 1024,
            max_rss_kb: 160 * 1024,
            hwm_kb: 170 * 1024,
        };
        assert_eq!(m.per_call_mib(12), Some(5.0));
        assert_eq!(m.per_call_mib(0), None);
        assert_eq!(mib(1536), "1.5 MiB");
    }

    #[test]
    fn concurrency_keeps_its_peak() {
        let c = Concurrency::default();
        c.start();
        c.start();
        c.end();
        c.start();
        c.end();
        c.end();
        assert_eq!(c.peak.load(Ordering::Relaxed), 2);
        assert_eq!(c.now.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_load_caller_says_each_line_after_the_agent_went_quiet() {
        let one = load_script(&["hi".into()], 10);
        assert_eq!(
            one,
            PersonScript::human()
                .pause(500)
                .say("hi")
                .pause(10_000)
                .hang_up()
        );
        let three = load_script(&["a".into(), "b".into(), "c".into()], 5);
        assert_eq!(
            three,
            PersonScript::human()
                .pause(500)
                .say("a")
                .wait_quiet()
                .say("b")
                .wait_quiet()
                .say("c")
                .pause(5000)
                .hang_up()
        );
    }
}
