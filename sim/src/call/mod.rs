//! The life of a call: ringing, answering (and answering machine detection), the TwiML
//! interpreter, the simulated person on the line, and the end of the call.
//!
//! **Outbound** (`POST Calls.json`, [`outbound`]): the callee is the phone registered for `To`
//! ([`crate::SimHandle::register_phone`]) or, when none is, a silent human who answers after a
//! second and hangs up after 30 s. Status goes `queued` → `ringing` → `in-progress` →
//! `completed`, or ends `busy` / `no-answer` (after `Timeout`) / `failed` / `canceled`.
//! Status callbacks ([`lifecycle`]) go out for the requested `StatusCallbackEvent`s (default
//! `completed`), with Twilio's parameters; `SequenceNumber` counts from 0 per call.
//! `initiated` has `CallStatus=initiated`; `answered` has `in-progress`; the `completed` event
//! carries the final status (`busy`, `no-answer`… too) and `CallDuration` / `Duration`.
//!
//! **AMD** (`MachineDetection`, [`amd`]): a human is `human` after 1 s; a machine is
//! `machine_start` (`Enable`, after up to 1.2 s of greeting) or `machine_end_beep`
//! (`DetectMessageEnd`, after its greeting and beep); a phone nobody registered (silence) is
//! `unknown`. Synchronous AMD holds the `Url` fetch until detection and adds `AnsweredBy`;
//! `AsyncAmd=true` fetches at once and posts `AnsweredBy` + `MachineDetectionDuration` to
//! `AsyncAmdStatusCallback`.
//!
//! **Inbound** ([`crate::SimHandle::place_inbound_call`], [`inbound`]): the number's
//! `VoiceUrl` is fetched with `CallStatus=ringing`; the call is answered (`in-progress`) when
//! its first verb other than `<Reject>` runs. The number's `StatusCallback` gets the
//! `completed` callback.
//!
//! **TwiML**: documents are fetched with Twilio's voice parameters (`AccountSid`,
//! `ApiVersion`, `CallSid`, `CallStatus`, `Called`, `Caller`, `Direction`, `From`, `To`, plus
//! `AnsweredBy` / `ParentCallSid` when they apply), signed (see [`crate::webhooks`]). Relative
//! URLs resolve against the current document's URL. Each verb runs in its own module of
//! [`verbs`]. End of the document hangs up. A failed fetch (connection error, non-2xx) logs
//! 11200 (11205 on timeout), a bad document 12100/12200; either ends the call (`completed` if
//! answered, else `failed`).
//!
//! REST updates (`Twiml` / `Url`) interrupt the running verb; `Status=completed|canceled` ends
//! the call.
//!
//! The person on the line runs as its own task ([`person`]): it says its script's lines into
//! the call and waits on its ear for quiet.

pub(crate) mod amd;
pub(crate) mod inbound;
pub(crate) mod lifecycle;
pub(crate) mod outbound;
pub(crate) mod person;
pub(crate) mod verbs;

use std::ops::ControlFlow;

use domain::CallStatus;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::person::{Action, Answer, PersonScript};
use crate::state::{CallCommand, CallEventKind, Shared};
use crate::twiml::{self, Verb};
use crate::webhooks::{self, Webhook};
use lifecycle::{StatusCallbacks, finish, mark_answered, record_of, voice_params};
use person::{Person, Utterance};

pub(crate) use inbound::place_inbound;
pub(crate) use outbound::spawn_outbound;

/// Where a TwiML document comes from.
#[derive(Debug, Clone)]
pub(crate) enum DocSource {
    Twiml(String),
    Url {
        url: String,
        method: String,
        /// Parameters beyond the standard voice parameters (`Digits`, `DialCallStatus`, …).
        extra: Vec<(String, String)>,
    },
}

impl DocSource {
    pub(crate) fn url(url: &str, method: &str) -> Self {
        DocSource::Url {
            url: url.to_owned(),
            method: method.to_owned(),
            extra: Vec::new(),
        }
    }
}

/// What `POST Calls.json` (or a participant add) asks for.
#[derive(Debug, Clone)]
pub(crate) struct OutboundRequest {
    pub to: String,
    pub from: String,
    pub doc: DocSource,
    pub status_callback: Option<String>,
    pub status_callback_method: String,
    pub status_callback_events: Vec<String>,
    pub machine_detection: Option<String>,
    pub async_amd: bool,
    pub async_amd_callback: Option<String>,
    pub async_amd_callback_method: String,
    pub timeout_secs: u32,
    pub parent_call_sid: Option<String>,
    pub direction: String,
}

/// The phone of a number nobody registered: a silent human who hangs up after 30 s.
pub(crate) fn default_script() -> PersonScript {
    PersonScript {
        answer: Answer::Human,
        actions: vec![Action::Pause(30_000), Action::HangUp],
        answer_after_ms: 1000,
    }
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// `<Hangup>` or the end of the document.
    CallHungUp,
    PersonHungUp,
    /// REST `Status=completed|canceled`.
    Api,
    /// Fetch / parse failure (already logged).
    Error,
    Rejected(String),
}

