//! `switchboard sim call`: one call from a simulated person, told as it happens, then the
//! product's transcript of it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sim::person::PersonScript;
use sim::{CallEvent, CallEventKind};

use super::args::CallArgs;
use super::client::Control;
use super::load::{CallOutcome, outcome_of};

/// A caller who waits for the agent to finish, says each line in turn, presses the digits,
/// waits for the answer, stays `stay_secs` more and hangs up.
pub fn caller_script(lines: &[String], digits: Option<&str>, stay_secs: u32) -> PersonScript {
    let mut person = PersonScript::human();
    for line in lines {
        person = person.wait_quiet().say(line);
    }
    if let Some(digits) = digits {
        person = person.wait_quiet().digits(digits);
    }
    person = person.wait_quiet();
    if stay_secs > 0 {
        person = person.pause(stay_secs.saturating_mul(1000));
    }
    person.hang_up()
}

/// One line of the conversation, as a person would tell it; `None` for plumbing.
pub fn describe(event: &CallEvent) -> Option<String> {
    let line = match &event.kind {
        CallEventKind::Status { status } => format!("call {status}"),
        CallEventKind::AnsweredBy { answered_by } => format!("answered by {answered_by}"),
        CallEventKind::Webhook {
            purpose,
            status,
            latency_ms,
            ..
        } => format!(
            "webhook {purpose} → {} in {latency_ms} ms",
            status.map_or("no answer".to_owned(), |s| s.to_string())
        ),
        CallEventKind::CallSaid { text } => format!("agent: {text}"),
        CallEventKind::StreamAudio { ms } => {
            format!("agent: ({:.1} s of speech)", *ms as f64 / 1000.0)
        }
        CallEventKind::PersonSaid { text } => format!("caller: {text}"),
        CallEventKind::PersonPressed { digits } => format!("caller pressed {digits}"),
        CallEventKind::Stream { event, .. } => format!("media stream {event}"),
        CallEventKind::Error { code, message } => format!("error {code}: {message}"),
        CallEventKind::HungUp { by } => format!("hung up by {by}"),
        CallEventKind::AgentAnswered { turn, after_ms } => {
            format!("agent answered after {after_ms} ms (turn {turn})")
        }
        CallEventKind::TurnUnanswered { turn } => {
            format!("no answer to turn {turn} before the caller went on")
        }
        CallEventKind::TurnOverlapped { turn } => {
            format!("turn {turn}: the agent was still talking when the caller stopped")
        }
        _ => return None,
    };
    Some(line)
}

pub async fn call(args: CallArgs) -> Result<()> {
    let control = Control::new(&args.sim)?;
    let person = caller_script(&args.say, args.digits.as_deref(), args.stay_secs);
    let sid = control.place(&args.from, &args.to, &person).await?;
    println!("calling {} from {} ({sid})", args.to, args.from);
    let (status, events) = control
        .follow(&sid, Duration::from_secs(args.timeout_secs), |event| {
            if let Some(line) = describe(event) {
                println!("[{:>6.1}s] {line}", event.at_ms as f64 / 1000.0);
            }
        })
        .await?;
    println!("call ended: {status}");
    let turns = outcome_of(status, &events);
    if let Some(line) = turns_line(&turns) {
        println!("{line}");
    }
    print_conversation(&args, &sid).await;
    if let Some(path) = &args.record {
        let wav = control.heard_wav(&sid).await?;
        std::fs::write(path, wav).with_context(|| format!("writing {}", path.display()))?;
        println!("what the caller heard: {}", path.display());
    }
    Ok(())
}

/// `voice-to-voice: 700 ms, 800 ms (3 turns, 1 unanswered, 0 over agent speech)`, when
/// the call had caller turns.
fn turns_line(turns: &CallOutcome) -> Option<String> {
    (turns.turns() > 0).then(|| {
        format!(
            "voice-to-voice: {} ({} turns, {} unanswered, {} over agent speech)",
            turns
                .v2v_ms
                .iter()
                .map(|ms| format!("{ms} ms"))
                .collect::<Vec<_>>()
                .join(", "),
            turns.turns(),
            turns.unanswered,
            turns.overlapped
        )
    })
}

