//! `<Dial>`: calls its target ([`super::number`], [`super::conference`]; `<Client>` and
//! `<Sip>` fail with 13227), then posts `DialCallStatus`, `DialCallSid`, `DialCallDuration` to
//! `action`, or goes on without one.

use std::ops::ControlFlow;

use domain::CallStatus;

use super::{DialOutcome, conference, number};
use crate::call::{CallRun, DocSource, End, Exit, Step};
use crate::state::CallEventKind;
use crate::twiml::{Dial, DialTarget};

/// Twilio's default `timeLimit`: 4 hours.
const DEFAULT_TIME_LIMIT_SECS: u32 = 4 * 3600;

pub(crate) async fn run(call: &mut CallRun, dial: &Dial) -> Step {
    let outcome = match &dial.target {
        DialTarget::Number(numbers) => {
            let Some(first) = numbers.first() else {
                return ControlFlow::Continue(());
            };
            let time_limit = dial.time_limit_secs.unwrap_or(DEFAULT_TIME_LIMIT_SECS);
            let leg = number::Leg {
                number: &first.number,
                caller_id: dial.caller_id.as_deref(),
                timeout_secs: dial.timeout_secs,
                time_limit_secs: time_limit,
            };
            number::run(call, leg).await?
        }
        DialTarget::Conference(spec) => conference::run(call, spec).await?,
        DialTarget::Client(c) | DialTarget::Sip(c) => {
            call.event(CallEventKind::Error {
                code: 13227,
                message: format!("the sim cannot dial {c}"),
            });
            DialOutcome {
                status: CallStatus::Failed,
                call_sid: None,
                duration: 0,
                caller_gone: false,
            }
        }
    };
    after_dial(call, dial, outcome)
}

/// The `action` (or the next verb); a caller who hung up during the dial ends the call, the
/// action still being told.
fn after_dial(call: &CallRun, dial: &Dial, outcome: DialOutcome) -> Step {
    let Some(action) = &dial.action else {
        return if outcome.caller_gone {
            ControlFlow::Break(Exit::End(End::PersonHungUp))
        } else {
            ControlFlow::Continue(())
        };
    };
    let doc = DocSource::Url {
        url: action.clone(),
        method: dial.method.clone(),
        extra: dial_params(&outcome),
    };
    if outcome.caller_gone {
        call.post_and_forget(doc);
        ControlFlow::Break(Exit::End(End::PersonHungUp))
    } else {
        ControlFlow::Break(Exit::Goto(doc))
    }
}

fn dial_params(outcome: &DialOutcome) -> Vec<(String, String)> {
    let mut extra = vec![("DialCallStatus".to_owned(), outcome.status.to_string())];
    if let Some(child) = &outcome.call_sid {
        extra.push(("DialCallSid".into(), child.clone()));
        extra.push(("DialCallDuration".into(), outcome.duration.to_string()));
    }
    extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_gets_the_child_call() {
        let bridged = DialOutcome {
            status: CallStatus::Completed,
            call_sid: Some("CA1".into()),
            duration: 42,
            caller_gone: false,
        };
        assert_eq!(
            dial_params(&bridged),
            [
                ("DialCallStatus".to_owned(), "completed".to_owned()),
                ("DialCallSid".to_owned(), "CA1".to_owned()),
                ("DialCallDuration".to_owned(), "42".to_owned()),
            ]
        );
        let conference = DialOutcome {
            call_sid: None,
            ..bridged
        };
        assert_eq!(
            dial_params(&conference),
            [("DialCallStatus".to_owned(), "completed".to_owned())]
        );
    }
}
