//! Webhook → TwiML latency, including the `CallWorkflow` start, and in the same run the latency
//! of a bare `StartWorkflowExecution` from the Temporal client — the floor the webhook sits on.
//! Webhooks and bare starts alternate, one at a time, so both see the same machine; afterwards
//! every benchmark call is completed with a signed status callback so its workflow ends.

use anyhow::{Context, Result, bail};
use domain::{AgentId, CallDirection, CallSid, E164, TenantId, workflow_io::CallWorkflowInput};
use std::time::{Duration, Instant};
use switchboard::{config::Settings, demo_call};
use temporalio_client::WorkflowStartOptions;
use workflows::CallWorkflow;

use crate::report::Samples;

/// A call SID of this process: `kind` keeps webhook calls, bare starts and turn calls apart.
pub(crate) fn call_sid(kind: u128, i: usize) -> String {
    format!(
        "CA{:032x}",
        (u128::from(std::process::id()) << 64) | (i as u128) | (kind << 40)
    )
}

/// One signed voice webhook for a new call from `from`: its latency and the TwiML.
pub(crate) async fn voice_webhook(
    http: &reqwest::Client,
    settings: &Settings,
    sid: &str,
    from: &str,
) -> Result<(Duration, String)> {
    let params = demo_call::voice_params(
        sid,
        &settings.twilio_account_sid,
        from,
        switchboard::dev::DEMO_NUMBER,
    );
    let started = Instant::now();
    let response = demo_call::post_signed(http, settings, "/twilio/voice", &params).await?;
    let status = response.status();
    let body = response.text().await?;
    let took = started.elapsed();
    if !status.is_success() || !body.contains("<Stream") {
        bail!("the voice webhook of {sid} answered {status}: {body}");
    }
    Ok((took, body))
}

/// The signed status callback that ends a call (`completed`).
pub(crate) async fn complete(
    http: &reqwest::Client,
    settings: &Settings,
    sid: &str,
    from: &str,
) -> Result<()> {
    let voice = demo_call::voice_params(
        sid,
        &settings.twilio_account_sid,
        from,
        switchboard::dev::DEMO_NUMBER,
    );
    let params = demo_call::completed_params(&voice, 1);
    demo_call::post_signed(http, settings, "/twilio/status", &params).await?;
    Ok(())
}

/// One bare `StartWorkflowExecution` of a `CallWorkflow` on a queue no worker polls.
async fn one_bare_start(
    client: &temporalio_client::Client,
    queue: &str,
    i: usize,
) -> Result<Duration> {
    let input = CallWorkflowInput {
        call_sid: CallSid::parse(&call_sid(2, i))?,
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

/// `n` webhooks and `n` bare starts, interleaved: (webhook, bare start) latencies.
pub(crate) async fn measure(
    http: &reqwest::Client,
    settings: &Settings,
    n: usize,
) -> Result<(Samples, Samples)> {
    const FROM: &str = "+14155550199";
    let client = worker::connect(&settings.temporal_address, &settings.temporal_namespace).await?;
    let unpolled_queue = format!("bench-unpolled-{}", std::process::id());
    let (mut webhook, mut bare) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut sids = Vec::with_capacity(n);
    for i in 0..n {
        let sid = call_sid(1, i);
        let (took, _) = voice_webhook(http, settings, &sid, FROM).await?;
        webhook.push(took);
        sids.push(sid);
        bare.push(one_bare_start(&client, &unpolled_queue, i).await?);
    }
    for sid in &sids {
        complete(http, settings, sid, FROM).await?;
    }
    Ok((Samples::new(webhook), Samples::new(bare)))
}
