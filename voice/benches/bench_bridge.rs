//! How many Twilio media streams one server process bridges, with the echo engine, over loopback
//! WebSockets: latency caller frame → echoed agent frame, dropped frames, and server CPU.
//!
//!   scripts/bench-bridge.sh [--streams 50,200,500,1000] [--seconds 10]
//!   bench-bridge serve --addr 127.0.0.1:0        (the server half; prints its address first)
//!
//! The driver starts `bench-bridge serve` as a child process (one per stream count, so each level
//! starts fresh and its CPU is attributable), then opens N WebSocket clients that behave like
//! Twilio: `connected`, `start`, one 160-byte μ-law `media` frame every 20 ms for D seconds, a
//! drain pause, then `stop`. The server does per connection what `GET /twilio/media` does after
//! its database and Temporal lookups: `await_start`, start the engine, spawn a socket writer,
//! `run_bridge` with a `CallControl` that does nothing. It prints numbers; it asserts nothing.

// The API's Twilio framing, compiled here as is (it uses only `voice` and `telephony`), so the
// server half runs the production adapter without linking the API crate. Its unit tests are
// compiled out here but their `use` is not, hence the allow.
extern crate switchboard_voice as voice;
#[allow(unused_imports)]
#[path = "../../api/src/twilio_media.rs"]
pub mod twilio_media;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use domain::TranscriptSegment;
use domain::conversation::{ToolCallRequest, ToolCallResult, TurnReply, UserTurn};
use futures::{SinkExt, StreamExt};
use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write as _},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use switchboard_voice::{
    bridge::{CallControl, ControlError, TransportCommand, await_start, run_bridge},
    echo::EchoEngine,
    engine::{EngineCall, VoiceEngine},
};
use telephony::media_stream::{
    FRAME_BYTES, FRAME_MS, Inbound, InboundMedia, MediaFormat, Outbound, StartPayload, StopPayload,
    parse_outbound,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
    time::{Instant, MissedTickBehavior},
};
use tokio_tungstenite::tungstenite::Message;

/// As in the API's media handler.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// As in the API's media handler (about 2 s of audio).
const OUTBOUND_BUFFER: usize = 128;
/// Bytes of each payload that carry the frame's sequence number (big-endian u64).
const SEQ_BYTES: usize = 8;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("serve") {
        args.next();
        let mut addr: SocketAddr = "127.0.0.1:0".parse()?;
        let mut nodelay = false;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--addr" => addr = args.next().ok_or("--addr needs a value")?.parse()?,
                "--nodelay" => nodelay = true,
                other => return Err(format!("unknown serve argument {other:?}").into()),
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(serve(addr, nodelay));
    }
    let options = DriverOptions::parse(args)?;
    let runtime = if options.driver_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.driver_threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(drive(options))
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/// The call workflow, absent: signals succeed at once, Updates fail (echo never sends any).
struct NoWorkflow;

#[async_trait::async_trait]
impl CallControl for NoWorkflow {
    async fn stream_started(&self, _stream_sid: &str) -> Result<(), ControlError> {
        Ok(())
    }
    async fn transcript(&self, _segments: Vec<TranscriptSegment>) -> Result<(), ControlError> {
        Ok(())
    }
    async fn dtmf(&self, _digit: char) -> Result<(), ControlError> {
        Ok(())
    }
    async fn tool_call(&self, _request: ToolCallRequest) -> Result<ToolCallResult, ControlError> {
        Err(ControlError("bench-bridge has no call workflow".into()))
    }
    async fn user_turn(&self, _turn: UserTurn) -> Result<TurnReply, ControlError> {
        Err(ControlError("bench-bridge has no call workflow".into()))
    }
    async fn goodbye_played(&self) -> Result<(), ControlError> {
        Ok(())
    }
    async fn stream_stopped(&self) -> Result<(), ControlError> {
        Ok(())
    }
}

async fn serve(addr: SocketAddr, nodelay: bool) -> Result<(), BoxError> {
    let listener = TcpListener::bind(addr).await?;
    println!("{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    // The driver holds our stdin; when it goes away (even killed), so do we.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    loop {
        let (tcp, _) = listener.accept().await?;
        if nodelay {
            let _ = tcp.set_nodelay(true);
        }
        tokio::spawn(serve_stream(tcp));
    }
}