/// `key`, else the demo key `switchboard dev` keeps in its data directory.
pub fn api_key_or_demo(key: Option<&str>) -> Option<String> {
    let key = key.map(str::to_owned).or_else(|| {
        let data_dir = std::env::var("SWITCHBOARD_DATA_DIR").unwrap_or_else(|_| ".data".into());
        std::fs::read_to_string(PathBuf::from(data_dir).join("demo-api-key"))
            .ok()
            .map(|k| k.trim().to_owned())
    });
    key.filter(|k| !k.is_empty())
}

/// The call's transcript as the product recorded it (`GET /v1/calls/{sid}`): what the agent
/// said in words, which the simulated phone only hears as audio.
async fn print_conversation(args: &CallArgs, sid: &str) {
    let Some(key) = api_key_or_demo(args.api_key.as_deref()) else {
        println!("(pass --api-key to read what the agent said as text)");
        return;
    };
    match fetch_transcript(&args.api, &key, sid).await {
        Ok(lines) if lines.is_empty() => println!("(the product recorded no transcript)"),
        Ok(lines) => {
            println!("conversation (the product's transcript):");
            for line in lines {
                println!("  {line}");
            }
        }
        Err(e) => println!("(no transcript from {}: {e:#})", args.api),
    }
}

#[derive(Debug, Deserialize)]
struct CallDetail {
    status: String,
    #[serde(default)]
    transcript: Vec<TranscriptLine>,
}

#[derive(Debug, Deserialize)]
struct TranscriptLine {
    speaker: String,
    text: String,
    start_ms: u64,
    #[serde(default)]
    interrupted: bool,
}

/// `[  4.1s] agent: …` lines; waits (up to 10 s) for the call's workflow to store the last
/// transcript batch, which it does as the call ends.
async fn fetch_transcript(api: &str, key: &str, sid: &str) -> Result<Vec<String>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let url = format!("{}/v1/calls/{sid}", api.trim_end_matches('/'));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = http.get(&url).bearer_auth(key).send().await?;
        let status = response.status();
        if status.is_success() {
            let call: CallDetail = response.json().await?;
            let finished = !matches!(
                call.status.as_str(),
                "queued" | "ringing" | "in-progress" | "initiated"
            );
            if finished || tokio::time::Instant::now() > deadline {
                return Ok(call
                    .transcript
                    .iter()
                    .map(|t| {
                        format!(
                            "[{:>6.1}s] {}: {}{}",
                            t.start_ms as f64 / 1000.0,
                            t.speaker,
                            t.text,
                            if t.interrupted { " (interrupted)" } else { "" }
                        )
                    })
                    .collect());
            }
        } else if status != reqwest::StatusCode::NOT_FOUND || tokio::time::Instant::now() > deadline
        {
            bail!("{url} answered {status}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim_cli::load::tests::event;
    use sim::CallStatus;

    #[test]
    fn the_caller_waits_for_quiet_before_each_line() {
        let script = caller_script(&["hello".into(), "bye".into()], Some("1"), 0);
        assert_eq!(
            script,
            PersonScript::human()
                .wait_quiet()
                .say("hello")
                .wait_quiet()
                .say("bye")
                .wait_quiet()
                .digits("1")
                .wait_quiet()
                .hang_up()
        );
    }

    #[test]
    fn the_conversation_as_told() {
        let told = |kind| describe(&event(2, kind));
        assert_eq!(
            told(CallEventKind::AgentAnswered {
                turn: 2,
                after_ms: 900
            })
            .unwrap(),
            "agent answered after 900 ms (turn 2)"
        );
        assert_eq!(
            told(CallEventKind::Status {
                status: CallStatus::NoAnswer
            })
            .unwrap(),
            "call no-answer"
        );
        assert_eq!(
            told(CallEventKind::StreamAudio { ms: 1500 }).unwrap(),
            "agent: (1.5 s of speech)"
        );
        assert_eq!(
            told(CallEventKind::Verb {
                verb: "Say".into(),
                detail: "hi".into()
            }),
            None
        );
    }

    #[test]
    fn turns_line_only_with_turns() {
        let events = [
            event(
                0,
                CallEventKind::AgentAnswered {
                    turn: 1,
                    after_ms: 700,
                },
            ),
            event(1, CallEventKind::TurnUnanswered { turn: 2 }),
        ];
        let outcome = outcome_of(CallStatus::Completed, &events);
        assert_eq!(
            turns_line(&outcome).unwrap(),
            "voice-to-voice: 700 ms (2 turns, 1 unanswered, 0 over agent speech)"
        );
        assert_eq!(turns_line(&outcome_of(CallStatus::Completed, &[])), None);
    }
}
