//! Turn overhead: for each caller turn, the time from the caller's last voiced frame leaving
//! the phone to the agent's first frame arriving there, less the models' own time in between
//! (the fakes' spans: a speech-to-speech model's wait for the caller's silence; for the
//! cascaded engine the speech-to-text endpointing, the LLM and the text-to-speech's first
//! audio). What is left is Switchboard's: the bridge both ways, the engine client, and for the
//! cascaded engine the Update to the call workflow, its `llm_turn` activity and the reply.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sim::twiml::{Connect, Verb};
use switchboard::config::Settings;
use testkit::timing::ModelSpan;

use crate::caller::{Caller, StreamTarget};
use crate::report::Samples;
use crate::webhook;

/// How long the caller speaks each turn.
const TURN_MS: u32 = 600;
/// Agent silence that ends its reply, for the caller.
const QUIET: Duration = Duration::from_millis(300);
const WAIT: Duration = Duration::from_secs(15);

/// One caller turn as the phone saw it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Turn {
    pub(crate) last_voice: Instant,
    pub(crate) first_agent_frame: Instant,
}

/// One engine's turns: what the caller heard, the models' part, and the rest, which is split
/// into the way to the first model (the caller's frame through the bridge and the engine
/// client), the way back from the last one (its audio to the caller's phone), and what lies
/// between models (for the cascaded engine: the Update, the activity, the reply).
pub(crate) struct TurnFigures {
    pub(crate) heard: Samples,
    pub(crate) model: Samples,
    pub(crate) overhead: Samples,
    pub(crate) to_model: Samples,
    pub(crate) from_model: Samples,
    pub(crate) between: Samples,
}

impl TurnFigures {
    /// Each turn's span split by the model spans that began inside it.
    pub(crate) fn of(turns: &[Turn], spans: &[ModelSpan]) -> TurnFigures {
        let mut columns: [Vec<Duration>; 6] = Default::default();
        for turn in turns {
            let whole = turn.first_agent_frame - turn.last_voice;
            let inside: Vec<&ModelSpan> = spans
                .iter()
                .filter(|s| s.heard >= turn.last_voice && s.heard < turn.first_agent_frame)
                .collect();
            let models: Duration = inside
                .iter()
                .map(|s| s.answered.min(turn.first_agent_frame) - s.heard)
                .sum();
            let overhead = whole.saturating_sub(models);
            let to_model = inside
                .iter()
                .map(|s| s.heard)
                .min()
                .map_or(Duration::ZERO, |first| first - turn.last_voice);
            let from_model = inside
                .iter()
                .map(|s| s.answered.min(turn.first_agent_frame))
                .max()
                .map_or(Duration::ZERO, |last| turn.first_agent_frame - last);
            let between = overhead.saturating_sub(to_model + from_model);
            for (column, value) in columns
                .iter_mut()
                .zip([whole, models, overhead, to_model, from_model, between])
            {
                column.push(value);
            }
        }
        let [heard, model, overhead, to_model, from_model, between] = columns.map(Samples::new);
        TurnFigures {
            heard,
            model,
            overhead,
            to_model,
            from_model,
            between,
        }
    }
}

/// `calls` calls one after the other, `turns` caller turns each, through the demo number.
pub(crate) async fn run(
    http: &reqwest::Client,
    settings: &Settings,
    first_sid: usize,
    calls: usize,
    turns: usize,
) -> Result<Vec<Turn>> {
    let mut all = Vec::with_capacity(calls * turns);
    for i in 0..calls {
        let sid = webhook::call_sid(3, first_sid + i);
        let from = format!("+1415555{:04}", 1000 + (first_sid + i) % 9000);
        let result = one_call(http, settings, &sid, &from, turns).await;
        webhook::complete(http, settings, &sid, &from).await?;
        all.extend(result.with_context(|| format!("call {sid}"))?);
    }
    Ok(all)
}

async fn one_call(
    http: &reqwest::Client,
    settings: &Settings,
    sid: &str,
    from: &str,
    turns: usize,
) -> Result<Vec<Turn>> {
    let (_, twiml) = webhook::voice_webhook(http, settings, sid, from).await?;
    let stream = sim::twiml::parse(&twiml)
        .map_err(|e| anyhow::anyhow!("TwiML: {}", e.message()))?
        .into_iter()
        .find_map(|verb| match verb {
            Verb::Connect(Connect {
                stream: Some(stream),
            }) => Some(stream),
            _ => None,
        })
        .context("a <Connect><Stream> in the TwiML")?;
    let connected = Instant::now();
    let caller = Caller::connect(StreamTarget {
        ws_url: stream.url,
        auth_token: settings.twilio_auth_token.expose().to_owned(),
        account_sid: settings.twilio_account_sid.clone(),
        call_sid: sid.to_owned(),
        parameters: stream.parameters,
    })
    .await?;
    // The greeting.
    caller.first_agent_frame_after(connected, WAIT).await?;
    caller.agent_quiet(QUIET, WAIT).await?;
    let mut measured = Vec::with_capacity(turns);
    for _ in 0..turns {
        caller.say(TURN_MS);
        let last_voice = caller.said(WAIT).await?;
        let first_agent_frame = caller
            .first_agent_frame_after(last_voice, WAIT)
            .await
            .context("the agent's answer")?;
        measured.push(Turn {
            last_voice,
            first_agent_frame,
        });
        caller.agent_quiet(QUIET, WAIT).await?;
    }
    caller.hang_up().await?;
    if measured.len() != turns {
        bail!("{} of {turns} turns answered", measured.len());
    }
    Ok(measured)
}
