//! Campaign dispatch against a running stack (`switchboard dev`, or `api` + `worker` with a
//! simulator): N targets whose phones are busy (each call ends at once, so the campaign's own
//! work is what is measured), one attempt each.
//!
//!   cargo run --release --bin bench-campaign -- [N] [CONCURRENCY] [PRODUCT_PID]
//!
//! Prints calls placed per second, the product's CPU per call (with its PID), and the
//! campaign's history: events per run and per target — the bound continue-as-new keeps. The
//! baseline in the same run is the simulator's own rate: N create-call requests sent straight
//! to it, with no campaign, no workflow and no webhook.

use anyhow::{Context, Result};
use futures::StreamExt;
use serde_json::json;
use sim::person::PersonScript;
use std::time::{Duration, Instant};
use switchboard::{
    config::Settings,
    sim_cli::{
        campaign::{Api, create, follow},
        client::Control,
        procstat,
    },
};
use temporalio_client::{WorkflowExecutionInfo, WorkflowFetchHistoryOptions, WorkflowListOptions};

/// The `i`-th target's number: valid NANP numbers in one area code.
fn number(i: usize) -> String {
    format!("+1212{:07}", 2_000_000 + i)
}

#[tokio::main]
async fn main() -> Result<()> {
    let _ = dotenvy::dotenv();
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let concurrency: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);
    let pid = args.next();
    let settings = Settings::from_env()?;
    let key = switchboard::sim_cli::call::api_key_or_demo(None)
        .context("run `switchboard dev` first (its demo key is read from .data)")?;
    let api = Api::new(settings.public_url.as_str(), key);
    let sim = Control::new(&std::env::var("SIM_URL").unwrap_or("http://127.0.0.1:8089".into()))?;

    let mut csv = String::from("Name,Phone,Time Zone\n");
    let zone = domain::campaign::CallingWindow::default()
        .a_zone_open_now(chrono::Utc::now(), chrono::Duration::hours(1))
        .context("no zone inside its calling window for the next hour")?;
    for i in 0..n {
        sim.register(&number(i), &PersonScript::busy()).await?;
        csv.push_str(&format!("Target {i},{},{}\n", number(i), zone.name()));
    }
    let campaign = create(
        &api,
        json!({"concurrency": concurrency, "calls_per_second": 50,
               "retry": {"max_attempts": 1}}),
        csv,
    )
    .await?;
    let cpu_before = pid.as_deref().and_then(procstat::process_cpu_seconds);
    let started = Instant::now();
    api.call(
        reqwest::Method::POST,
        &format!("/v1/campaigns/{campaign}/start"),
        None,
    )
    .await?;
    let done = follow(&api, &campaign, Duration::from_secs(3600)).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = pid
        .as_deref()
        .and_then(procstat::process_cpu_seconds)
        .zip(cpu_before)
        .map(|(after, before)| after - before);

    let events = history_events(&settings, &campaign).await?;
    println!();
    println!("targets              {n} (busy, one attempt), concurrency {concurrency}");
    println!("final                {}", done["targets"]);
    println!(
        "dispatch             {:.1} calls/s ({elapsed:.1} s in all)",
        n as f64 / elapsed
    );
    if let Some(cpu) = cpu {
        println!(
            "product CPU          {cpu:.1} s = {:.1} ms per call",
            cpu * 1000.0 / n as f64
        );
    }
    println!(
        "history              {} runs, events per run max {} (total {} = {:.1} per target)",
        events.len(),
        events.iter().max().unwrap_or(&0),
        events.iter().sum::<usize>(),
        events.iter().sum::<usize>() as f64 / n as f64
    );
    Ok(())
}

/// Events in each run of `campaign-{id}`.
async fn history_events(settings: &Settings, campaign: &str) -> Result<Vec<usize>> {
    let client = switchboard::app::temporal_client(settings).await?;
    let workflow_id = format!("campaign-{campaign}");
    let mut runs = client.list_workflows(
        format!("WorkflowId = '{workflow_id}'"),
        WorkflowListOptions::default(),
    );
    let mut events = Vec::new();
    while let Some(run) = runs.next().await {
        let info = WorkflowExecutionInfo::builder()
            .namespace(settings.temporal_namespace.clone())
            .workflow_id(workflow_id.clone())
            .run_id(run?.run_id().to_owned())
            .build();
        let json = info
            .bind_untyped(client.clone())
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .to_json()
            .await?;
        let history: serde_json::Value = serde_json::from_slice(&json)?;
        events.push(history["events"].as_array().map_or(0, Vec::len));
    }
    Ok(events)
}
