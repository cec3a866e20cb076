//! The driver's command line.

use super::*;

pub(crate) struct DriverOptions {
    pub(crate) streams: Vec<usize>,
    pub(crate) seconds: u64,
    pub(crate) stagger: Duration,
    pub(crate) drain: Duration,
    pub(crate) driver_threads: usize,
    pub(crate) server_nodelay: bool,
}

impl DriverOptions {
    pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, BoxError> {
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
