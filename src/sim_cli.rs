//! `switchboard sim …`: the Twilio simulator from the command line.
//!
//! - `serve`: run the simulator (Twilio's REST API, signed webhooks, TwiML, simulated phones).
//! - `call`: place a call from a simulated person through a running simulator and print the
//!   conversation as it happens; `--record` saves what the person heard.
//! - `load`: a bounded number of concurrent calls, with a progress bar and a summary.
//!
//! `call` and `load` talk to the simulator's `/_sim/` control API, so they work against the
//! simulator `switchboard dev` runs in-process as well as against `switchboard sim serve`.

use crate::config::Settings;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde::Deserialize;
use sim::{
    CallEvent, CallEventKind, FaultConfig, RestFailure, Sim, SimConfig, person::PersonScript,
};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

/// Where `switchboard dev` and `sim serve` listen unless told otherwise.
pub const DEFAULT_SIM_BIND: &str = "127.0.0.1:8089";
const DEFAULT_SIM_URL: &str = "http://127.0.0.1:8089";
const DEFAULT_CALLER: &str = "+14155550123";

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Run the Twilio simulator.
    Serve(ServeArgs),
    /// Call a number through a running simulator and print the conversation.
    Call(CallArgs),
    /// Place many calls through a running simulator and summarise how they went.
    Load(LoadArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the simulator listens.
    #[arg(long, env = "SIM_BIND", default_value = DEFAULT_SIM_BIND)]
    pub bind: SocketAddr,
    /// A number the simulated account owns; calls to it go to PUBLIC_URL/twilio/voice.
    #[arg(long = "number", default_value = crate::dev::DEMO_NUMBER)]
    pub numbers: Vec<String>,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Faults the simulator injects, as Twilio produces them in production.
#[derive(Debug, Clone, Args)]
pub struct FaultArgs {
    /// Fraction of REST requests that fail: 429, 500 or a timeout, in equal parts.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// How long a timed-out REST request is held (it still takes effect, as at Twilio).
    #[arg(long, default_value_t = 20_000)]
    pub timeout_hold_ms: u64,
    /// Delay before every webhook.
    #[arg(long, default_value_t = 0)]
    pub webhook_delay_ms: u64,
    /// Cut every media stream after this long.
    #[arg(long)]
    pub drop_stream_after_ms: Option<u64>,
    /// Seed of the fault RNG (same seed, same faults).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl FaultArgs {
    pub fn config(&self) -> FaultConfig {
        FaultConfig {
            seed: self.seed,
            rest_failure_rate: self.fail_rate.clamp(0.0, 1.0),
            rest_failure_kinds: vec![
                RestFailure::TooManyRequests,
                RestFailure::ServerError,
                RestFailure::Timeout,
            ],
            timeout_hold_ms: self.timeout_hold_ms,
            webhook_delay_ms: self.webhook_delay_ms,
            drop_stream_after_ms: self.drop_stream_after_ms,
            ..FaultConfig::default()
        }
    }
}

/// The simulator's configuration for this deployment: the account and auth token the product
/// uses (so its webhooks validate), and `numbers` routed to the product's webhooks.
pub fn sim_config(
    settings: &Settings,
    bind: SocketAddr,
    numbers: &[String],
    faults: FaultConfig,
) -> SimConfig {
    let voice_url = format!(
        "{}/twilio/voice",
        settings.public_url.as_str().trim_end_matches('/')
    );
    let status_url = format!(
        "{}/twilio/status",
        settings.public_url.as_str().trim_end_matches('/')
    );
    SimConfig {
        bind,
        account_sid: settings.twilio_account_sid.clone(),
        auth_token: settings.twilio_auth_token.expose().clone(),
        api_keys: settings
            .twilio_api_key
            .iter()
            .map(|(sid, secret)| (sid.clone(), secret.expose().clone()))
            .collect(),
        numbers: numbers
            .iter()
            .map(|n| (n.clone(), voice_url.clone(), Some(status_url.clone())))
            .collect(),
        faults,
        public_base_url: None,
    }
}

pub async fn run(settings: Settings, command: SimCommand) -> Result<()> {
    match command {
        SimCommand::Serve(args) => serve(settings, args).await,
        SimCommand::Call(args) => call(args).await,
        SimCommand::Load(args) => load(args).await,
    }
}

async fn serve(settings: Settings, args: ServeArgs) -> Result<()> {
    let config = sim_config(&settings, args.bind, &args.numbers, args.faults.config());
    let sim = Sim::start(config).await.context("starting the simulator")?;
    println!();
    println!("  Twilio simulator  {}", sim.base_url());
    println!("  Numbers           {}", args.numbers.join(", "));
    println!(
        "  Point the product at it: TWILIO_API_BASE={}",
        sim.base_url()
    );
    println!();
    crate::app::shutdown_signal().await;
    sim.shutdown().await;
    Ok(())
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The simulator's URL.
    #[arg(long, env = "SIM_URL", default_value = DEFAULT_SIM_URL)]
    pub sim: String,
    /// The number to call (one of the simulated account's numbers).
    #[arg(long, default_value = crate::dev::DEMO_NUMBER)]
    pub to: String,
    /// The caller's number.
    #[arg(long, default_value = DEFAULT_CALLER)]
    pub from: String,
    /// Something the caller says, after the agent has finished talking (repeatable).
    #[arg(long)]
    pub say: Vec<String>,
    /// Keys the caller presses after speaking.
    #[arg(long)]
    pub digits: Option<String>,
    /// Save what the caller heard as a WAV file.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Give up waiting for the call to end after this many seconds.
    #[arg(long, default_value_t = 180)]
    pub timeout_secs: u64,
    /// The product's API, to print what the agent said as text after the call (the caller only
    /// hears audio). `switchboard dev` listens here by default.
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// An API key of the called number's tenant; default: the demo key `switchboard dev` keeps
    /// in `.data/demo-api-key`.
    #[arg(long, env = "SWITCHBOARD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// A caller who waits for the agent to finish, says each line in turn, presses the digits,
/// waits for the answer and hangs up.
fn caller_script(lines: &[String], digits: Option<&str>) -> PersonScript {
    let mut person = PersonScript::human();
    for line in lines {
        person = person.wait_quiet().say(line);
    }
    if let Some(digits) = digits {
        person = person.wait_quiet().digits(digits);
    }
    person.wait_quiet().hang_up()
}

#[derive(Debug, Deserialize)]
struct Placed {
    sid: String,
}

#[derive(Debug, Deserialize)]
struct EventPage {
    events: Vec<CallEvent>,
    status: String,
    ended: bool,
    next: usize,
}

/// The simulator's control API.
struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    fn new(base: &str) -> Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(70))
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    async fn place(&self, from: &str, to: &str, person: &PersonScript) -> Result<String> {
        let response = self
            .http
            .post(format!("{}/_sim/calls", self.base))
            .json(&serde_json::json!({"from": from, "to": to, "person": person}))
            .send()
            .await
            .with_context(|| format!("no simulator answers at {}", self.base))?;
        if !response.status().is_success() {
            bail!(
                "the simulator refused the call: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response.json::<Placed>().await?.sid)
    }

    /// Events after `after`, waiting up to `wait` for new ones.
    async fn events(&self, sid: &str, after: usize, wait: Duration) -> Result<EventPage> {
        Ok(self
            .http
            .get(format!("{}/_sim/calls/{sid}/events", self.base))
            .query(&[
                ("after", after.to_string()),
                ("wait_ms", wait.as_millis().to_string()),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    async fn heard_wav(&self, sid: &str) -> Result<Vec<u8>> {
        Ok(self
            .http
            .get(format!("{}/_sim/calls/{sid}/heard.wav", self.base))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?
            .to_vec())
    }

    /// Follows the call to its end, handing each event to `each`.
    async fn follow(
        &self,
        sid: &str,
        timeout: Duration,
        mut each: impl FnMut(&CallEvent),
    ) -> Result<(String, Vec<CallEvent>)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut after = 0;
        let mut all = Vec::new();
        loop {
            let page = self.events(sid, after, Duration::from_secs(5)).await?;
            for event in &page.events {
                each(event);
            }
            after = page.next;
            all.extend(page.events);
            if page.ended {
                return Ok((page.status, all));
            }
            if tokio::time::Instant::now() > deadline {
                bail!("call {sid} still not over after {timeout:?}");
            }
        }
    }
}

/// One line of the conversation, as a person would tell it; `None` for plumbing.
fn describe(event: &CallEvent) -> Option<String> {
    let line = match &event.kind {
        CallEventKind::Status { status } => format!("call {status}"),
        CallEventKind::AnsweredBy { answered_by } => format!("answered by {answered_by}"),
        CallEventKind::Webhook {
            purpose,
            status,
            latency_ms,
            ..
        } => format!(
            "webhook {purpose} → {} in {latency_ms} ms",
            status.map_or("no answer".to_owned(), |s| s.to_string())
        ),
        CallEventKind::CallSaid { text } => format!("agent: {text}"),
        CallEventKind::StreamAudio { ms } => {
            format!("agent: ({:.1} s of speech)", *ms as f64 / 1000.0)
        }
        CallEventKind::PersonSaid { text } => format!("caller: {text}"),
        CallEventKind::PersonPressed { digits } => format!("caller pressed {digits}"),
        CallEventKind::Stream { event, .. } => format!("media stream {event}"),
        CallEventKind::Error { code, message } => format!("error {code}: {message}"),
        CallEventKind::HungUp { by } => format!("hung up by {by}"),
        CallEventKind::AgentAnswered { turn, after_ms } => {
            format!("agent answered after {after_ms} ms (turn {turn})")
        }
        CallEventKind::TurnUnanswered { turn } => {
            format!("no answer to turn {turn} before the caller went on")
        }
        CallEventKind::TurnOverlapped { turn } => {
            format!("turn {turn}: the agent was still talking when the caller stopped")
        }
        _ => return None,
    };
    Some(line)
}

async fn call(args: CallArgs) -> Result<()> {
    let control = Control::new(&args.sim)?;
    let person = caller_script(&args.say, args.digits.as_deref());
    let sid = control.place(&args.from, &args.to, &person).await?;
    println!("calling {} from {} ({sid})", args.to, args.from);
    let (status, events) = control
        .follow(&sid, Duration::from_secs(args.timeout_secs), |event| {
            if let Some(line) = describe(event) {
                println!("[{:>6.1}s] {line}", event.at_ms as f64 / 1000.0);
            }
        })
        .await?;
    println!("call ended: {status}");
    let turns = outcome_of(status.clone(), &events);
    if turns.turns() > 0 {
        println!(
            "voice-to-voice: {} ({} turns, {} unanswered, {} over agent speech)",
            turns
                .v2v_ms
                .iter()
                .map(|ms| format!("{ms} ms"))
                .collect::<Vec<_>>()
                .join(", "),
            turns.turns(),
            turns.unanswered,
            turns.overlapped
        );
    }
    print_conversation(&args, &sid).await;
    if let Some(path) = &args.record {
        let wav = control.heard_wav(&sid).await?;
        std::fs::write(path, wav).with_context(|| format!("writing {}", path.display()))?;
        println!("what the caller heard: {}", path.display());
    }
    Ok(())
}

/// The call's transcript as the product recorded it (`GET /v1/calls/{sid}`): what the agent
/// said in words, which the simulated phone only hears as audio.
async fn print_conversation(args: &CallArgs, sid: &str) {
    let key = args.api_key.clone().or_else(|| {
        let data_dir = std::env::var("SWITCHBOARD_DATA_DIR").unwrap_or_else(|_| ".data".into());
        std::fs::read_to_string(PathBuf::from(data_dir).join("demo-api-key"))
            .ok()
            .map(|k| k.trim().to_owned())
    });
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        println!("(pass --api-key to read what the agent said as text)");
        return;
    };
    match fetch_transcript(&args.api, &key, sid).await {
        Ok(lines) if lines.is_empty() => println!("(the product recorded no transcript)"),
        Ok(lines) => {
            println!("conversation (the product's transcript):");
            for line in lines {
                println!("  {line}");
            }
        }
        Err(e) => println!("(no transcript from {}: {e:#})", args.api),
    }
}

#[derive(Debug, Deserialize)]
struct CallDetail {
    status: String,
    #[serde(default)]
    transcript: Vec<TranscriptLine>,
}

#[derive(Debug, Deserialize)]
struct TranscriptLine {
    speaker: String,
    text: String,
    start_ms: u64,
    #[serde(default)]
    interrupted: bool,
}

/// `[  4.1s] agent: …` lines; waits (up to 10 s) for the call's workflow to store the last
/// transcript batch, which it does as the call ends.
async fn fetch_transcript(api: &str, key: &str, sid: &str) -> Result<Vec<String>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let url = format!("{}/v1/calls/{sid}", api.trim_end_matches('/'));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = http.get(&url).bearer_auth(key).send().await?;
        let status = response.status();
        if status.is_success() {
            let call: CallDetail = response.json().await?;
            let finished = !matches!(
                call.status.as_str(),
                "queued" | "ringing" | "in-progress" | "initiated"
            );
            if finished || tokio::time::Instant::now() > deadline {
                return Ok(call
                    .transcript
                    .iter()
                    .map(|t| {
                        format!(
                            "[{:>6.1}s] {}: {}{}",
                            t.start_ms as f64 / 1000.0,
                            t.speaker,
                            t.text,
                            if t.interrupted { " (interrupted)" } else { "" }
                        )
                    })
                    .collect());
            }
        } else if status != reqwest::StatusCode::NOT_FOUND || tokio::time::Instant::now() > deadline
        {
            bail!("{url} answered {status}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The simulator's URL.
    #[arg(long, env = "SIM_URL", default_value = DEFAULT_SIM_URL)]
    pub sim: String,
    #[arg(long, default_value = crate::dev::DEMO_NUMBER)]
    pub to: String,
    /// How many calls in all.
    #[arg(long, default_value_t = 20)]
    pub calls: usize,
    /// How many at once.
    #[arg(long, default_value_t = 5)]
    pub concurrency: usize,
    /// How long each caller stays on the line, in seconds.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// What each caller says, 500 ms after answering. Repeat it for more turns: each further
    /// line is said once the agent has talked and gone quiet (`wait_quiet`).
    #[arg(long, default_value = "Hi, I would like to book a cleaning next week.")]
    pub say: Vec<String>,
    /// Also report the CPU time and memory (RSS) of this process (e.g. `switchboard dev`)
    /// during the run.
    #[arg(long)]
    pub product_pid: Option<u32>,
}

/// The load's caller: the first line 500 ms after answering (no waiting for a greeting: the
/// load shape is the same whatever the agent says first), each further line after the agent
/// went quiet, then on the line for `duration_secs` and hang up.
fn load_script(lines: &[String], duration_secs: u64) -> PersonScript {
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
struct CallOutcome {
    status: String,
    answered: bool,
    webhook_ms: Vec<u64>,
    first_audio_ms: Option<u64>,
    /// Voice-to-voice latency of each answered caller turn.
    v2v_ms: Vec<u64>,
    unanswered: usize,
    overlapped: usize,
    error: Option<String>,
}

impl CallOutcome {
    /// Caller turns measured (answered, unanswered or talked over).
    fn turns(&self) -> usize {
        self.v2v_ms.len() + self.unanswered + self.overlapped
    }
}

fn outcome_of(status: String, events: &[CallEvent]) -> CallOutcome {
    let mut outcome = CallOutcome {
        status,
        ..CallOutcome::default()
    };
    let mut stream_started = None;
    for event in events {
        match &event.kind {
            CallEventKind::Status { status } if status == "in-progress" => outcome.answered = true,
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

async fn load(args: LoadArgs) -> Result<()> {
    if args.calls == 0 || args.concurrency == 0 {
        bail!("--calls and --concurrency must be at least 1");
    }
    let control = Arc::new(Control::new(&args.sim)?);
    let person = load_script(&args.say, args.duration);
    let progress = indicatif::ProgressBar::new(args.calls as u64);
    progress.set_style(indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} calls ended  {msg}",
    )?);
    let cpu_before = own_cpu_seconds();
    let product = args.product_pid.map(|pid| pid.to_string());
    let product_before = product.as_deref().and_then(process_cpu_seconds);
    let memory_before = product.as_deref().and_then(process_memory);
    // RSS of the product every second during the run.
    let max_rss_kb = Arc::new(AtomicU64::new(memory_before.map_or(0, |m| m.rss_kb)));
    let sampler = product.clone().map(|pid| {
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
    let concurrent = Arc::new(Concurrency::default());
    let started = std::time::Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..args.calls {
        let permit = permits.clone().acquire_owned().await?;
        let (control, person, to, progress, concurrent) = (
            control.clone(),
            person.clone(),
            args.to.clone(),
            progress.clone(),
            concurrent.clone(),
        );
        let from = format!("+1415555{:04}", i % 10_000);
        let timeout = Duration::from_secs(args.duration + 120);
        tasks.spawn(async move {
            let result = async {
                let sid = control.place(&from, &to, &person).await?;
                let mut in_progress = false;
                let followed = control
                    .follow(&sid, timeout, |event| {
                        if !in_progress
                            && matches!(&event.kind, CallEventKind::Status { status } if status == "in-progress")
                        {
                            in_progress = true;
                            concurrent.start();
                        }
                    })
                    .await;
                if in_progress {
                    concurrent.end();
                }
                let (status, events) = followed?;
                anyhow::Ok(outcome_of(status, &events))
            }
            .await;
            drop(permit);
            progress.inc(1);
            result.unwrap_or_else(|e| CallOutcome {
                status: "error".into(),
                error: Some(format!("{e:#}")),
                ..CallOutcome::default()
            })
        });
    }
    let mut outcomes = Vec::with_capacity(args.calls);
    while let Some(outcome) = tasks.join_next().await {
        outcomes.push(outcome?);
    }
    progress.finish_and_clear();
    let wall = started.elapsed();
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    let product_cpu = product
        .as_deref()
        .and_then(process_cpu_seconds)
        .zip(product_before)
        .map(|(after, before)| after - before);
    let memory_after = product.as_deref().and_then(process_memory);
    if let Some(m) = memory_after {
        max_rss_kb.fetch_max(m.rss_kb, Ordering::Relaxed);
    }
    let memory = memory_before
        .zip(memory_after)
        .map(|(before, after)| MemoryReport {
            rss_before_kb: before.rss_kb,
            max_rss_kb: max_rss_kb.load(Ordering::Relaxed),
            hwm_kb: after.hwm_kb,
        });
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
    let RunMeasures {
        wall,
        cpu,
        product_cpu,
        memory,
        peak_concurrent,
    } = run;
    let (wall, cpu) = (*wall, *cpu);
    let count = |f: &dyn Fn(&CallOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let completed = count(&|o| o.status == "completed");
    println!();
    println!(
        "  {} calls, {} at a time, {} s each, to {}: {:.1} s wall",
        args.calls,
        args.concurrency,
        args.duration,
        args.to,
        wall.as_secs_f64()
    );
    println!("  answered   {}", count(&|o| o.answered));
    println!("  completed  {completed}");
    println!("  failed     {}", outcomes.len() - completed);
    let mut errors: Vec<&str> = outcomes.iter().filter_map(|o| o.error.as_deref()).collect();
    errors.sort_unstable();
    errors.dedup();
    for error in errors.iter().take(5) {
        println!("    {error}");
    }
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
    println!("  peak concurrent calls {peak_concurrent} (answered, not yet ended)");
    println!(
        "  this load generator used {cpu:.2} CPU s ({:.3} per call)",
        cpu / outcomes.len().max(1) as f64
    );
    if let (Some(product_cpu), Some(pid)) = (product_cpu, args.product_pid) {
        println!(
            "  process {pid} used {product_cpu:.2} CPU s ({:.3} per call, {:.2} cores on average)",
            product_cpu / outcomes.len().max(1) as f64,
            product_cpu / wall.as_secs_f64().max(0.001)
        );
    }
    if let (Some(m), Some(pid)) = (memory, args.product_pid) {
        println!(
            "  process {pid} RSS {} before, max {} during the run (sampled every 1 s), VmHWM {} (peak since it started)",
            mib(m.rss_before_kb),
            mib(m.max_rss_kb),
            mib(m.hwm_kb)
        );
        match m.per_call_mib(*peak_concurrent) {
            Some(per_call) => println!(
                "  memory per concurrent call {per_call:.2} MiB ((max RSS − RSS before) / {peak_concurrent} calls)"
            ),
            None => println!("  memory per concurrent call n/a (no call was in progress)"),
        }
    }
    println!();
}

fn percentiles(values: Vec<u64>) -> String {
    let n = values.len();
    match percentile_values(values) {
        None => "n/a".into(),
        Some(p) => format!("{}  (n={n})", percentile_line(p)),
    }
}

/// p50, p90 and p99 (nearest rank on the sorted values); `None` when there are none.
fn percentile_values(mut values: Vec<u64>) -> Option<(u64, u64, u64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some((at(0.5), at(0.9), at(0.99)))
}

fn percentile_line((p50, p90, p99): (u64, u64, u64)) -> String {
    format!("p50 {p50} ms  p90 {p90} ms  p99 {p99} ms")
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

/// A process's memory from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessMemory {
    /// `VmRSS`: resident now.
    pub rss_kb: u64,
    /// `VmHWM`: the largest RSS since the process started.
    pub hwm_kb: u64,
}

/// The memory of a process (`self` or a pid); `None` where /proc is unavailable.
pub fn process_memory(pid: &str) -> Option<ProcessMemory> {
    parse_process_memory(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

fn parse_process_memory(status: &str) -> Option<ProcessMemory> {
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(ProcessMemory {
        rss_kb: field("VmRSS:")?,
        hwm_kb: field("VmHWM:")?,
    })
}

/// CPU seconds (user + system) this process has used, from /proc; 0 where unavailable.
pub fn own_cpu_seconds() -> f64 {
    process_cpu_seconds("self").unwrap_or(0.0)
}

/// CPU seconds of a process (`self` or a pid) from `/proc/<pid>/stat`, at 100 ticks a second.
pub fn process_cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
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
    fn the_caller_waits_for_quiet_before_each_line() {
        let script = caller_script(&["hello".into(), "bye".into()], Some("1"));
        let json = script.to_json();
        assert!(
            json.contains("hello") && json.contains("bye") && json.contains("\"1\""),
            "{json}"
        );
    }

    #[test]
    fn own_cpu_is_readable() {
        assert!(process_cpu_seconds("self").is_some());
    }

    #[test]
    fn memory_from_proc_status() {
        let status =
            "Name:\tswitchboard\nVmPeak:\t  900000 kB\nVmHWM:\t  150000 kB\nVmRSS:\t  120000 kB\n";
        assert_eq!(
            parse_process_memory(status),
            Some(ProcessMemory {
                rss_kb: 120_000,
                hwm_kb: 150_000
            })
        );
        assert_eq!(parse_process_memory("Name: x\n"), None);
        let own = process_memory("self").unwrap();
        assert!(own.rss_kb > 0 && own.hwm_kb >= own.rss_kb, "{own:?}");
        let m = MemoryReport {
            rss_before_kb: 100 * 1024,
            max_rss_kb: 160 * 1024,
            hwm_kb: 170 * 1024,
        };
        assert_eq!(m.per_call_mib(12), Some(5.0));
        assert_eq!(m.per_call_mib(0), None);
    }

    fn event(seq: usize, kind: CallEventKind) -> CallEvent {
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
                    status: "in-progress".into(),
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
        let a = outcome_of("completed".into(), &events);
        assert_eq!(
            (a.v2v_ms.clone(), a.unanswered, a.overlapped, a.turns()),
            (vec![900], 1, 1, 3)
        );
        let b = outcome_of(
            "completed".into(),
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
        assert_eq!(
            voice_to_voice(&[a, b]),
            "p50 800 ms  p90 900 ms  p99 900 ms  (5 turns, 1 unanswered, 1 over agent speech)"
        );
        assert_eq!(
            voice_to_voice(&[]),
            "n/a (0 turns, 0 unanswered, 0 over agent speech)"
        );
        assert_eq!(
            describe(&event(
                2,
                CallEventKind::AgentAnswered {
                    turn: 2,
                    after_ms: 900
                }
            ))
            .unwrap(),
            "agent answered after 900 ms (turn 2)"
        );
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

    #[test]
    fn load_args_keep_the_default_line_and_repeat_say() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            load: LoadArgs,
        }
        let default = Cli::parse_from(["load"]).load;
        assert_eq!(
            default.say,
            ["Hi, I would like to book a cleaning next week."]
        );
        let two = Cli::parse_from(["load", "--say", "one", "--say", "two"]).load;
        assert_eq!(two.say, ["one", "two"]);
    }
}
