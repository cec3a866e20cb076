//! `<Record>`: the person's speech until `finishOnKey`, `timeout` s of silence or
//! `maxLength`; served at `Recordings/{Sid}` (μ-law WAV); `RecordingUrl`,
//! `RecordingDuration`, `RecordingSid`, `Digits` to `action` (default: current document).
//! Nothing recorded → next verb.

use std::ops::ControlFlow;
use std::time::Duration;

use tokio::time::Instant;

use crate::call::person::Utterance;
use crate::call::{CallRun, DocSource, End, Exit, Input, Step};
use crate::speech;
use crate::state::{API_VERSION, CallEventKind, new_sid};
use crate::twiml::Record;
use crate::webhooks::{self, Webhook};

/// What the person left.
#[derive(Debug, Default)]
struct Take {
    audio: Vec<u8>,
    /// The finish key, or `hangup`.
    digits: String,
    hung_up: bool,
}

/// A stored recording.
struct Stored {
    sid: String,
    url: String,
    duration_secs: u64,
}

pub(crate) async fn run(call: &mut CallRun, rec: &Record) -> Step {
    if rec.play_beep {
        call.event(CallEventKind::CallPlayed {
            what: "beep".into(),
            ms: u64::from(speech::BEEP_MS),
        });
        call.play(&speech::beep(), false).await?;
    }
    let take = capture(call, rec).await?;
    let hung_up = take.hung_up;
    let ended = || {
        if hung_up {
            ControlFlow::Break(Exit::End(End::PersonHungUp))
        } else {
            ControlFlow::Continue(())
        }
    };
    if take.audio.is_empty() {
        return ended();
    }
    let stored = store(call, take.audio);
    if let Some(cb) = &rec.recording_status_callback {
        recording_status(call, cb, &stored);
    }
    let Some(url) = rec.action.clone().or_else(|| call.doc_url.clone()) else {
        return ended();
    };
    let doc = DocSource::Url {
        url,
        method: rec.method.clone(),
        extra: vec![
            ("RecordingUrl".to_owned(), stored.url),
            ("RecordingDuration".into(), stored.duration_secs.to_string()),
            ("RecordingSid".into(), stored.sid),
            ("Digits".into(), take.digits),
        ],
    };
    if hung_up {
        call.post_and_forget(doc);
        return ControlFlow::Break(Exit::End(End::PersonHungUp));
    }
    ControlFlow::Break(Exit::Goto(doc))
}

/// Records until `maxLength`, or `timeout` seconds after the last speech ended, a finish key
/// or a hang-up; silence between utterances is kept.
async fn capture(call: &mut CallRun, rec: &Record) -> Step<Take> {
    let started = Instant::now();
    let max_end = started + Duration::from_secs(u64::from(rec.max_length_secs));
    let silence = Duration::from_secs(u64::from(rec.timeout_secs.max(1)));
    let mut take = Take::default();
    let mut talking_until = started;
    loop {
        let deadline = max_end.min(talking_until + silence);
        match call.wait(Some(deadline)).await {
            Input::Timeout => {
                if Instant::now() >= max_end || Instant::now() >= talking_until + silence {
                    break;
                }
            }
            Input::Person(Utterance::Speech { audio, text }) => {
                // Pad the silence since the last sound, then the speech.
                let gap = Instant::now().saturating_duration_since(talking_until.max(started));
                if !take.audio.is_empty() {
                    take.audio.extend(speech::silence(gap.as_millis() as u32));
                }
                talking_until = Instant::now() + Duration::from_millis(audio.len() as u64 / 8);
                take.audio.extend(audio);
                if let Some(t) = text {
                    call.event(CallEventKind::Gathered {
                        digits: None,
                        speech: Some(format!("(recorded) {t}")),
                    });
                }
            }
            Input::Person(Utterance::Digit(c)) => {
                if rec.finish_on_key.contains(c) {
                    take.digits = c.to_string();
                    break;
                }
            }
            Input::Person(Utterance::HangUp) => {
                take.digits = "hangup".into();
                take.hung_up = true;
                break;
            }
            Input::Command(c) => return ControlFlow::Break(call.command_exit(c)),
        }
    }
    ControlFlow::Continue(take)
}

/// Keeps the audio as a recording the REST API serves.
fn store(call: &CallRun, audio: Vec<u8>) -> Stored {
    let sid = new_sid("RE");
    let duration_secs = (audio.len() as u64).div_ceil(8000);
    call.shared.lock().recordings.insert(sid.clone(), audio);
    let url = format!(
        "{}/{API_VERSION}/Accounts/{}/Recordings/{sid}",
        call.shared.settings.base_url, call.shared.settings.account_sid
    );
    Stored {
        sid,
        url,
        duration_secs,
    }
}

/// `recordingStatusCallback`: the recording is `completed`.
fn recording_status(call: &CallRun, callback: &str, stored: &Stored) {
    let params = vec![
        (
            "AccountSid".to_owned(),
            call.shared.settings.account_sid.clone(),
        ),
        ("CallSid".into(), call.sid.clone()),
        ("RecordingSid".into(), stored.sid.clone()),
        ("RecordingUrl".into(), stored.url.clone()),
        ("RecordingStatus".into(), "completed".into()),
        ("RecordingDuration".into(), stored.duration_secs.to_string()),
        ("RecordingChannels".into(), "1".into()),
        ("RecordingSource".into(), "RecordVerb".into()),
    ];
    let hook = Webhook::post(&call.resolve(callback), params, "recording-status");
    webhooks::spawn_callback(&call.shared, hook, Some(&call.sid));
}