impl End {
    /// The final status Twilio reports for a call that ended so, and who hung up.
    pub(crate) fn outcome(&self, answered: bool) -> (CallStatus, &'static str) {
        let unless_answered = |status| {
            if answered {
                CallStatus::Completed
            } else {
                status
            }
        };
        match self {
            End::CallHungUp => (CallStatus::Completed, "call"),
            End::PersonHungUp => (CallStatus::Completed, "person"),
            End::Api => (unless_answered(CallStatus::Canceled), "api"),
            End::Error => (unless_answered(CallStatus::Failed), "system"),
            End::Rejected(reason) if reason == "busy" => (CallStatus::Busy, "call"),
            End::Rejected(_) => (CallStatus::NoAnswer, "call"),
        }
    }
}

/// Where the interpreter goes when a verb leaves the running document.
pub(crate) enum Exit {
    /// Run this document next (an action, a redirect, a REST update).
    Goto(DocSource),
    /// The call is over.
    End(End),
}

/// What a verb leads to: `Continue` goes on (with a value, for the helpers that play and
/// listen), `Break` leaves the document.
pub(crate) type Step<T = ()> = ControlFlow<Exit, T>;

/// One thing that happened while waiting.
pub(crate) enum Input {
    Person(Utterance),
    Command(CallCommand),
    Timeout,
}

/// A call being interpreted: its person, its REST commands and the running document.
pub(crate) struct CallRun {
    shared: Shared,
    sid: String,
    person: Person,
    commands: mpsc::UnboundedReceiver<CallCommand>,
    /// The URL of the running document (base for relative URLs and default actions).
    doc_url: Option<String>,
}

impl CallRun {
    pub(crate) fn new(
        shared: &Shared,
        sid: &str,
        person: Person,
        commands: mpsc::UnboundedReceiver<CallCommand>,
    ) -> Self {
        Self {
            shared: shared.clone(),
            sid: sid.to_owned(),
            person,
            commands,
            doc_url: None,
        }
    }

    /// The next person utterance or REST command, or `Timeout` at `deadline`.
    pub(crate) async fn wait(&mut self, deadline: Option<Instant>) -> Input {
        tokio::select! {
            u = self.person.rx.recv() => match u {
                Some(u) => Input::Person(u),
                // The person task ended without hanging up: treat as silence.
                None => { sleep_until(deadline).await; Input::Timeout }
            },
            c = self.commands.recv() => match c {
                Some(c) => Input::Command(c),
                None => { sleep_until(deadline).await; Input::Timeout }
            },
            () = sleep_until(deadline) => Input::Timeout,
        }
    }

    /// Where an interruption (a REST command) takes the call.
    fn command_exit(&self, command: CallCommand) -> Exit {
        match command {
            CallCommand::Twiml(xml) => Exit::Goto(DocSource::Twiml(xml)),
            CallCommand::Url(url, method) => Exit::Goto(DocSource::url(&url, &method)),
            CallCommand::Hangup(status) => {
                tracing::debug!(sid = %self.sid, %status, "hung up over REST");
                Exit::End(End::Api)
            }
        }
    }

    fn event(&self, kind: CallEventKind) {
        self.shared.event(&self.sid, kind);
    }

    fn resolve(&self, url: &str) -> String {
        match self
            .doc_url
            .as_deref()
            .and_then(|b| url::Url::parse(b).ok())
        {
            Some(base) => base
                .join(url)
                .map(String::from)
                .unwrap_or_else(|_| url.to_owned()),
            None => url.to_owned(),
        }
    }

    /// Plays audio to the person for its duration. With `barge_in`, the first utterance
    /// stops it and is returned; otherwise utterances are dropped (hang-ups are not).
    async fn play(&mut self, audio: &[u8], barge_in: bool) -> Step<Option<Utterance>> {
        self.person.ear.hear(audio);
        let deadline = Instant::now() + std::time::Duration::from_millis(audio.len() as u64 / 8);
        self.listen_until(deadline, barge_in).await
    }

    async fn listen_until(&mut self, deadline: Instant, barge_in: bool) -> Step<Option<Utterance>> {
        loop {
            match self.wait(Some(deadline)).await {
                Input::Timeout => return ControlFlow::Continue(None),
                Input::Command(c) => {
                    self.person.ear.stop();
                    return ControlFlow::Break(self.command_exit(c));
                }
                Input::Person(Utterance::HangUp) => {
                    return ControlFlow::Break(Exit::End(End::PersonHungUp));
                }
                Input::Person(u) if barge_in => {
                    self.person.ear.stop();
                    return ControlFlow::Continue(Some(u));
                }
                Input::Person(_) => {}
            }
        }
    }

    /// Waits for the person to hang up or a REST command (while something else happens).
    async fn wait_hangup_or_command(&mut self) -> Exit {
        loop {
            match self.wait(None).await {
                Input::Person(Utterance::HangUp) => return Exit::End(End::PersonHungUp),
                Input::Command(c) => return self.command_exit(c),
                _ => {}
            }
        }
    }