/// What `api::routes::media::serve_stream` does, minus the session/agent lookups and metrics.
async fn serve_stream(tcp: TcpStream) {
    let socket = match tokio_tungstenite::accept_async(tcp).await {
        Ok(socket) => socket,
        Err(e) => {
            eprintln!("bench-bridge serve: handshake failed: {e}");
            return;
        }
    };
    let (mut sink, stream) = socket.split();
    let mut inbound = Box::pin(stream.filter_map(|message| async move {
        match message {
            Ok(Message::Text(text)) => Some(Some(twilio_media::inbound_event(&text))),
            Ok(Message::Close(_)) | Err(_) => Some(None),
            Ok(_) => None,
        }
    }))
    .take_while(|m| std::future::ready(m.is_some()))
    .filter_map(std::future::ready);

    let Ok(start) = await_start(&mut inbound, START_TIMEOUT).await else {
        return;
    };
    let call = EngineCall {
        call_sid: start.call_sid.clone(),
        instructions: String::new(),
        greeting: String::new(),
        settings: serde_json::Value::Null,
        tools: Vec::new(),
    };
    let Ok(session) = EchoEngine.start(call).await else {
        return;
    };
    let (out_tx, mut out_rx) = mpsc::channel::<TransportCommand>(OUTBOUND_BUFFER);
    let stream_sid = start.stream_sid.clone();
    let writer = tokio::spawn(async move {
        while let Some(command) = out_rx.recv().await {
            let text = twilio_media::outbound_frame(&stream_sid, command);
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let _report = run_bridge(start, session, Arc::new(NoWorkflow), inbound, out_tx).await;
    let _ = writer.await;
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

struct DriverOptions {
    streams: Vec<usize>,
    seconds: u64,
    stagger: Duration,
    drain: Duration,
    driver_threads: usize,
    server_nodelay: bool,
}

impl DriverOptions {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, BoxError> {
        let mut o = DriverOptions {
            streams: vec![50, 200, 500, 1000],
            seconds: 10,
            stagger: Duration::from_millis(1000),
            drain: Duration::from_millis(1000),
            driver_threads: 1,
            server_nodelay: false,
        };
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--streams" => {
                    o.streams = value()?
                        .split(',')
                        .map(|n| n.trim().parse())
                        .collect::<Result<_, _>>()?
                }
                "--seconds" => o.seconds = value()?.parse()?,
                "--stagger-ms" => o.stagger = Duration::from_millis(value()?.parse()?),
                "--drain-ms" => o.drain = Duration::from_millis(value()?.parse()?),
                "--driver-threads" => o.driver_threads = value()?.parse()?,
                "--server-nodelay" => o.server_nodelay = true,
                // `cargo bench` appends it.
                "--bench" => {}
                "-h" | "--help" => {
                    println!(
                        "bench-bridge [--streams 50,200,500,1000] [--seconds 10] [--stagger-ms 1000] \
                         [--drain-ms 1000] [--driver-threads 1] [--server-nodelay]\n\
                         bench-bridge serve [--addr 127.0.0.1:0] [--nodelay]"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?} (try --help)").into()),
            }
        }
        if o.streams.is_empty() || o.streams.contains(&0) || o.seconds < 3 {
            return Err("--streams must be positive counts and --seconds at least 3".into());
        }
        Ok(o)
    }
}

/// Counters shared by all client tasks of one level, sampled at the steady-state window's edges.
#[derive(Default)]
struct Totals {
    sent: AtomicU64,
    received: AtomicU64,
}

/// What one client saw.
#[derive(Default)]
struct ClientResult {
    sent: u64,
    received: u64,
    /// Echoed frames whose sequence was unknown or already seen.
    unmatched: u64,
    marks: u64,
    clears: u64,
    latencies_us: Vec<u32>,
    /// Latencies of the stream's first and last second of frames.
    first_second_us: Vec<u32>,
    last_second_us: Vec<u32>,
    error: Option<String>,
    /// The server closed the socket after `stop` (the bridge ended cleanly).
    closed_cleanly: bool,
}

/// One level's numbers.
struct LevelResult {
    streams: usize,
    failed: usize,
    window_s: f64,
    frames_per_s: f64,
    server_cores: f64,
    driver_cores: f64,
    per_frame_us: f64,
    /// Machine CPU busy outside the server and the driver (other processes), in cores.
    other_cores: f64,
    latencies_us: Vec<u32>,
    first_second_us: Vec<u32>,
    last_second_us: Vec<u32>,
    sent: u64,
    received: u64,
    unmatched: u64,
    marks: u64,
    clears: u64,
    unclean: usize,
    first_error: Option<String>,
}

async fn drive(options: DriverOptions) -> Result<(), BoxError> {
    let clk_tck = clock_ticks_per_second();
    let max_streams = options.streams.iter().copied().max().unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "bench-bridge: N Twilio-like media streams → real bridge + echo engine, loopback WebSockets"
    );
    println!(
        "  {} s of 20 ms frames per stream, starts staggered over {} ms, {} ms drain before `stop`; \
         server: separate process, tokio multi-thread ({cores} workers){}",
        options.seconds,
        options.stagger.as_millis(),
        options.drain.as_millis(),
        if options.server_nodelay {
            ", TCP_NODELAY"
        } else {
            ", Nagle on like the API"
        },
    );
    println!(
        "  driver: same machine ({cores} cores), {} runtime; its CPU is shown as drv_cores and competes with the server",
        if options.driver_threads <= 1 {
            "current_thread".to_owned()
        } else {
            format!("{}-worker multi-thread", options.driver_threads)
        },
    );
    println!(
        "  CPU from /proc/<pid>/stat utime+stime, CLK_TCK = {} ({}), over the window where all streams are sending",
        clk_tck.0, clk_tck.1
    );
    match open_files_limit() {
        Some(limit) if limit < (2 * max_streams as u64 + 64) => println!(
            "  WARNING: open files limit is {limit}; {max_streams} streams need ~{} fds (client + server \
             sockets). Raise it (`ulimit -n 65536`) or expect connection failures.",
            2 * max_streams + 64
        ),
        Some(limit) => println!("  open files limit {limit} (enough for {max_streams} streams)"),
        None => println!("  (could not read the open files limit from /proc/self/limits)"),
    }
    println!();
    let mut results = Vec::new();
    for &n in &options.streams {
        let result = run_level(n, &options, clk_tck.0).await?;
        print_row_header_once(results.is_empty());
        print_row(&result);
        results.push(result);
    }
    println!();
    println!("summary");
    print_row_header_once(true);
    for r in &results {
        print_row(r);
    }
    println!();
    println!(
        "  frames/s: caller frames sent per second in the window (each is echoed as one agent frame)"
    );
    println!(
        "  srv_cores: server CPU seconds / window seconds; streams/core = streams / srv_cores"
    );
    println!(
        "  µs/frame: server CPU per caller frame in the window (parse in, engine, pace, encode out, both socket directions)"
    );
    println!(
        "  latency: caller frame handed to the socket → its echo read by the client, all frames of the level,"
    );
    println!(
        "           includes up to one 20 ms pacer tick by design (the bridge sends agent audio at real time)"
    );
    println!(
        "  p50_1st_s / p50_last_s: median latency of each stream's first / last second of frames (growth = backlog queued in the pacer)"
    );
    println!(
        "  dropped = sent − received after the drain; marks: mark + clear messages from the bridge (echo expects 0)"
    );
    println!(
        "  drv_cores: this driver's CPU; oth_cores: the rest of the machine (other processes) in the same window"
    );
    Ok(())
}

fn print_row_header_once(print: bool) {
    if print {
        println!(
            "{:>7} {:>6} {:>9} {:>9} {:>12} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>6} {:>9} {:>9} {:>9}",
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
fn quantile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

fn sorted(samples: &[u32]) -> Vec<u32> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted
}

fn print_row(r: &LevelResult) {
    let all = sorted(&r.latencies_us);
    let pct = |p: f64| quantile_ms(&all, p);
    let streams_per_core = if r.server_cores > 0.0 {
        r.streams as f64 / r.server_cores
    } else {
        f64::INFINITY
    };
    println!(
        "{:>7} {:>6} {:>9.0} {:>9.3} {:>12.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>10.2} {:>9} {:>9} {:>8} {:>6} {:>9.1} {:>9.3} {:>9.3}",
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
    println!("{:>7} ({})", "", notes.join("; "));
}

/// The server child; killed (by its own pid, through the handle) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn spawn(nodelay: bool) -> Result<Self, BoxError> {
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["serve", "--addr", "127.0.0.1:0"]);
        if nodelay {
            command.arg("--nodelay");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .parse()
            .map_err(|e| format!("server printed {line:?}, not an address: {e}"))?;
        Ok(Server { child, addr })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn run_level(
    n: usize,
    options: &DriverOptions,
    clk_tck: u64,
) -> Result<LevelResult, BoxError> {
    let server = Server::spawn(options.server_nodelay)?;
    let server_pid = server.child.id();
    let totals = Arc::new(Totals::default());
    let frames_per_stream = options.seconds * 1000 / FRAME_MS;
    let t0 = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let begin = t0 + options.stagger.mul_f64(i as f64 / n as f64);
        let (addr, totals, drain) = (server.addr, totals.clone(), options.drain);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(begin).await;
            run_client(i, addr, frames_per_stream, drain, &totals).await
        }));
    }

    // Steady state: every stream connected and sending (after the stagger plus a margin), until
    // the first stream stops sending (a margin before t0 + seconds).
    let window_start = t0 + options.stagger + Duration::from_millis(500);
    let window_end = t0 + Duration::from_secs(options.seconds) - Duration::from_millis(250);
    tokio::time::sleep_until(window_start).await;
    let machine0 = machine_busy_ticks();
    let (cpu0, drv0, sent0, at0) = (
        cpu_ticks(server_pid),
        cpu_ticks_self(),
        totals.sent.load(Ordering::Relaxed),
        Instant::now(),
    );
    tokio::time::sleep_until(window_end).await;
    let (cpu1, drv1, sent1, at1) = (
        cpu_ticks(server_pid),
        cpu_ticks_self(),
        totals.sent.load(Ordering::Relaxed),
        Instant::now(),
    );
    let machine1 = machine_busy_ticks();

    let deadline = Duration::from_secs(options.seconds)
        + options.stagger
        + options.drain
        + Duration::from_secs(15);
    let mut clients = Vec::with_capacity(n);
    for task in tasks {
        match tokio::time::timeout_at(t0 + deadline, task).await {
            Ok(Ok(result)) => clients.push(result),
            Ok(Err(e)) => clients.push(ClientResult {
                error: Some(format!("client task failed: {e}")),
                ..ClientResult::default()
            }),
            Err(_) => clients.push(ClientResult {
                error: Some("client did not finish in time".into()),
                ..ClientResult::default()
            }),
        }
    }
    drop(server);

    let window_s = (at1 - at0).as_secs_f64();
    let server_cpu_s = match (cpu0, cpu1) {
        (Some(a), Some(b)) => (b - a) as f64 / clk_tck as f64,
        _ => f64::NAN,
    };
    let driver_cpu_s = match (drv0, drv1) {
        (Some(a), Some(b)) => (b - a) as f64 / clk_tck as f64,
        _ => f64::NAN,
    };
    let frames = (sent1 - sent0) as f64;
    let mut latencies_us = Vec::new();
    let mut level = LevelResult {
        streams: n,
        failed: 0,
        window_s,
        frames_per_s: frames / window_s,
        server_cores: server_cpu_s / window_s,
        driver_cores: driver_cpu_s / window_s,
        per_frame_us: server_cpu_s * 1e6 / frames,
        other_cores: match (machine0, machine1) {
            (Some(a), Some(b)) => {
                (b - a) as f64 / clk_tck as f64 / window_s
                    - (server_cpu_s + driver_cpu_s) / window_s
            }
            _ => f64::NAN,
        },
        latencies_us: Vec::new(),
        first_second_us: Vec::new(),
        last_second_us: Vec::new(),
        sent: 0,
        received: 0,
        unmatched: 0,
        marks: 0,
        clears: 0,
        unclean: 0,
        first_error: None,
    };
    for c in clients {
        if let Some(e) = c.error {
            level.failed += 1;
            level.first_error.get_or_insert(e);
        } else if !c.closed_cleanly {
            level.unclean += 1;
        }
        level.sent += c.sent;
        level.received += c.received;
        level.unmatched += c.unmatched;
        level.marks += c.marks;
        level.clears += c.clears;
        latencies_us.extend(c.latencies_us);
        level.first_second_us.extend(c.first_second_us);
        level.last_second_us.extend(c.last_second_us);
    }
    level.latencies_us = latencies_us;
    Ok(level)
}

