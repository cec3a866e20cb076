//! Offline text-to-speech latency (flite, the offline engine's voice, and espeak-ng): time to
//! the first audio chunk and real-time factor (synthesis time / audio duration) for three
//! sentence lengths, and for the first clause the cascaded engine sends of the long one
//! (`speech_chunks`). Prints numbers only.
//!
//! ```text
//! cargo run --release -p switchboard-voice --bin bench-tts -- [--runs N]
//! ```

use std::time::{Duration, Instant};

use switchboard_voice::{
    engines::cascaded::speech_chunks,
    tts::{EspeakTts, FliteTts, FliteTtsConfig, TtsProvider},
};

const SENTENCES: [(&str, &str); 3] = [
    ("short", "Hello, thanks for calling."),
    (
        "medium",
        "Your appointment is confirmed for Tuesday at ten thirty in the morning.",
    ),
    (
        "long",
        "Thanks for calling Acme Dental. Your appointment is confirmed for Tuesday at ten \
         thirty in the morning with Doctor Patel, and we will send you a text message reminder \
         the day before. Is there anything else I can help you with today?",
    ),
];

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut runs = 10usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            other => {
                eprintln!("unknown argument {other}; usage: bench-tts [--runs N]");
                std::process::exit(2);
            }
        }
    }
    let mut engines: Vec<(&str, Box<dyn TtsProvider>)> = Vec::new();
    if FliteTts::available() {
        engines.push(("flite", Box::new(FliteTts::new(FliteTtsConfig::default()))));
    } else {
        eprintln!("flite is not installed (apt-get install flite): skipped");
    }
    if EspeakTts::available() {
        engines.push(("espeak", Box::new(EspeakTts::default())));
    } else {
        eprintln!("espeak-ng is not installed (apt-get install espeak-ng): skipped");
    }
    if engines.is_empty() {
        std::process::exit(1);
    }
    // What the cascaded engine sends first for the long text: its first sentence or clause.
    let first_chunk = speech_chunks(SENTENCES[2].1).remove(0);
    let mut texts: Vec<(&str, &str)> = SENTENCES.to_vec();
    texts.push(("first", first_chunk.as_str()));
    println!(
        "{:<7} {:<7} {:>5} {:>9} {:>13} {:>13} {:>11} {:>7}",
        "engine",
        "text",
        "chars",
        "audio_ms",
        "first_p50_ms",
        "first_max_ms",
        "total_p50_ms",
        "rtf"
    );
    for (engine, tts) in &engines {
        // Warm-up: the first run loads the voice's data files from disk.
        let _ = tts
            .synthesize("warm up", None)
            .await
            .unwrap()
            .collect()
            .await;
        for (name, text) in &texts {
            let mut firsts = Vec::new();
            let mut totals = Vec::new();
            let mut audio_ms = 0;
            for _ in 0..runs {
                let start = Instant::now();
                let mut stream = tts.synthesize(text, None).await.expect("synthesize");
                let mut first = None;
                let mut bytes = 0usize;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.expect("audio chunk");
                    first.get_or_insert_with(|| start.elapsed());
                    bytes += chunk.len();
                }
                firsts.push(first.unwrap_or_default());
                totals.push(start.elapsed());
                audio_ms = bytes / 8;
            }
            firsts.sort();
            totals.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let total_p50 = ms(totals[totals.len() / 2]);
            println!(
                "{:<7} {:<7} {:>5} {:>9} {:>13.1} {:>13.1} {:>11.1} {:>7.4}",
                engine,
                name,
                text.chars().count(),
                audio_ms,
                ms(firsts[firsts.len() / 2]),
                ms(*firsts.last().unwrap()),
                total_p50,
                total_p50 / audio_ms.max(1) as f64,
            );
        }
    }
}
