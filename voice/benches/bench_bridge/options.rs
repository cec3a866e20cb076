//! The driver's command line.

use super::*;

/// Which CPUs the server child and the driver run on (`taskset` lists).
pub(crate) struct Pinning {
    pub(crate) server: String,
    pub(crate) driver: String,
}

pub(crate) struct DriverOptions {
    pub(crate) streams: Vec<usize>,
    pub(crate) seconds: u64,
    pub(crate) stagger: Duration,
    pub(crate) drain: Duration,
    pub(crate) driver_threads: usize,
    pub(crate) server_nodelay: bool,
    /// `None`: server and driver share every CPU.
    pub(crate) pinning: Option<Pinning>,
    /// Other servers to run each level against: a `ws://` URL and the pid of its process.
    pub(crate) urls: Vec<(String, Option<u32>)>,
    /// Only the URLs, not our bridge.
    pub(crate) urls_only: bool,
}

const HELP: &str = "\
bench-bridge [--streams 100,500,1000,2000,4000] [--seconds 10] [--stagger-ms 1000] [--drain-ms 1000]
             [--driver-threads 1] [--server-nodelay] [--server-cpus 0 --driver-cpus 1 | --no-pin]
             [--url ws://HOST:PORT/PATH[@PID]]... [--urls-only]
bench-bridge serve [--addr 127.0.0.1:0] [--nodelay]

By default, on a machine with two or more CPUs, the server child is pinned to CPU 0 and the driver
to the others, so the server's streams per core is what one core carries. --url runs each level
against another WebSocket server too (the same client, the same load): give its pid after @ for
its CPU. `serve` exits when its stdin closes (the driver holds it); to run it by hand, give it one
that stays open: `sleep infinity | bench-bridge serve --addr 127.0.0.1:9000`.";

impl DriverOptions {
    pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, BoxError> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut o = DriverOptions {
            streams: vec![100, 500, 1000, 2000, 4000],
            seconds: 10,
            stagger: Duration::from_millis(1000),
            drain: Duration::from_millis(1000),
            driver_threads: 1,
            server_nodelay: false,
            pinning: (cpus >= 2).then(|| Pinning {
                server: "0".into(),
                driver: format!("1-{}", cpus - 1),
            }),
            urls: Vec::new(),
            urls_only: false,
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
                "--server-cpus" => pinning(&mut o, cpus).server = value()?,
                "--driver-cpus" => pinning(&mut o, cpus).driver = value()?,
                "--no-pin" => o.pinning = None,
                "--url" => {
                    let v = value()?;
                    o.urls.push(match v.rsplit_once('@') {
                        Some((url, pid)) => (url.to_owned(), Some(pid.parse()?)),
                        None => (v, None),
                    });
                }
                "--urls-only" => o.urls_only = true,
                // `cargo bench` appends it.
                "--bench" => {}
                "-h" | "--help" => {
                    println!("{HELP}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?} (try --help)").into()),
            }
        }
        if o.streams.is_empty() || o.streams.contains(&0) || o.seconds < 3 {
            return Err("--streams must be positive counts and --seconds at least 3".into());
        }
        if o.urls_only && o.urls.is_empty() {
            return Err("--urls-only needs at least one --url".into());
        }
        Ok(o)
    }
}

fn pinning(o: &mut DriverOptions, cpus: usize) -> &mut Pinning {
    o.pinning.get_or_insert_with(|| Pinning {
        server: "0".into(),
        driver: format!("0-{}", cpus.saturating_sub(1)),
    })
}
