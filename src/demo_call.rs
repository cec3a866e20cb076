//! `switchboard demo-call`: posts a correctly signed Twilio voice webhook (and, optionally, the
//! final status callback) to a running API — a call as Twilio would start it, without Twilio.

use crate::config::Settings;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::time::Duration;
use telephony::compute_signature;

#[derive(Debug, Args)]
pub struct DemoCallArgs {
    /// The number called (routed to an agent).
    #[arg(long, default_value = crate::dev::DEMO_NUMBER)]
    pub to: String,
    /// The caller's number.
    #[arg(long, default_value = "+14155550199")]
    pub from: String,
    /// Send the `completed` status callback after this many seconds.
    #[arg(long)]
    pub hangup_after: Option<u64>,
}

pub fn random_call_sid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("CA{:032x}", nanos ^ (u128::from(std::process::id()) << 64))
}

/// Posts a form to `path` on the API, signed as Twilio would sign it.
pub async fn post_signed(
    http: &reqwest::Client,
    settings: &Settings,
    path: &str,
    params: &[(String, String)],
) -> Result<reqwest::Response> {
    let public = format!(
        "{}{path}",
        settings.public_url.as_str().trim_end_matches('/')
    );
    let signature = compute_signature(settings.twilio_auth_token.expose(), &public, params);
    let local = format!("http://{}{path}", settings.api_bind);
    http.post(local)
        .header("X-Twilio-Signature", signature)
        .form(params)
        .send()
        .await
        .with_context(|| format!("posting to the API at {}", settings.api_bind))
}

pub fn voice_params(
    call_sid: &str,
    account_sid: &str,
    from: &str,
    to: &str,
) -> Vec<(String, String)> {
    [
        ("AccountSid", account_sid),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        ("Called", to),
        ("Caller", from),
        ("Direction", "inbound"),
        ("From", from),
        ("To", to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The final status callback of the call that `voice` started: `completed` after `duration_secs`.
pub fn completed_params(voice: &[(String, String)], duration_secs: u64) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = voice
        .iter()
        .filter(|(k, _)| k != "CallStatus")
        .cloned()
        .collect();
    params.push(("CallStatus".into(), "completed".into()));
    params.push(("CallDuration".into(), duration_secs.to_string()));
    params
}

pub async fn run(settings: Settings, args: DemoCallArgs) -> Result<()> {
    let http = reqwest::Client::new();
    let call_sid = random_call_sid();
    let params = voice_params(
        &call_sid,
        &settings.twilio_account_sid,
        &args.from,
        &args.to,
    );
    let response = post_signed(&http, &settings, "/twilio/voice", &params).await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("the voice webhook answered {status}: {body}");
    }
    println!("voice webhook → {status}\n{body}\n");
    println!(
        "workflow: http://127.0.0.1:{}/namespaces/{}/workflows/call-{call_sid}",
        settings.temporal_ui_port, settings.temporal_namespace
    );
    if let Some(secs) = args.hangup_after {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let params = completed_params(&params, secs);
        let response = post_signed(&http, &settings, "/twilio/status", &params).await?;
        println!("status callback (completed) → {}", response.status());
    }
    Ok(())
}
