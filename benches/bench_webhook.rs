//! Webhook → TwiML latency, including the `CallWorkflow` start, against a running stack
//! (`switchboard dev` or `api` + `worker`), and in the same run the latency of a bare
//! `StartWorkflowExecution` from the Temporal client — the floor the webhook sits on — and
//! their ratio.
//!
//!   cargo run --release --bin bench-webhook -- [N]      (default N = 1000)
//!
//! Reads the same settings as `switchboard` (API_BIND, PUBLIC_URL, TWILIO_AUTH_TOKEN,
//! TEMPORAL_ADDRESS …). Webhooks and bare starts alternate, one at a time; afterwards every
//! benchmark call is completed with a signed status callback so its workflow ends.

use anyhow::{Context, Result, bail};
use domain::{AgentId, CallDirection, CallSid, E164, TenantId, workflow_io::CallWorkflowInput};
use std::time::{Duration, Instant};
use switchboard::{config::Settings, demo_call};
use temporalio_client::WorkflowStartOptions;
use workflows::CallWorkflow;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn sorted(mut samples: Vec<Duration>) -> Vec<Duration> {
    samples.sort();
    samples
}

fn report(name: &str, samples: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<32} n={:<5} p50={:>7.2} ms  p90={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        samples.len(),
        ms(percentile(samples, 0.50)),
        ms(percentile(samples, 0.90)),
        ms(percentile(samples, 0.99)),
        ms(*samples.last().unwrap()),
    );
}

/// One signed voice webhook for a new call: its latency and the call's SID.
async fn one_webhook(
    http: &reqwest::Client,
    settings: &Settings,
    i: usize,
) -> Result<(Duration, String)> {
    let sid = format!(
        "CA{:032x}",
        (u128::from(std::process::id()) << 64) | (i as u128) | (1 << 40)
    );
    let params = demo_call::voice_params(
        &sid,
        &settings.twilio_account_sid,
        "+14155550199",
        switchboard::dev::DEMO_NUMBER,
    );
    let started = Instant::now();
    let response = demo_call::post_signed(http, settings, "/twilio/voice", &params).await?;
    let status = response.status();
    let body = response.text().await?;
    let took = started.elapsed();
    if !status.is_success() || !body.contains("<Stream") {
        bail!("webhook {i} answered {status}: {body}");
    }
    Ok((took, sid))
}

/// One bare `StartWorkflowExecution` of a `CallWorkflow` on a queue no worker polls.
async fn one_bare_start(
    client: &temporalio_client::Client,
    queue: &str,
    i: usize,
) -> Result<Duration> {
    let input = CallWorkflowInput {
        call_sid: CallSid::parse(&format!(
            "CA{:032x}",
            (u128::from(std::process::id()) << 64) | (i as u128) | (2 << 40)
        ))?,
        tenant_id: TenantId::new(),
        agent_id: AgentId::new(),
        agent_name: "bench".into(),
        direction: CallDirection::Inbound,
        from: E164::parse("+14155550199")?.into(),
        to: E164::parse("+15005550006")?,
        max_duration_secs: 60,
        followup_sms: None,
        carried: None,
        campaign: None,
        channel: Default::default(),
        tools: None,
    };
    let options = WorkflowStartOptions::new(
        queue.to_owned(),
        format!("bench-bare-{}-{i}", std::process::id()),
    )
    .execution_timeout(Duration::from_secs(30))
    .build();
    let started = Instant::now();
    client
        .start_workflow(CallWorkflow::run, input, options)
        .await
        .context("bare start")?;
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() -> Result<()> {
    let _ = dotenvy::dotenv();
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1000);
    let settings = Settings::from_env()?;
    let http = reqwest::Client::new();

    let client = worker::connect(&settings.temporal_address, &settings.temporal_namespace).await?;
    let unpolled_queue = format!("bench-unpolled-{}", std::process::id());
    let (mut webhook, mut bare) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut sids = Vec::with_capacity(n);
    // Interleaved, so both see the same machine and the same Temporal.
    for i in 0..n {
        let (took, sid) = one_webhook(&http, &settings, i).await?;
        webhook.push(took);
        sids.push(sid);
        bare.push(one_bare_start(&client, &unpolled_queue, i).await?);
    }

    println!(
        "{n} signed voice webhooks and {n} bare starts, interleaved, sequential, against {}",
        settings.api_bind
    );
    let (webhook, bare) = (sorted(webhook), sorted(bare));
    report("webhook → TwiML (incl. start)", &webhook);
    report("bare StartWorkflowExecution", &bare);
    for (name, p) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)] {
        println!(
            "ratio webhook / bare start at {name}: {:.2}×",
            percentile(&webhook, p).as_secs_f64() / percentile(&bare, p).as_secs_f64()
        );
    }

    for sid in &sids {
        let voice = demo_call::voice_params(
            sid,
            &settings.twilio_account_sid,
            "+14155550199",
            switchboard::dev::DEMO_NUMBER,
        );
        let params = demo_call::completed_params(&voice, 1);
        demo_call::post_signed(&http, &settings, "/twilio/status", &params).await?;
    }
    println!("completed {} benchmark calls", sids.len());
    Ok(())
}
