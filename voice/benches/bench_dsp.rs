//! Per-frame cost of the real-time audio path, and the same path in Pipecat for comparison.
//!
//! Every stage handles one 20 ms frame (160 μ-law bytes / 160 samples at 8 kHz, 320 at
//! 16 kHz, 480 at 24 kHz) and is timed frame by frame; we print mean, p50 and p99 in µs.
//! Prints numbers only, asserts nothing.
//!
//! ```text
//! cargo bench -p switchboard-voice --bench bench-dsp -- \
//!     [--frames N] [--pipecat <python>] [--no-pipecat]
//! ```
//!
//! The Pipecat side (`voice/benches/pipecat_frame.py`) runs when `--pipecat <python>` is
//! given, or `PIPECAT_PYTHON` is set, or `.venv-bench/bin/python` exists in the current
//! directory (`scripts/bench-dsp.sh` creates it).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use switchboard_voice::{mulaw, pcm, resample::Resampler};
use telephony::media_stream::{Inbound, Outbound, parse_inbound};

const STREAM_SID: &str = "MZ00000000000000000000000000000000";

/// Stages in print order: (name, what it measures).
const STAGES: [(&str, &str); 11] = [
    ("mulaw_decode", "μ-law decode 160 B → 160 i16"),
    ("mulaw_encode", "μ-law encode 160 i16 → 160 B"),
    ("resample_8k_16k", "resample 160 → 320 samples"),
    ("resample_16k_8k", "resample 320 → 160 samples"),
    ("pipeline_in", "μ-law decode + 8k→16k"),
    ("pipeline_out", "24k→8k + μ-law encode"),
    ("pipeline", "pipeline_in + pipeline_out"),
    (
        "json_b64",
        "parse media JSON + b64 decode, b64 encode + JSON out",
    ),
    ("twilio_in", "media JSON → 16 kHz PCM"),
    ("twilio_out", "24 kHz PCM → media JSON"),
    ("twilio", "twilio_in + twilio_out"),
];

#[derive(Debug, Clone, Copy)]
struct Stats {
    mean_us: f64,
    p50_us: f64,
    p99_us: f64,
}

impl Stats {
    fn from_ns(mut samples: Vec<u64>) -> Self {
        samples.sort_unstable();
        let n = samples.len();
        let pct = |p: f64| samples[((p * n as f64) as usize).min(n - 1)] as f64 / 1000.0;
        Self {
            mean_us: samples.iter().sum::<u64>() as f64 / n as f64 / 1000.0,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
        }
    }
}

/// Run `f` `warmup` times untimed, then `frames` times, timing each call.
fn time_frames(frames: usize, mut f: impl FnMut()) -> Stats {
    let warmup = (frames / 10).min(1000);
    for _ in 0..warmup {
        f();
    }
    let mut samples = Vec::with_capacity(frames);
    for _ in 0..frames {
        let start = Instant::now();
        f();
        samples.push(start.elapsed().as_nanos() as u64);
    }
    Stats::from_ns(samples)
}

