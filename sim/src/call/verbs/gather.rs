//! `<Gather>`: nested prompts with barge-in; DTMF from the person's `Digits` actions
//! (`numDigits`, `finishOnKey`, `timeout` between keys) and speech = the text of the person's
//! next `Say` (`SpeechResult`, `Confidence`=0.9). Input → POST to `action` (default: the
//! current document) and run its answer; no input → the next verb (or the action with empty
//! `Digits` when `actionOnEmptyResult`).

use std::ops::ControlFlow;
use std::time::Duration;

use tokio::time::Instant;

use super::prompt;
use crate::call::person::Utterance;
use crate::call::{CallRun, DocSource, Exit, Step};
use crate::state::CallEventKind;
use crate::twiml::{Gather, GatherInput};

/// What a `<Gather>` has collected so far.
#[derive(Debug, Default, PartialEq, Eq)]
struct Collected {
    digits: String,
    speech: Option<String>,
    finished_on: Option<char>,
}

impl Collected {
    /// Takes one utterance; returns whether gathering is complete.
    fn take(&mut self, g: &Gather, u: Utterance) -> bool {
        match u {
            Utterance::Digit(c) if g.input.contains(&GatherInput::Dtmf) => {
                if g.finish_on_key.contains(c) {
                    self.finished_on = Some(c);
                    return true;
                }
                self.digits.push(c);
                g.num_digits
                    .is_some_and(|n| self.digits.len() >= n as usize)
            }
            Utterance::Speech {
                text: Some(text), ..
            } if g.input.contains(&GatherInput::Speech) => {
                self.speech = Some(text);
                true
            }
            _ => false,
        }
    }

    fn got_input(&self) -> bool {
        !self.digits.is_empty() || self.speech.is_some() || self.finished_on.is_some()
    }

    /// The parameters the action gets.
    fn into_params(self) -> Vec<(String, String)> {
        let mut extra = Vec::new();
        if let Some(text) = self.speech {
            extra.push(("SpeechResult".to_owned(), text));
            extra.push(("Confidence".into(), "0.9".into()));
        } else {
            extra.push(("Digits".into(), self.digits));
            if let Some(key) = self.finished_on {
                extra.push(("FinishedOnKey".into(), key.to_string()));
            }
        }
        extra
    }
}

pub(crate) async fn run(call: &mut CallRun, g: &Gather) -> Step {
    let collected = collect(call, g).await?;
    call.event(CallEventKind::Gathered {
        digits: (!collected.digits.is_empty()).then(|| collected.digits.clone()),
        speech: collected.speech.clone(),
    });
    if !collected.got_input() && !g.action_on_empty_result {
        return ControlFlow::Continue(());
    }
    let Some(url) = g.action.clone().or_else(|| call.doc_url.clone()) else {
        return ControlFlow::Continue(());
    };
    ControlFlow::Break(Exit::Goto(DocSource::Url {
        url,
        method: g.method.clone(),
        extra: collected.into_params(),
    }))
}

/// The prompts (which the person may interrupt), then input until `timeout` passes with none.
async fn collect(call: &mut CallRun, g: &Gather) -> Step<Collected> {
    let mut collected = Collected::default();
    let mut done = false;
    for nested in &g.nested {
        if let Some(u) = prompt(call, nested, true).await? {
            done = collected.take(g, u);
            if done || !collected.digits.is_empty() {
                break;
            }
        }
    }
    while !done {
        let deadline = Instant::now() + Duration::from_secs(u64::from(g.timeout_secs));
        match call.listen_until(deadline, true).await? {
            None => break,
            Some(u) => done = collected.take(g, u),
        }
    }
    ControlFlow::Continue(collected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twiml::{Verb, parse};

    fn gather(attrs: &str) -> Gather {
        match parse(&format!("<Response><Gather {attrs}/></Response>"))
            .unwrap()
            .remove(0)
        {
            Verb::Gather(g) => g,
            other => panic!("{other:?}"),
        }
    }

    fn speech(text: &str) -> Utterance {
        Utterance::Speech {
            text: Some(text.into()),
            audio: Vec::new(),
        }
    }

    #[test]
    fn digits_until_num_digits_or_the_finish_key() {
        let g = gather("numDigits=\"3\"");
        let mut c = Collected::default();
        assert!(!c.take(&g, Utterance::Digit('1')));
        assert!(!c.take(&g, speech("ignored: dtmf only")));
        assert!(!c.take(&g, Utterance::Digit('2')));
        assert!(c.take(&g, Utterance::Digit('3')));
        assert_eq!(c.into_params(), [("Digits".to_owned(), "123".to_owned())]);
        let mut c = Collected::default();
        assert!(!c.take(&g, Utterance::Digit('4')));
        assert!(c.take(&g, Utterance::Digit('#')));
        assert_eq!(
            c.into_params(),
            [
                ("Digits".to_owned(), "4".to_owned()),
                ("FinishedOnKey".to_owned(), "#".to_owned())
            ]
        );
    }

    #[test]
    fn speech_is_the_next_thing_said() {
        let g = gather("input=\"speech\"");
        let mut c = Collected::default();
        assert!(
            !c.take(&g, Utterance::Digit('1')),
            "dtmf is not listened for"
        );
        assert!(!c.got_input());
        assert!(c.take(&g, speech("book a cleaning")));
        assert_eq!(
            c.into_params(),
            [
                ("SpeechResult".to_owned(), "book a cleaning".to_owned()),
                ("Confidence".to_owned(), "0.9".to_owned())
            ]
        );
    }
}
