//! The driver: per level, a fresh server (or the given URL), N streams sent by a few tasks, CPU
//! sampled over the steady window.

use super::client::{Phase, Sender, Shared, Target, connect, receive};
use super::options::Pinning;
use super::proc_stats::{
    clock_ticks_per_second, cpu_ticks, cpu_ticks_self, machine_busy_ticks, open_files_limit,
};
use super::table::{print_headline, print_row, print_row_header_once};
use super::*;

/// Counters shared by all streams of one level, sampled at the steady-state window's edges.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) sent: AtomicU64,
    pub(crate) received: AtomicU64,
}

/// One level's numbers.
pub(crate) struct LevelResult {
    pub(crate) target: String,
    pub(crate) streams: usize,
    pub(crate) failed: usize,
    pub(crate) window_s: f64,
    pub(crate) frames_per_s: f64,
    pub(crate) server_cores: f64,
    pub(crate) driver_cores: f64,
    pub(crate) per_frame_us: f64,
    /// Machine CPU busy outside the server and the driver (other processes), in cores.
    pub(crate) other_cores: f64,
    pub(crate) latencies_us: Vec<u32>,
    pub(crate) first_second_us: Vec<u32>,
    pub(crate) last_second_us: Vec<u32>,
    pub(crate) sent: u64,
    pub(crate) received: u64,
    pub(crate) unmatched: u64,
    pub(crate) marks: u64,
    pub(crate) clears: u64,
    pub(crate) unclean: usize,
    pub(crate) first_error: Option<String>,
}

/// A server the level runs against: our bridge in a child process, or a URL (with the pid of
/// its process when known, for its CPU).
pub(crate) enum Server {
    Bridge {
        child: Child,
        target: Target,
    },
    Url {
        target: Target,
        pid: Option<u32>,
        name: String,
    },
}