struct Args {
    frames: usize,
    python: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut frames = 50_000;
    let mut python = std::env::var_os("PIPECAT_PYTHON").map(PathBuf::from);
    let mut no_pipecat = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--frames" => {
                frames = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .ok_or("--frames needs a positive number")?;
            }
            "--pipecat" => {
                python = Some(args.next().ok_or("--pipecat needs a python path")?.into());
            }
            "--no-pipecat" => no_pipecat = true,
            // `cargo bench` appends it.
            "--bench" => {}
            "-h" | "--help" => {
                return Err(
                    "usage: bench-dsp [--frames N] [--pipecat <python>] [--no-pipecat]".into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if python.is_none() {
        let local = PathBuf::from(".venv-bench/bin/python");
        if local.exists() {
            python = Some(local);
        }
    }
    if no_pipecat {
        python = None;
    }
    Ok(Args { frames, python })
}

fn bench_ours(frames: usize) -> Vec<(&'static str, Stats)> {
    let pcm8 = pcm::sine(440.0, 8000, 20, 0.3);
    let pcm16 = pcm::sine(440.0, 16000, 20, 0.3);
    let pcm24 = pcm::sine(440.0, 24000, 20, 0.3);
    let mut ulaw8 = Vec::new();
    mulaw::encode(&pcm8, &mut ulaw8);
    let inbound_json = format!(
        r#"{{"event":"media","sequenceNumber":"3","media":{{"track":"inbound","chunk":"1","timestamp":"5","payload":"{}"}},"streamSid":"{STREAM_SID}"}}"#,
        STANDARD.encode(&ulaw8)
    );

    let mut results = Vec::new();
    let mut samples: Vec<i16> = Vec::with_capacity(1024);
    let mut resampled: Vec<i16> = Vec::with_capacity(1024);
    let mut bytes: Vec<u8> = Vec::with_capacity(1024);

    results.push((
        "mulaw_decode",
        time_frames(frames, || {
            samples.clear();
            mulaw::decode(black_box(&ulaw8), &mut samples);
            black_box(&samples);
        }),
    ));
    results.push((
        "mulaw_encode",
        time_frames(frames, || {
            bytes.clear();
            mulaw::encode(black_box(&pcm8), &mut bytes);
            black_box(&bytes);
        }),
    ));

    let mut up = Resampler::new(8000, 16000).expect("supported rates");
    results.push((
        "resample_8k_16k",
        time_frames(frames, || {
            resampled.clear();
            up.process(black_box(&pcm8), &mut resampled);
            black_box(&resampled);
        }),
    ));
    let mut down = Resampler::new(16000, 8000).expect("supported rates");
    results.push((
        "resample_16k_8k",
        time_frames(frames, || {
            resampled.clear();
            down.process(black_box(&pcm16), &mut resampled);
            black_box(&resampled);
        }),
    ));

    let mut in_rs = Resampler::new(8000, 16000).expect("supported rates");
    let mut out_rs = Resampler::new(24000, 8000).expect("supported rates");
    let mut pipeline_in = |ulaw: &[u8], samples: &mut Vec<i16>, resampled: &mut Vec<i16>| {
        samples.clear();
        resampled.clear();
        mulaw::decode(ulaw, samples);
        in_rs.process(samples, resampled);
        black_box(&resampled);
    };
    let mut pipeline_out = |pcm: &[i16], resampled: &mut Vec<i16>, bytes: &mut Vec<u8>| {
        resampled.clear();
        bytes.clear();
        out_rs.process(pcm, resampled);
        mulaw::encode(resampled, bytes);
        black_box(&bytes);
    };
    results.push((
        "pipeline_in",
        time_frames(frames, || {
            pipeline_in(black_box(&ulaw8), &mut samples, &mut resampled)
        }),
    ));
    results.push((
        "pipeline_out",
        time_frames(frames, || {
            pipeline_out(black_box(&pcm24), &mut resampled, &mut bytes)
        }),
    ));
    results.push((
        "pipeline",
        time_frames(frames, || {
            pipeline_in(black_box(&ulaw8), &mut samples, &mut resampled);
            pipeline_out(black_box(&pcm24), &mut resampled, &mut bytes);
        }),
    ));

    results.push((
        "json_b64",
        time_frames(frames, || {
            let Ok(Some(Inbound::Media { media, .. })) = parse_inbound(black_box(&inbound_json))
            else {
                panic!("the bench frame is a media frame");
            };
            let payload = media.decode_payload().expect("valid base64");
            black_box(Outbound::media(STREAM_SID, &payload).to_json());
        }),
    ));

    let mut in_rs = Resampler::new(8000, 16000).expect("supported rates");
    let mut out_rs = Resampler::new(24000, 8000).expect("supported rates");
    let mut twilio_in = |json: &str, samples: &mut Vec<i16>, resampled: &mut Vec<i16>| {
        let Ok(Some(Inbound::Media { media, .. })) = parse_inbound(json) else {
            panic!("the bench frame is a media frame");
        };
        let payload = media.decode_payload().expect("valid base64");
        samples.clear();
        resampled.clear();
        mulaw::decode(&payload, samples);
        in_rs.process(samples, resampled);
        black_box(&resampled);
    };
    let mut twilio_out = |pcm: &[i16], resampled: &mut Vec<i16>, bytes: &mut Vec<u8>| {
        resampled.clear();
        bytes.clear();
        out_rs.process(pcm, resampled);
        mulaw::encode(resampled, bytes);
        black_box(Outbound::media(STREAM_SID, bytes).to_json());
    };
    results.push((
        "twilio_in",
        time_frames(frames, || {
            twilio_in(black_box(&inbound_json), &mut samples, &mut resampled)
        }),
    ));
    results.push((
        "twilio_out",
        time_frames(frames, || {
            twilio_out(black_box(&pcm24), &mut resampled, &mut bytes)
        }),
    ));
    results.push((
        "twilio",
        time_frames(frames, || {
            twilio_in(black_box(&inbound_json), &mut samples, &mut resampled);
            twilio_out(black_box(&pcm24), &mut resampled, &mut bytes);
        }),
    ));
    results
}

struct PipecatReport {
    header: String,
    stats: Vec<(String, Stats)>,
}

fn run_pipecat(python: &PathBuf, frames: usize) -> Result<PipecatReport, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/pipecat_frame.py");
    let output = Command::new(python)
        .arg(&script)
        .args(["--frames", &frames.to_string(), "--json"])
        .output()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} {} failed ({}):\n{}",
            python.display(),
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(last)
        .map_err(|e| format!("unexpected output from the Pipecat script ({e}): {stdout}"))?;
    let text = |key: &str| report[key].as_str().unwrap_or("?").to_string();
    let first = |key: &str| {
        let v = &report[key];
        format!("call #{} returned {}", v[0], v[1])
    };
    let header = format!(
        "Pipecat {} (soxr {}, Python {}); TwilioFrameSerializer first audio out: \
         deserialize {} samples, serialize {} bytes",
        text("pipecat"),
        text("soxr"),
        text("python"),
        first("first_output_in"),
        first("first_output_out"),
    );
    let mut stats = Vec::new();
    if let Some(results) = report["results"].as_object() {
        for (name, s) in results {
            let field = |k: &str| s[k].as_f64().unwrap_or(f64::NAN);
            stats.push((
                name.clone(),
                Stats {
                    mean_us: field("mean_us"),
                    p50_us: field("p50_us"),
                    p99_us: field("p99_us"),
                },
            ));
        }
    }
    Ok(PipecatReport { header, stats })
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let timer_overhead = time_frames(args.frames, || {
        black_box(());
    });
    println!(
        "bench-dsp: {} frames of 20 ms per stage ({} build); timer overhead p50 {:.3} µs",
        args.frames,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        timer_overhead.p50_us,
    );
    let ours = bench_ours(args.frames);

    println!();
    println!("Switchboard (Rust), µs per 20 ms frame:");
    println!("{:<16}{:>9}{:>9}{:>9}  what", "stage", "mean", "p50", "p99");
    for (name, s) in &ours {
        let what = STAGES
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, w)| w);
        println!(
            "{name:<16}{:>9.3}{:>9.3}{:>9.3}  {what}",
            s.mean_us, s.p50_us, s.p99_us
        );
    }

    let Some(python) = args.python else {
        println!();
        println!(
            "(Pipecat comparison skipped: pass --pipecat <python>, set PIPECAT_PYTHON, or \
             run scripts/bench-dsp.sh)"
        );
        return;
    };
    println!();
    println!("Running the Pipecat side with {} …", python.display());
    let pipecat = match run_pipecat(&python, args.frames) {
        Ok(report) => report,
        Err(message) => {
            println!("Pipecat comparison failed: {message}");
            return;
        }
    };
    println!("{}", pipecat.header);
    println!("Pipecat, µs per 20 ms frame, and ratio Pipecat / Switchboard:");
    println!(
        "{:<16}{:>9}{:>9}{:>9}{:>12}{:>11}{:>11}",
        "stage", "mean", "p50", "p99", "ratio mean", "ratio p50", "ratio p99"
    );
    for (name, mine) in &ours {
        let Some((_, theirs)) = pipecat.stats.iter().find(|(n, _)| n == name) else {
            continue;
        };
        println!(
            "{name:<16}{:>9.3}{:>9.3}{:>9.3}{:>11.1}x{:>10.1}x{:>10.1}x",
            theirs.mean_us,
            theirs.p50_us,
            theirs.p99_us,
            theirs.mean_us / mine.mean_us,
            theirs.p50_us / mine.p50_us,
            theirs.p99_us / mine.p99_us,
        );
    }
    println!(
        "Note: Pipecat's default SOXR stream resampler returns most frames empty and releases \
         ~100 ms bursts, so its p50 is mostly the buffering calls; compare means."
    );
}
