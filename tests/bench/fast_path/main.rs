//! The fast path, end to end, in one run against `switchboard dev` (started here, with
//! zero-latency fake providers): what a webhook costs over a bare workflow start, and what a
//! conversational turn costs over the model's own time, for a speech-to-speech engine (OpenAI
//! Realtime) and for the cascaded one (speech-to-text, the call workflow's LLM activity,
//! text-to-speech). Each is printed with its ratio.
//!
//!   scripts/bench-fast-path.sh [--webhooks N] [--calls C] [--turns T]
//!
//! (defaults 500, 10 and 10). The script starts a throwaway Temporal (and PostgreSQL + Redis
//! with `--postgres`) and sets `API_BIND`, `SIM_BIND`, `TEMPORAL_ADDRESS`,
//! `SWITCHBOARD_DATA_DIR`; this binary reads them as `switchboard` does and passes them on.
//! Calls run one at a time: these are latencies of an unloaded stack, not capacity.

mod caller;
mod report;
mod stack;
mod turns;
mod webhook;

use anyhow::{Context, Result, bail};
use std::time::Duration;
use switchboard::config::Settings;

use report::ratios;
use turns::TurnFigures;

struct Args {
    webhooks: usize,
    calls: usize,
    turns: usize,
}

fn args() -> Result<Args> {
    let mut args = Args {
        webhooks: 500,
        calls: 10,
        turns: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = |it: &mut dyn Iterator<Item = String>| -> Result<usize> {
            it.next()
                .with_context(|| format!("{flag} needs a number"))?
                .parse()
                .with_context(|| format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--webhooks" => args.webhooks = value(&mut it)?,
            "--calls" => args.calls = value(&mut it)?,
            "--turns" => args.turns = value(&mut it)?,
            "--help" | "-h" => {
                println!("bench-fast-path [--webhooks N] [--calls C] [--turns T]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    if args.webhooks == 0 || args.calls == 0 || args.turns == 0 {
        bail!("--webhooks, --calls and --turns must be at least 1");
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let settings = Settings::from_env()?;
    let fakes = stack::Fakes::start(args.calls, args.turns).await;
    let dev = stack::Dev::start(&settings, &fakes).await?;
    let http = reqwest::Client::new();
    println!(
        "switchboard dev at {} ({}), fake providers answering at once",
        settings.api_bind,
        if settings.database_url.expose().starts_with("postgres") {
            "PostgreSQL + Redis"
        } else {
            "SQLite, in-process sessions"
        },
    );

    let (webhook, bare) = webhook::measure(&http, &settings, args.webhooks).await?;
    println!(
        "\n{} signed voice webhooks and as many bare starts, interleaved:",
        webhook.len()
    );
    println!("  webhook → TwiML (incl. start)   {}", webhook.line(2));
    println!("  bare StartWorkflowExecution     {}", bare.line(2));
    println!(
        "  RATIO webhook / bare start      {}",
        ratios(&webhook, &bare)
    );

    let mut first_sid = 0;
    for (engine, label) in [
        ("openai_realtime", "speech-to-speech (OpenAI Realtime)"),
        (
            "cascaded",
            "cascaded (STT → Update → llm_turn local activity → TTS)",
        ),
    ] {
        stack::set_demo_engine(&settings, engine).await?;
        // A number's route is cached for up to 5 s on the node.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let spans_before = fakes.spans().len();
        let turns = turns::run(&http, &settings, first_sid, args.calls, args.turns).await?;
        first_sid += args.calls;
        if fakes.spans().len() == spans_before {
            bail!("the {engine} calls reached none of the fake providers");
        }
        let figures = TurnFigures::of(&turns, &fakes.spans());
        println!(
            "\n{label}: {} turns ({} calls × {}), caller's last voiced frame → agent's first frame:",
            turns.len(),
            args.calls,
            args.turns
        );
        for (row, samples, decimals) in [
            ("  as the caller heard it       ", &figures.heard, 2),
            ("  the models' own time         ", &figures.model, 2),
            ("  TURN OVERHEAD (Switchboard's)", &figures.overhead, 3),
            ("    caller → first model       ", &figures.to_model, 3),
            ("    between models             ", &figures.between, 3),
            ("    last model → caller        ", &figures.from_model, 3),
        ] {
            println!("{row}   {}", samples.line(decimals));
        }
        println!(
            "  RATIO heard / models' own       {}",
            ratios(&figures.heard, &figures.model)
        );
    }
    drop(dev);
    Ok(())
}