impl Server {
    pub(crate) fn spawn_bridge(options: &DriverOptions) -> Result<Self, BoxError> {
        let exe = std::env::current_exe()?;
        let mut command = match &options.pinning {
            Some(p) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &p.server]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        command.args(["serve", "--addr", "127.0.0.1:0"]);
        if options.server_nodelay {
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
        let addr: SocketAddr = line
            .trim()
            .parse()
            .map_err(|e| format!("server printed {line:?}, not an address: {e}"))?;
        let target = Target {
            addr,
            host: addr.to_string(),
            path: "/twilio/media".into(),
        };
        Ok(Server::Bridge { child, target })
    }

    fn target(&self) -> &Target {
        match self {
            Server::Bridge { target, .. } | Server::Url { target, .. } => target,
        }
    }

    fn pid(&self) -> Option<u32> {
        match self {
            Server::Bridge { child, .. } => Some(child.id()),
            Server::Url { pid, .. } => *pid,
        }
    }

    fn name(&self) -> String {
        match self {
            Server::Bridge { .. } => "bridge".into(),
            Server::Url { name, .. } => name.clone(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Server::Bridge { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) async fn drive(options: DriverOptions) -> Result<(), BoxError> {
    let clk_tck = clock_ticks_per_second();
    print_setup(&options, clk_tck);
    let mut results = Vec::new();
    for &n in &options.streams {
        if !options.urls_only {
            let server = Server::spawn_bridge(&options)?;
            let result = run_level(n, &server, &options, clk_tck.0).await?;
            print_row_header_once(results.is_empty());
            print_row(&result);
            results.push(result);
        }
        for (url, pid) in &options.urls {
            let server = Server::Url {
                target: Target::parse(url)?,
                pid: *pid,
                name: url.clone(),
            };
            let result = run_level(n, &server, &options, clk_tck.0).await?;
            print_row_header_once(results.is_empty());
            print_row(&result);
            results.push(result);
        }
    }
    println!();
    println!("summary");
    print_row_header_once(true);
    for r in &results {
        print_row(r);
    }
    println!();
    print_headline(&results, options.pinning.is_some());
    print_legend();
    Ok(())
}

fn print_setup(options: &DriverOptions, clk_tck: (u64, &str)) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let max_streams = options.streams.iter().copied().max().unwrap_or(0);
    println!(
        "bench-bridge: N Twilio-like media streams, each echoed frame for frame, over loopback WebSockets"
    );
    println!(
        "  {} s of 20 ms frames per stream, starts staggered over {} ms, {} ms drain before `stop`",
        options.seconds,
        options.stagger.as_millis(),
        options.drain.as_millis(),
    );
    match &options.pinning {
        Some(p) => println!(
            "  server: our bridge + echo engine in a child process pinned to CPU {} (tokio multi-thread, one worker per CPU it may use){}; \
             driver pinned to CPU {}",
            p.server,
            if options.server_nodelay {
                ", TCP_NODELAY"
            } else {
                ", Nagle on like the API"
            },
            p.driver
        ),
        None => println!("  server and driver unpinned on {cores} CPUs: they compete"),
    }
    println!(
        "  driver: {} sender task(s) write every stream's frames on a 1 ms schedule (no Nagle), one reader task per stream; {} runtime",
        options.driver_threads,
        if options.driver_threads <= 1 {
            "current_thread".to_owned()
        } else {
            format!("{}-worker", options.driver_threads)
        },
    );
    for (url, pid) in &options.urls {
        println!(
            "  also: {url} (CPU of pid {})",
            pid.map_or("unknown: give --url URL@PID".into(), |p| p.to_string())
        );
    }
    println!(
        "  CPU from /proc/<pid>/stat utime+stime, CLK_TCK = {} ({}), over the window where all streams are sending",
        clk_tck.0, clk_tck.1
    );
    match open_files_limit() {
        Some(limit) if limit < (2 * max_streams as u64 + 64) => println!(
            "  WARNING: open files limit is {limit}; {max_streams} streams need ~{} fds. Raise it (`ulimit -n 65536`).",
            2 * max_streams + 64
        ),
        Some(limit) => println!("  open files limit {limit} (enough for {max_streams} streams)"),
        None => println!("  (could not read the open files limit from /proc/self/limits)"),
    }
    println!();
}

fn print_legend() {
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
        "  latency: caller frame handed to the socket → its echo read by the client, all frames of the level;"
    );
    println!(
        "           it includes the wait for the bridge's 20 ms pacer when a frame arrives early by design"
    );
    println!(
        "  p50_1st_s / p50_last_s: median latency of each stream's first / last second of frames (growth = backlog)"
    );
    println!(
        "  dropped = sent − received after the drain; marks: mark + clear messages from the server (echo expects 0)"
    );
    println!(
        "  drv_cores: this driver's CPU; oth_cores: the rest of the machine (other processes) in the same window"
    );
}

/// A stream opened and not yet started.
struct Opened {
    sender: Sender,
    read: tokio::net::tcp::OwnedReadHalf,
    leftover: Vec<u8>,
    shared: Arc<Shared>,
}

/// Opens `n` streams, at most 64 handshakes at a time.
async fn open_streams(n: usize, target: &Target, frames: u64) -> Result<Vec<Opened>, BoxError> {
    let mut streams = Vec::with_capacity(n);
    let indices: Vec<usize> = (0..n).collect();
    for chunk in indices.chunks(64) {
        let opened = futures::future::join_all(chunk.iter().map(|_| connect(target))).await;
        for (&i, stream) in chunk.iter().zip(opened) {
            let (read, write, leftover) = stream.map_err(|e| format!("stream {i}: {e}"))?;
            let shared = Shared::new(frames);
            streams.push(Opened {
                sender: Sender::new(i, write, shared.clone()),
                read,
                leftover,
                shared,
            });
        }
    }
    Ok(streams)
}

/// One sender task: every millisecond, the frames due of its streams. Stream `i` of `n` starts
/// at `stagger · i / n`, so the streams' 20 ms phases spread evenly, like calls.
async fn send_group(
    mut streams: Vec<(usize, Sender)>,
    n: usize,
    options: (u64, Duration, Duration),
    t0: Instant,
    totals: Arc<Totals>,
) -> Vec<Sender> {
    let (frames, stagger, drain) = options;
    let mut next_ms: Vec<u64> = streams
        .iter()
        .map(|(i, _)| (stagger.as_millis() as u64) * (*i as u64) / n as u64)
        .collect();
    let mut ticker = tokio::time::interval_at(t0, Duration::from_millis(1));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut live = streams.len();
    while live > 0 {
        ticker.tick().await;
        let now_ms = t0.elapsed().as_millis() as u64;
        for ((_, s), next) in streams.iter_mut().zip(next_ms.iter_mut()) {
            if *next > now_ms {
                continue;
            }
            if s.has_pending() {
                s.flush();
            }
            match s.phase {
                Phase::Waiting => {
                    s.begin();
                    s.media(t0);
                    totals.sent.fetch_add(1, Ordering::Relaxed);
                }
                Phase::Sending if s.sent < frames => {
                    s.media(t0);
                    totals.sent.fetch_add(1, Ordering::Relaxed);
                }
                Phase::Sending => {
                    s.phase = Phase::Draining {
                        until_ms: now_ms + drain.as_millis() as u64,
                    }
                }
                Phase::Draining { until_ms } => {
                    if s.received() >= s.sent || now_ms >= until_ms {
                        s.stop();
                    }
                }
                Phase::Done => {}
            }
            if s.phase == Phase::Done && !s.has_pending() {
                *next = u64::MAX;
                live -= 1;
            } else if s.phase == Phase::Done {
                *next += 1;
            } else {
                *next += FRAME_MS;
            }
        }
    }
    streams.into_iter().map(|(_, s)| s).collect()
}

pub(crate) async fn run_level(
    n: usize,
    server: &Server,
    options: &DriverOptions,
    clk_tck: u64,
) -> Result<LevelResult, BoxError> {
    let server_pid = server.pid();
    let totals = Arc::new(Totals::default());
    let frames = options.seconds * 1000 / FRAME_MS;
    let opened = open_streams(n, server.target(), frames).await?;
    let t0 = Instant::now() + Duration::from_millis(100);
    let groups = options.driver_threads.max(1);
    let mut split: Vec<Vec<(usize, Sender)>> = (0..groups).map(|_| Vec::new()).collect();
    let mut readers = Vec::with_capacity(n);
    for (i, o) in opened.into_iter().enumerate() {
        let totals = totals.clone();
        readers.push(tokio::spawn(receive(
            o.read, o.leftover, o.shared, t0, totals,
        )));
        split[i % groups].push((i, o.sender));
    }
    let send_tasks: Vec<_> = split
        .into_iter()
        .map(|group| {
            let totals = totals.clone();
            let o = (frames, options.stagger, options.drain);
            tokio::spawn(send_group(group, n, o, t0, totals))
        })
        .collect();

    // Steady state: every stream sending (after the stagger plus a margin), until the first
    // stream stops sending (a margin before t0 + seconds).
    let window_start = t0 + options.stagger + Duration::from_millis(500);
    let window_end = t0 + Duration::from_secs(options.seconds) - Duration::from_millis(250);
    tokio::time::sleep_until(window_start).await;
    let machine0 = machine_busy_ticks();
    let (cpu0, drv0, sent0, at0) = (
        server_pid.and_then(cpu_ticks),
        cpu_ticks_self(),
        totals.sent.load(Ordering::Relaxed),
        Instant::now(),
    );
    tokio::time::sleep_until(window_end).await;
    let (cpu1, drv1, sent1, at1) = (
        server_pid.and_then(cpu_ticks),
        cpu_ticks_self(),
        totals.sent.load(Ordering::Relaxed),
        Instant::now(),
    );
    let machine1 = machine_busy_ticks();

    let deadline = t0
        + Duration::from_secs(options.seconds)
        + options.stagger
        + options.drain
        + Duration::from_secs(15);
    let mut senders = Vec::with_capacity(n);
    let mut first_error = None;
    for task in send_tasks {
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(group)) => senders.extend(group),
            Ok(Err(e)) => first_error = Some(format!("sender task failed: {e}")),
            Err(_) => first_error = Some("the senders did not finish in time".into()),
        }
    }
    let mut received = Vec::with_capacity(n);
    for task in readers {
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(r)) => received.push(Some(r)),
            _ => received.push(None),
        }
    }

    let window_s = (at1 - at0).as_secs_f64();
    let ticks = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => (b - a) as f64 / clk_tck as f64,
        _ => f64::NAN,
    };
    let (server_cpu_s, driver_cpu_s) = (ticks(cpu0, cpu1), ticks(drv0, drv1));
    let frames_in_window = (sent1 - sent0) as f64;
    let mut level = LevelResult {
        target: server.name(),
        streams: n,
        failed: 0,
        window_s,
        frames_per_s: frames_in_window / window_s,
        server_cores: server_cpu_s / window_s,
        driver_cores: driver_cpu_s / window_s,
        per_frame_us: server_cpu_s * 1e6 / frames_in_window,
        other_cores: ticks(machine0, machine1) / window_s
            - (if server_cpu_s.is_nan() {
                0.0
            } else {
                server_cpu_s
            } + driver_cpu_s)
                / window_s,
        latencies_us: Vec::new(),
        first_second_us: Vec::new(),
        last_second_us: Vec::new(),
        sent: 0,
        received: 0,
        unmatched: 0,
        marks: 0,
        clears: 0,
        unclean: 0,
        first_error,
    };
    for s in &senders {
        level.sent += s.sent;
        if let Some(e) = &s.error {
            level.failed += 1;
            level.first_error.get_or_insert(e.clone());
        }
    }
    for r in received {
        let Some(r) = r else {
            level.unclean += 1;
            continue;
        };
        if !r.closed {
            level.unclean += 1;
        }
        level.received += r.latencies.len() as u64;
        level.unmatched += r.unmatched;
        level.marks += r.marks;
        level.clears += r.clears;
        level.latencies_us.extend(r.latencies);
        level.first_second_us.extend(r.first_second);
        level.last_second_us.extend(r.last_second);
    }
    Ok(level)
}

/// Pins this process (all its threads) to `cpus`, before the runtime starts its threads.
pub(crate) fn pin_self(pinning: &Pinning) -> Result<(), BoxError> {
    let status = Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &pinning.driver,
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("taskset could not pin the driver to CPU {}", pinning.driver).into());
    }
    Ok(())
}
