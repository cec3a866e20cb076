//! The TwiML interpreter's verbs, one module each, behind [`exec`]:
//!
//! - [`say`]: synthesized ([`crate::speech::synthesize`]) and heard by the person, in real
//!   time; the text is recorded (`call_said`).
//! - [`play`]: the WAV at `url` if it can be fetched, else a 1 s tone; `digits` are heard as
//!   tones.
//! - [`pause`].
//! - [`gather`]: nested prompts with barge-in; DTMF and speech from the person.
//! - [`dial`]: `<Dial>` with its `action`; [`number`] bridges a child call to a number,
//!   [`conference`] joins a conference's mix.
//! - [`stream`]: `<Connect><Stream>`, a media stream to the product.
//! - [`record`]: the person's speech, served at `Recordings/{Sid}`.
//! - [`redirect`], [`hangup`] (`<Hangup>` and `<Reject>`).
//!
//! Other verbs (`<Enqueue>`, `<Leave>`) are logged as 12200 and skipped.

pub(crate) mod conference;
pub(crate) mod dial;
pub(crate) mod gather;
pub(crate) mod hangup;
pub(crate) mod number;
pub(crate) mod pause;
pub(crate) mod play;
pub(crate) mod record;
pub(crate) mod redirect;
pub(crate) mod say;
pub(crate) mod stream;

use std::ops::ControlFlow;

use domain::CallStatus;

use super::person::Utterance;
use super::{CallRun, Step};
use crate::state::CallEventKind;
use crate::twiml::{DialTarget, Verb};

/// Runs one verb.
pub(crate) async fn exec(call: &mut CallRun, verb: &Verb) -> Step {
    match verb {
        Verb::Say(_) | Verb::Play(_) | Verb::Pause(_) => {
            prompt(call, verb, false).await?;
            ControlFlow::Continue(())
        }
        Verb::Gather(g) => gather::run(call, g).await,
        Verb::Dial(d) => dial::run(call, d).await,
        Verb::Connect(c) => match &c.stream {
            Some(spec) => stream::run(call, spec).await,
            None => ControlFlow::Continue(()),
        },
        Verb::Record(r) => record::run(call, r).await,
        Verb::Redirect(r) => redirect::run(r),
        Verb::Hangup => hangup::hangup(),
        Verb::Reject(r) => hangup::reject(r),
        other => {
            call.event(CallEventKind::Error {
                code: 12200,
                message: format!("<{}> is not simulated; skipped", other.name()),
            });
            ControlFlow::Continue(())
        }
    }
}

/// `<Say>`, `<Play>` or `<Pause>`; with `barge_in`, the person's first utterance stops it and
/// is returned.
pub(crate) async fn prompt(
    call: &mut CallRun,
    verb: &Verb,
    barge_in: bool,
) -> Step<Option<Utterance>> {
    match verb {
        Verb::Say(s) => say::run(call, s, barge_in).await,
        Verb::Play(p) => play::run(call, p, barge_in).await,
        Verb::Pause(p) => pause::run(call, p, barge_in).await,
        _ => ControlFlow::Continue(None),
    }
}

/// How a `<Dial>` went.
pub(crate) struct DialOutcome {
    /// `DialCallStatus`: the child call's final status.
    pub status: CallStatus,
    pub call_sid: Option<String>,
    pub duration: u64,
    /// The caller hung up during the dial.
    pub caller_gone: bool,
}

/// The verb's gist for the transcript.
pub(crate) fn detail(verb: &Verb) -> String {
    match verb {
        Verb::Say(s) => s.text.clone(),
        Verb::Play(p) => p
            .url
            .clone()
            .or_else(|| p.digits.clone())
            .unwrap_or_default(),
        Verb::Pause(p) => format!("{}s", p.length_secs),
        Verb::Gather(g) => format!(
            "{:?} -> {}",
            g.input,
            g.action.as_deref().unwrap_or("(current document)")
        ),
        Verb::Dial(d) => match &d.target {
            DialTarget::Number(n) => n
                .iter()
                .map(|n| n.number.as_str())
                .collect::<Vec<_>>()
                .join(","),
            DialTarget::Conference(c) => format!("conference {}", c.name),
            DialTarget::Client(c) => format!("client {c}"),
            DialTarget::Sip(s) => format!("sip {s}"),
        },
        Verb::Connect(c) => c.stream.as_ref().map(|s| s.url.clone()).unwrap_or_default(),
        Verb::Redirect(r) => r.url.clone(),
        Verb::Reject(r) => r.reason.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twiml::parse;

    fn details(xml: &str) -> Vec<String> {
        parse(xml).unwrap().iter().map(detail).collect()
    }

    #[test]
    fn transcript_details_of_verbs() {
        assert_eq!(
            details(
                "<Response><Say>Hi</Say><Play digits=\"12w\"/><Pause length=\"3\"/>\
                 <Gather input=\"speech dtmf\"/><Gather action=\"/next\"/>\
                 <Dial><Number>+15550001</Number><Number>+15550002</Number></Dial>\
                 <Dial><Conference>room</Conference></Dial><Dial><Client>bob</Client></Dial>\
                 <Connect><Stream url=\"wss://x/media\"/></Connect>\
                 <Redirect>/again</Redirect><Reject reason=\"busy\"/><Hangup/></Response>"
            ),
            [
                "Hi",
                "12w",
                "3s",
                "[Speech, Dtmf] -> (current document)",
                "[Dtmf] -> /next",
                "+15550001,+15550002",
                "conference room",
                "client bob",
                "wss://x/media",
                "/again",
                "busy",
                "",
            ]
        );
    }
}
