//! The driver: one server child per level, N clients, CPU sampled over the steady window.

use super::client::{ClientResult, run_client};
use super::proc_stats::{
    clock_ticks_per_second, cpu_ticks, cpu_ticks_self, machine_busy_ticks, open_files_limit,
};
use super::table::{print_row, print_row_header_once};
use super::*;

/// Counters shared by all client tasks of one level, sampled at the steady-state window's edges.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) sent: AtomicU64,
    pub(crate) received: AtomicU64,
}

/// One level's numbers.
pub(crate) struct LevelResult {
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

pub(crate) async fn drive(options: DriverOptions) -> Result<(), BoxError> {
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

/// The server child; killed (by its own pid, through the handle) when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    pub(crate) fn spawn(nodelay: bool) -> Result<Self, BoxError> {
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

pub(crate) async fn run_level(
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
