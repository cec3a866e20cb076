//! Answering machine detection (`MachineDetection`): what the phone is taken for, and when.
//! Synchronous AMD holds the call's first document until the verdict; `AsyncAmd` fetches it at
//! once and posts the verdict to `AsyncAmdStatusCallback`.

use std::time::Duration;

use tokio::time::Instant;

use super::lifecycle::{record_of, update_record};
use super::person::Utterance;
use super::{CallRun, End, Input, OutboundRequest};
use crate::person::{Answer, PersonScript, machine_greeting};
use crate::state::{CallCommand, CallEventKind, Shared};
use crate::webhooks::{self, Webhook};

/// AMD's verdict (`AnsweredBy`) and how long detection takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detection {
    pub answered_by: &'static str,
    pub ms: u64,
}

/// What AMD in `mode` (`Enable` / `DetectMessageEnd`) makes of `script`'s phone.
pub(crate) fn detect(script: &PersonScript, registered: bool, mode: &str) -> Detection {
    let (answered_by, ms) = match script.answer {
        Answer::Machine { greeting_ms } if mode == "DetectMessageEnd" => (
            "machine_end_beep",
            machine_greeting(greeting_ms).len() as u64 / 8 + 100,
        ),
        Answer::Machine { greeting_ms } => ("machine_start", u64::from(greeting_ms).min(1200)),
        _ if !registered => ("unknown", 1500),
        _ => ("human", 1000),
    };
    Detection { answered_by, ms }
}

/// Runs detection on an answered call. `Some(end)` when the call ended while synchronous
/// detection held it.
pub(crate) async fn run(call: &mut CallRun, req: &OutboundRequest, d: Detection) -> Option<End> {
    if req.async_amd {
        let (shared, sid) = (call.shared.clone(), call.sid.clone());
        let callback = req
            .async_amd_callback
            .clone()
            .map(|url| (url, req.async_amd_callback_method.clone()));
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(d.ms)).await;
            if record_of(&shared, &sid).is_some_and(|r| r.is_final()) {
                return;
            }
            apply(&shared, &sid, d);
            if let Some((url, method)) = callback {
                post_verdict(&shared, &sid, d, &url, &method).await;
            }
        });
        return None;
    }
    // Synchronous: the Url waits for the verdict; the person may hang up meanwhile.
    let deadline = Instant::now() + Duration::from_millis(d.ms);
    loop {
        match call.wait(Some(deadline)).await {
            Input::Timeout => break,
            Input::Person(Utterance::HangUp) => return Some(End::PersonHungUp),
            Input::Command(CallCommand::Hangup(_)) => return Some(End::Api),
            _ => {}
        }
    }
    apply(&call.shared, &call.sid, d);
    None
}

/// The verdict goes on the call (`AnsweredBy`) and its transcript.
fn apply(shared: &Shared, sid: &str, d: Detection) {
    update_record(shared, sid, |r| r.answered_by = Some(d.answered_by.into()));
    shared.event(
        sid,
        CallEventKind::AnsweredBy {
            answered_by: d.answered_by.into(),
        },
    );
}

/// `AsyncAmdStatusCallback`.
async fn post_verdict(shared: &Shared, sid: &str, d: Detection, url: &str, method: &str) {
    let params = vec![
        ("AccountSid".into(), shared.settings.account_sid.clone()),
        ("AnsweredBy".into(), d.answered_by.into()),
        ("CallSid".into(), sid.to_owned()),
        ("MachineDetectionDuration".into(), d.ms.to_string()),
    ];
    let hook = Webhook::post(url, params, "amd-callback").with_method(method);
    webhooks::send_callback(shared, hook, Some(sid)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let human = PersonScript::human();
        assert_eq!(
            detect(&human, true, "Enable"),
            Detection {
                answered_by: "human",
                ms: 1000
            }
        );
        assert_eq!(
            detect(&human, false, "Enable"),
            Detection {
                answered_by: "unknown",
                ms: 1500
            }
        );
        let machine = PersonScript::machine(3000);
        assert_eq!(
            detect(&machine, true, "Enable"),
            Detection {
                answered_by: "machine_start",
                ms: 1200
            }
        );
        assert_eq!(detect(&PersonScript::machine(800), true, "Enable").ms, 800);
        let end = detect(&machine, true, "DetectMessageEnd");
        assert_eq!(end.answered_by, "machine_end_beep");
        assert_eq!(end.ms, machine_greeting(3000).len() as u64 / 8 + 100);
    }
}