/// What a client's receiving half collected.
struct Received {
    latencies: Vec<u32>,
    first_second: Vec<u32>,
    last_second: Vec<u32>,
    unmatched: u64,
    marks: u64,
    clears: u64,
    closed: bool,
}

/// One Twilio-like stream: connect, `connected`, `start`, media every 20 ms, drain, `stop`, and
/// wait for the server to close.
async fn run_client(
    index: usize,
    addr: SocketAddr,
    frames: u64,
    drain: Duration,
    totals: &Totals,
) -> ClientResult {
    let mut result = ClientResult::default();
    let socket = async {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (socket, _) =
            tokio_tungstenite::client_async(format!("ws://{addr}/twilio/media"), tcp).await?;
        Ok::<_, BoxError>(socket)
    };
    let socket = match socket.await {
        Ok(socket) => socket,
        Err(e) => {
            result.error = Some(format!("connect: {e}"));
            return result;
        }
    };
    let (mut sink, mut stream) = socket.split();
    let call_sid = format!("CA{index:032x}");
    let stream_sid = format!("MZ{index:032x}");
    let sent_at: Mutex<Vec<Option<Instant>>> = Mutex::new(vec![None; frames as usize]);
    let received = AtomicU64::new(0);

    let sender = async {
        let connected = Inbound::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        };
        let start = Inbound::Start {
            sequence_number: 1,
            stream_sid: stream_sid.clone(),
            start: StartPayload {
                account_sid: "AC00000000000000000000000000000000".into(),
                stream_sid: stream_sid.clone(),
                call_sid: call_sid.clone(),
                tracks: vec!["inbound".into()],
                custom_parameters: BTreeMap::from([
                    ("callSid".to_owned(), call_sid.clone()),
                    ("tenantId".to_owned(), "bench".to_owned()),
                ]),
                media_format: MediaFormat::twilio_mulaw(),
            },
        };
        for message in [connected, start] {
            sink.send(Message::text(message.to_json())).await?;
        }
        let mut ticker = tokio::time::interval(Duration::from_millis(FRAME_MS));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut payload = [0xFFu8; FRAME_BYTES];
        let mut sent = 0u64;
        for seq in 0..frames {
            ticker.tick().await;
            payload[..SEQ_BYTES].copy_from_slice(&seq.to_be_bytes());
            let media = Inbound::Media {
                sequence_number: seq + 2,
                stream_sid: stream_sid.clone(),
                media: InboundMedia {
                    track: "inbound".into(),
                    chunk: seq + 1,
                    timestamp: seq * FRAME_MS,
                    payload: STANDARD.encode(payload),
                },
            };
            let text = media.to_json();
            sent_at.lock().expect("not poisoned")[seq as usize] = Some(Instant::now());
            sink.send(Message::text(text)).await?;
            sent += 1;
            totals.sent.fetch_add(1, Ordering::Relaxed);
        }
        // Listen until every echo is back or the drain time is up, like a caller who stops
        // talking and waits for the answer, then hang up.
        let drain_end = Instant::now() + drain;
        while received.load(Ordering::Relaxed) < sent && Instant::now() < drain_end {
            tokio::time::sleep(Duration::from_millis(FRAME_MS)).await;
        }
        let stop = Inbound::Stop {
            sequence_number: frames + 2,
            stream_sid: stream_sid.clone(),
            stop: StopPayload {
                account_sid: "AC00000000000000000000000000000000".into(),
                call_sid: call_sid.clone(),
            },
        };
        sink.send(Message::text(stop.to_json())).await?;
        Ok::<u64, BoxError>(sent)
    };

    let receiver = async {
        let mut seen = vec![false; frames as usize];
        let mut latencies = Vec::with_capacity(frames as usize);
        let (mut first_second, mut last_second) = (Vec::new(), Vec::new());
        let second = 1000 / FRAME_MS;
        let (mut unmatched, mut marks, mut clears, mut closed) = (0u64, 0u64, 0u64, false);
        while let Some(message) = stream.next().await {
            let text = match message {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(_)) => {
                    closed = true;
                    break;
                }
                Ok(_) => continue,
                Err(_) => break,
            };
            let now = Instant::now();
            match parse_outbound(text.as_str()) {
                Ok(Some(Outbound::Media { media, .. })) => {
                    let seq = STANDARD
                        .decode(media.payload.as_bytes())
                        .ok()
                        .filter(|bytes| bytes.len() >= SEQ_BYTES)
                        .map(|bytes| {
                            let mut b = [0u8; SEQ_BYTES];
                            b.copy_from_slice(&bytes[..SEQ_BYTES]);
                            u64::from_be_bytes(b) as usize
                        });
                    let at = seq.and_then(|s| {
                        let at = *sent_at.lock().expect("not poisoned").get(s)?;
                        (!std::mem::replace(&mut seen[s], true)).then_some((s as u64, at?))
                    });
                    match at {
                        Some((seq, at)) => {
                            let us = (now - at).as_micros().min(u128::from(u32::MAX)) as u32;
                            latencies.push(us);
                            if seq < second {
                                first_second.push(us);
                            } else if seq >= frames.saturating_sub(second) {
                                last_second.push(us);
                            }
                            received.fetch_add(1, Ordering::Relaxed);
                            totals.received.fetch_add(1, Ordering::Relaxed);
                        }
                        None => unmatched += 1,
                    }
                }
                Ok(Some(Outbound::Mark { .. })) => marks += 1,
                Ok(Some(Outbound::Clear { .. })) => clears += 1,
                Ok(None) | Err(_) => unmatched += 1,
            }
        }
        Received {
            latencies,
            first_second,
            last_second,
            unmatched,
            marks,
            clears,
            closed,
        }
    };

    // The receiver ends when the server closes the socket (after `stop`) or the socket fails.
    let receiver = tokio::time::timeout(
        Duration::from_millis(frames * FRAME_MS) + drain + Duration::from_secs(10),
        receiver,
    );
    let (sent, received_part) = tokio::join!(sender, receiver);
    match sent {
        Ok(sent) => result.sent = sent,
        Err(e) => {
            result.error = Some(format!("send: {e}"));
            result.sent = sent_at
                .lock()
                .expect("not poisoned")
                .iter()
                .filter(|s| s.is_some())
                .count() as u64;
        }
    }
    match received_part {
        Ok(r) => {
            result.received = r.latencies.len() as u64;
            result.latencies_us = r.latencies;
            result.first_second_us = r.first_second;
            result.last_second_us = r.last_second;
            result.unmatched = r.unmatched;
            result.marks = r.marks;
            result.clears = r.clears;
            result.closed_cleanly = r.closed;
        }
        Err(_) => {
            result.received = received.load(Ordering::Relaxed);
            result
                .error
                .get_or_insert("the server did not close the stream after stop".into());
        }
    }
    result
}

// ---------------------------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------------------------

/// utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat).
fn cpu_ticks(pid: u32) -> Option<u64> {
    parse_stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Busy ticks of the whole machine (all CPUs): the `cpu` line of /proc/stat minus idle and iowait.
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = ticks.iter().take(8).sum();
    Some(total - ticks.get(3)? - ticks.get(4)?)
}

fn cpu_ticks_self() -> Option<u64> {
    parse_stat_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

fn parse_stat_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so utime (14) is index 11 and stime (15) index 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second for /proc CPU times: `getconf CLK_TCK`, or 100 (Linux's value).
fn clock_ticks_per_second() -> (u64, &'static str) {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .map_or((100, "getconf failed, assumed"), |t| (t, "from getconf"))
}

/// The soft open-files limit of this process (the server child inherits it).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