    /// Fetches and runs documents until the call ends.
    pub(crate) async fn run_document(&mut self, mut source: DocSource) -> End {
        loop {
            let xml = match self.fetch_document(source).await {
                Fetched::Document(xml) => xml,
                Fetched::Redirected(next) => {
                    source = next;
                    continue;
                }
                Fetched::Ended(end) => return end,
            };
            let verbs = match twiml::parse(&xml) {
                Ok(verbs) => verbs,
                Err(e) => {
                    let url = self.doc_url.clone();
                    self.shared.notify_error(
                        Some(&self.sid),
                        e.code(),
                        e.message(),
                        url.as_deref(),
                    );
                    return End::Error;
                }
            };
            match self.run_verbs(&verbs).await {
                ControlFlow::Continue(()) => return End::CallHungUp,
                ControlFlow::Break(Exit::Goto(doc)) => source = doc,
                ControlFlow::Break(Exit::End(end)) => return end,
            }
        }
    }

    /// The document's verbs in order; an unanswered inbound call is answered by the first
    /// verb that is not `<Reject>`.
    async fn run_verbs(&mut self, verbs: &[Verb]) -> Step {
        for verb in verbs {
            if !matches!(verb, Verb::Reject(_))
                && record_of(&self.shared, &self.sid)
                    .is_some_and(|r| r.status == CallStatus::Ringing)
            {
                mark_answered(&self.shared, &self.sid);
            }
            self.event(CallEventKind::Verb {
                verb: verb.name().into(),
                detail: verbs::detail(verb),
            });
            verbs::exec(self, verb).await?;
        }
        ControlFlow::Continue(())
    }

    /// The document's text: given, or fetched (a REST command may cut the fetch short).
    async fn fetch_document(&mut self, source: DocSource) -> Fetched {
        let (url, method, extra) = match source {
            DocSource::Twiml(xml) => {
                self.doc_url = None;
                return Fetched::Document(xml);
            }
            DocSource::Url { url, method, extra } => (self.resolve(&url), method, extra),
        };
        let mut params = voice_params(&self.shared, &self.sid);
        params.extend(extra);
        let hook = Webhook::post(&url, params, "twiml").with_method(&method);
        let fetched = tokio::select! {
            r = webhooks::fetch(&self.shared, hook, Some(&self.sid)) => r,
            c = self.commands.recv() => return match c {
                Some(CallCommand::Hangup(_)) | None => Fetched::Ended(End::Api),
                Some(c) => match self.command_exit(c) {
                    Exit::Goto(next) => Fetched::Redirected(next),
                    Exit::End(_) => Fetched::Ended(End::Api),
                },
            },
        };
        match fetched {
            Ok(xml) => {
                self.doc_url = Some(url);
                Fetched::Document(xml)
            }
            Err(e) => {
                self.shared
                    .notify_error(Some(&self.sid), e.code, e.message, Some(&url));
                Fetched::Ended(End::Error)
            }
        }
    }

    /// Fetches a document whose answer is ignored (the caller is gone).
    fn post_and_forget(&self, doc: DocSource) {
        if let DocSource::Url { url, method, extra } = doc {
            let url = self.resolve(&url);
            let mut params = voice_params(&self.shared, &self.sid);
            params.extend(extra);
            let hook = Webhook::post(&url, params, "action").with_method(&method);
            webhooks::spawn_callback(&self.shared, hook, Some(&self.sid));
        }
    }

    /// Ends the call with the status Twilio would report.
    pub(crate) async fn end(&mut self, end: End, callbacks: &StatusCallbacks) {
        let answered = self
            .shared
            .lock()
            .call(&self.sid)
            .is_some_and(|c| c.answered_at.is_some());
        let (status, by) = end.outcome(answered);
        self.event(CallEventKind::HungUp { by: by.into() });
        finish(&self.shared, &self.sid, status, callbacks);
    }
}

/// What fetching a document gave.
enum Fetched {
    Document(String),
    /// A REST update arrived first: run this instead.
    Redirected(DocSource),
    Ended(End),
}

/// Sleeps until `deadline`, or forever.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_a_call_ended_gives_its_final_status() {
        use CallStatus::*;
        let cases = [
            (End::CallHungUp, false, (Completed, "call")),
            (End::CallHungUp, true, (Completed, "call")),
            (End::PersonHungUp, true, (Completed, "person")),
            (End::Api, true, (Completed, "api")),
            (End::Api, false, (Canceled, "api")),
            (End::Error, true, (Completed, "system")),
            (End::Error, false, (Failed, "system")),
            (End::Rejected("busy".into()), false, (Busy, "call")),
            (End::Rejected("rejected".into()), false, (NoAnswer, "call")),
        ];
        for (end, answered, want) in cases {
            assert_eq!(end.outcome(answered), want, "{end:?} answered={answered}");
        }
    }

    #[test]
    fn the_default_phone_is_a_silent_human_who_hangs_up() {
        let script = default_script();
        assert_eq!(script.answer, Answer::Human);
        assert_eq!(script.answer_after_ms, 1000);
        assert_eq!(script.actions, [Action::Pause(30_000), Action::HangUp]);
    }
}
