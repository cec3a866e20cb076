//! The life of a call: ringing, answering (and answering machine detection), the TwiML
//! interpreter, the simulated person on the line, and the end of the call.
//!
//! **Outbound** (`POST Calls.json`): the callee is the phone registered for `To`
//! ([`crate::SimHandle::register_phone`]) or, when none is, a silent human who answers after a
//! second and hangs up after 30 s. Status goes `queued` → `ringing` → `in-progress` →
//! `completed`, or ends `busy` / `no-answer` (after `Timeout`) / `failed` / `canceled`.
//! Status callbacks go out for the requested `StatusCallbackEvent`s (default `completed`), with
//! Twilio's parameters; `SequenceNumber` counts from 0 per call. `initiated` has
//! `CallStatus=initiated`; `answered` has `in-progress`; the `completed` event carries the
//! final status (`busy`, `no-answer`… too) and `CallDuration` / `Duration`.
//!
//! **AMD** (`MachineDetection`): a human is `human` after 1 s; a machine is `machine_start`
//! (`Enable`, after up to 1.2 s of greeting) or `machine_end_beep` (`DetectMessageEnd`, after
//! its greeting and beep); a phone nobody registered (silence) is `unknown`. Synchronous AMD
//! holds the `Url` fetch until detection and adds `AnsweredBy`; `AsyncAmd=true` fetches at once
//! and posts `AnsweredBy` + `MachineDetectionDuration` to `AsyncAmdStatusCallback`.
//!
//! **Inbound** ([`crate::SimHandle::place_inbound_call`]): the number's `VoiceUrl` is fetched
//! with `CallStatus=ringing`; the call is answered (`in-progress`) when its first verb other
//! than `<Reject>` runs. The number's `StatusCallback` gets the `completed` callback.
//!
//! **TwiML**: documents are fetched with Twilio's voice parameters (`AccountSid`,
//! `ApiVersion`, `CallSid`, `CallStatus`, `Called`, `Caller`, `Direction`, `From`, `To`, plus
//! `AnsweredBy` / `ParentCallSid` when they apply), signed (see [`crate::webhooks`]). Relative
//! URLs resolve against the current document's URL. Verbs:
//! - `<Say>`: synthesized ([`crate::speech::synthesize`]) and heard by the person, in real
//!   time; the text is recorded (`call_said`).
//! - `<Play>`: the WAV at `url` if it can be fetched, else a 1 s tone; `digits` are heard as
//!   tones.
//! - `<Pause>`.
//! - `<Gather>`: nested prompts with barge-in; DTMF from the person's `Digits` actions
//!   (`numDigits`, `finishOnKey`, `timeout` between keys) and speech = the text of the
//!   person's next `Say` (`SpeechResult`, `Confidence`=0.9). Input → POST to `action` (default:
//!   the current document) and run its answer; no input → the next verb (or the action with
//!   empty `Digits` when `actionOnEmptyResult`).
//! - `<Dial><Number>`: a child call (`outbound-dial`, `ParentCallSid`) to the registered
//!   phone, ringing up to `timeout`; both people hear each other. `DialCallStatus`,
//!   `DialCallSid`, `DialCallDuration` go to `action`; without one the call continues.
//! - `<Dial><Conference>`: joins (creating) the named conference. Each live conference has a
//!   mixer task ([`crate::mixer::Mixer`]) ticking every 20 ms: participants' speech goes in
//!   frame by frame and each participant hears, every tick, the mix of the others (silence
//!   included, so `heard_audio` is a timeline; stretches of sound are `StreamAudio` events).
//!   Muted participants are not heard; held ones (REST `Hold`) hear hold music and are not
//!   heard; a coach (`Coaching` + `CallSidToCoach`) is heard only by its coachee. Until a
//!   `startConferenceOnEnter` participant is in, everybody hears waiting music. `beep`
//!   (`true`/`onEnter`/`onExit`) plays the beep into the mix on join / leave. Conference
//!   status callbacks (`conference-start`, `conference-end`, `participant-join`,
//!   `participant-leave`). Removal over REST continues after the `<Dial>`;
//!   `endConferenceOnExit` ends it for everyone.
//! - `<Connect><Stream>`: a [`MediaStreamClient`] to the URL, signed over that URL, with the
//!   `<Parameter>`s; the person's speech and keys go into the stream, the server's audio is
//!   heard by the person. Stream status callbacks (`stream-started`, `stream-stopped`,
//!   `stream-error`). When the socket closes the next verb runs.
//! - `<Record>`: the person's speech until `finishOnKey`, `timeout` s of silence or
//!   `maxLength`; served at `Recordings/{Sid}` (μ-law WAV); `RecordingUrl`,
//!   `RecordingDuration`, `RecordingSid`, `Digits` to `action` (default: current document).
//!   Nothing recorded → next verb.
//! - `<Redirect>`, `<Hangup>`, `<Reject>` (`busy` → `busy`, else `no-answer`).
//! - End of the document hangs up.
//! - A failed fetch (connection error, non-2xx) logs 11200 (11205 on timeout), a bad document
//!   12100/12200; either ends the call (`completed` if answered, else `failed`).
//!
//! REST updates (`Twiml` / `Url`) interrupt the running verb; `Status=completed|canceled` ends
//! the call.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::media_client::{MediaStreamClient, StreamConfig};
use crate::mixer::{FRAME_SAMPLES, Mixer};
use crate::person::{Action, Answer, PersonScript, Turn};
use crate::speech;
use crate::state::{
    API_VERSION, CallCommand, CallEventKind, CallRecord, CallSlot, ConferenceRecord,
    ParticipantRecord, Shared, new_sid, rfc2822_now,
};
use crate::twiml::{self, ConferenceSpec, DialTarget, GatherInput, StreamSpec, Verb};
use crate::webhooks::{self, Webhook};

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

// ---------------------------------------------------------------------------------------
// The person on the line.

/// What the person sends into the call.
#[derive(Debug, Clone)]
pub(crate) enum Utterance {
    Speech {
        text: Option<String>,
        audio: Vec<u8>,
    },
    Digit(char),
    HangUp,
}

/// What the person is hearing: when the current audio ends, and how many sounds so far.
#[derive(Debug, Clone, Copy)]
struct EarState {
    busy_until: Instant,
    sounds: u64,
}

/// The person's ear, shared by the call (which plays into it) and the person (who waits for
/// quiet).
#[derive(Clone)]
pub(crate) struct Ear {
    state: Arc<watch::Sender<EarState>>,
    heard: Arc<Mutex<Vec<u8>>>,
}

impl Ear {
    fn new() -> Self {
        let (tx, _) = watch::channel(EarState {
            busy_until: Instant::now(),
            sounds: 0,
        });
        Self {
            state: Arc::new(tx),
            heard: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Audio starts playing to the person now (after what is already playing).
    fn hear(&self, audio: &[u8]) {
        let ms = audio.len() as u64 / 8;
        self.state.send_modify(|s| {
            s.busy_until = s.busy_until.max(Instant::now()) + Duration::from_millis(ms);
            s.sounds += 1;
        });
        self.heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(audio);
    }

    /// Live audio (a media stream) is playing right now.
    fn hear_live(&self, audio: &[u8]) {
        self.state.send_modify(|s| {
            s.busy_until = s.busy_until.max(Instant::now() + Duration::from_millis(40));
            s.sounds += 1;
        });
        self.heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(audio);
    }

    /// One 20 ms frame of a conference's mix, heard now. Every frame is kept (silence too, so
    /// the heard audio is a timeline); only sound counts for [`wait_for_quiet`]. Returns
    /// whether the frame had sound.
    fn hear_frame(&self, frame: &[u8]) -> bool {
        let sound = !is_silent(frame);
        if sound {
            let ms = frame.len() as u64 / 8;
            self.state.send_modify(|s| {
                s.busy_until = s.busy_until.max(Instant::now() + Duration::from_millis(ms));
                s.sounds += 1;
            });
        }
        self.heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(frame);
        sound
    }

    /// Whatever was playing stops (barge-in).
    fn stop(&self) {
        self.state.send_modify(|s| s.busy_until = Instant::now());
    }

    pub(crate) fn heard(&self) -> Vec<u8> {
        self.heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Whether μ-law audio is all (positive or negative) zero.
fn is_silent(mulaw: &[u8]) -> bool {
    mulaw.iter().all(|&b| b == 0xFF || b == 0x7F)
}

/// A running person: their utterances and their ear.
struct Person {
    rx: mpsc::UnboundedReceiver<Utterance>,
    ear: Ear,
    task: JoinHandle<()>,
}

impl Drop for Person {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn spawn_person(shared: &Shared, call_sid: &str, script: &PersonScript, ear: Ear) -> Person {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run_person(
        shared.clone(),
        call_sid.to_owned(),
        script.clone(),
        tx,
        ear.clone(),
    ));
    Person { rx, ear, task }
}

async fn run_person(
    shared: Shared,
    call_sid: String,
    script: PersonScript,
    tx: mpsc::UnboundedSender<Utterance>,
    ear: Ear,
) {
    if let Answer::Machine { greeting_ms } = script.answer {
        // The answering machine's greeting, then the beep.
        let audio = crate::person::machine_greeting(greeting_ms);
        let ms = audio.len() as u64 / 8;
        shared.event(
            &call_sid,
            CallEventKind::PersonSaid {
                text: "(voicemail greeting and beep)".into(),
            },
        );
        let _ = tx.send(Utterance::Speech { text: None, audio });
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    for action in script.actions {
        match action {
            Action::Say(text) => {
                let audio = speech::speak(&text).await;
                let ms = audio.len() as u64 / 8;
                shared.event(&call_sid, CallEventKind::PersonSaid { text: text.clone() });
                let _ = tx.send(Utterance::Speech {
                    text: Some(text),
                    audio,
                });
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Action::SayAudio { label, mulaw } => {
                let ms = mulaw.len() as u64 / 8;
                shared.event(
                    &call_sid,
                    CallEventKind::PersonSaid {
                        text: format!("({label}: {ms} ms of audio)"),
                    },
                );
                let _ = tx.send(Utterance::Speech {
                    text: None,
                    audio: mulaw,
                });
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Action::WaitForQuiet {
                quiet_ms,
                timeout_ms,
            } => {
                wait_for_quiet(&ear, quiet_ms, timeout_ms).await;
            }
            Action::Digits(digits) => {
                shared.event(
                    &call_sid,
                    CallEventKind::PersonPressed {
                        digits: digits.clone(),
                    },
                );
                for d in digits.chars() {
                    let _ = tx.send(Utterance::Digit(d));
                    tokio::time::sleep(Duration::from_millis(120)).await;
                }
            }
            Action::Pause(ms) => tokio::time::sleep(Duration::from_millis(u64::from(ms))).await,
            Action::HangUp => {
                let _ = tx.send(Utterance::HangUp);
                return;
            }
        }
    }
    // Out of actions: stay on the line, silent, until the call ends.
    std::future::pending::<()>().await;
}

/// Waits until the person has heard something since now and it has been quiet for
/// `quiet_ms`, or `timeout_ms` passes.
async fn wait_for_quiet(ear: &Ear, quiet_ms: u32, timeout_ms: u32) {
    let start = Instant::now();
    let deadline = start + Duration::from_millis(u64::from(timeout_ms));
    let quiet = Duration::from_millis(u64::from(quiet_ms));
    let sounds_at_start = ear.state.borrow().sounds;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let s = *ear.state.borrow();
        let heard_something = s.sounds > sounds_at_start || s.busy_until > start;
        if heard_something && now >= s.busy_until + quiet {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Call records and callbacks.

fn update_record(
    shared: &Shared,
    sid: &str,
    f: impl FnOnce(&mut CallRecord),
) -> Option<CallRecord> {
    let record = {
        let mut state = shared.lock();
        let slot = state.call_mut(sid)?;
        f(&mut slot.record);
        slot.record.date_updated = rfc2822_now();
        slot.record.clone()
    };
    shared.bump();
    Some(record)
}

fn set_status(shared: &Shared, sid: &str, status: &str) {
    let changed = update_record(shared, sid, |r| {
        if r.status != status {
            r.status = status.to_owned();
        }
    });
    if changed.is_some() {
        shared.event(
            sid,
            CallEventKind::Status {
                status: status.to_owned(),
            },
        );
    }
}

fn record_of(shared: &Shared, sid: &str) -> Option<CallRecord> {
    shared.lock().call(sid).map(|c| c.record.clone())
}

/// The voice webhook parameters of a call (as Twilio sends on every TwiML request).
fn voice_params(shared: &Shared, sid: &str) -> Vec<(String, String)> {
    let Some(r) = record_of(shared, sid) else {
        return Vec::new();
    };
    let mut p = vec![
        ("AccountSid".to_owned(), r.account_sid.clone()),
        ("ApiVersion".into(), API_VERSION.into()),
        ("CallSid".into(), r.sid.clone()),
        ("CallStatus".into(), r.status.clone()),
        ("Called".into(), r.to.clone()),
        ("Caller".into(), r.from.clone()),
        ("Direction".into(), r.direction.clone()),
        ("From".into(), r.from.clone()),
        ("To".into(), r.to.clone()),
    ];
    if let Some(parent) = &r.parent_call_sid {
        p.push(("ParentCallSid".into(), parent.clone()));
    }
    if let Some(by) = &r.answered_by {
        p.push(("AnsweredBy".into(), by.clone()));
    }
    p
}

/// Where a call's status callbacks go.
#[derive(Debug, Clone)]
struct StatusCallbacks {
    url: Option<String>,
    method: String,
    events: Vec<String>,
}

impl StatusCallbacks {
    fn none() -> Self {
        Self {
            url: None,
            method: "POST".into(),
            events: Vec::new(),
        }
    }

    /// Sends the `event` callback (if requested) with the call's current state.
    fn send(&self, shared: &Shared, sid: &str, event: &str, call_status: &str) {
        let Some(url) = &self.url else { return };
        if !self.events.iter().any(|e| e == event) {
            return;
        }
        let seq = {
            let mut state = shared.lock();
            let Some(slot) = state.call_mut(sid) else {
                return;
            };
            let seq = slot.callback_seq;
            slot.callback_seq += 1;
            seq
        };
        let mut params: Vec<(String, String)> = voice_params(shared, sid)
            .into_iter()
            .filter(|(k, _)| k != "CallStatus")
            .collect();
        params.push(("CallStatus".into(), call_status.to_owned()));
        params.push(("CallbackSource".into(), "call-progress-events".into()));
        params.push(("SequenceNumber".into(), seq.to_string()));
        params.push(("Timestamp".into(), rfc2822_now()));
        if event == "completed"
            && let Some(r) = record_of(shared, sid)
        {
            let secs: u64 = r
                .duration
                .as_deref()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            params.push(("CallDuration".into(), secs.to_string()));
            params.push(("Duration".into(), secs.div_ceil(60).to_string()));
        }
        let hook = Webhook::post(url, params, &format!("status-callback:{event}"))
            .with_method(&self.method);
        webhooks::spawn_callback(shared, hook, Some(sid));
    }
}

/// Ends a call: final status, end time, duration, leaves any conference, `completed`
/// callback.
fn finish(shared: &Shared, sid: &str, status: &str, callbacks: &StatusCallbacks) {
    let answered_at = shared.lock().call(sid).and_then(|c| c.answered_at);
    let already_final = record_of(shared, sid).is_some_and(|r| r.is_final());
    if already_final {
        return;
    }
    update_record(shared, sid, |r| {
        r.end_time = Some(rfc2822_now());
        r.duration = Some(
            answered_at
                .map(|a| a.elapsed().as_secs())
                .unwrap_or(0)
                .to_string(),
        );
    });
    set_status(shared, sid, status);
    {
        let mut state = shared.lock();
        if let Some(slot) = state.call_mut(sid) {
            slot.commands = None;
        }
    }
    callbacks.send(shared, sid, "completed", status);
}

fn new_slot(record: CallRecord, commands: Option<mpsc::UnboundedSender<CallCommand>>) -> CallSlot {
    CallSlot {
        record,
        events: Vec::new(),
        created: Instant::now(),
        answered_at: None,
        commands,
        callback_seq: 0,
        conference_kick: None,
        heard: None,
    }
}

fn mark_answered(shared: &Shared, sid: &str) {
    {
        let mut state = shared.lock();
        if let Some(slot) = state.call_mut(sid) {
            slot.answered_at = Some(Instant::now());
            slot.record.start_time = Some(rfc2822_now());
        }
    }
    set_status(shared, sid, "in-progress");
}

// ---------------------------------------------------------------------------------------
// Outbound and inbound calls.

/// Creates the call (status `queued`) and runs it in the background.
pub(crate) fn spawn_outbound(shared: &Shared, req: OutboundRequest) -> CallRecord {
    let mut record = CallRecord::new(
        &shared.settings.account_sid,
        &req.from,
        &req.to,
        &req.direction,
        req.parent_call_sid.as_deref(),
    );
    record.phone_number_sid = shared
        .lock()
        .number_by_phone(&req.from)
        .map(|n| n.sid.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    let sid = record.sid.clone();
    shared.lock().calls.push(new_slot(record.clone(), Some(tx)));
    shared.event(
        &sid,
        CallEventKind::Status {
            status: "queued".into(),
        },
    );
    tokio::spawn(run_outbound(shared.clone(), sid, req, rx));
    record
}

/// How the callee's phone responds to ringing.
enum Ring {
    Answered,
    Ended(&'static str),
}

/// Rings `script`'s phone for up to `timeout_secs`, honouring cancel commands.
async fn ring(
    shared: &Shared,
    sid: &str,
    script: &PersonScript,
    timeout_secs: u32,
    commands: &mut mpsc::UnboundedReceiver<CallCommand>,
) -> Ring {
    let timeout = Duration::from_secs(u64::from(timeout_secs));
    let (wait, outcome) = match script.answer {
        Answer::Busy => (Duration::from_millis(300), Ring::Ended("busy")),
        Answer::Fail => (Duration::from_millis(200), Ring::Ended("failed")),
        Answer::NoAnswer => (timeout, Ring::Ended("no-answer")),
        Answer::Human | Answer::Machine { .. } => {
            let after = Duration::from_millis(u64::from(script.answer_after_ms));
            if after >= timeout {
                (timeout, Ring::Ended("no-answer"))
            } else {
                (after, Ring::Answered)
            }
        }
    };
    tokio::select! {
        () = tokio::time::sleep(wait) => outcome,
        cmd = commands.recv() => match cmd {
            Some(CallCommand::Hangup(_)) | None => Ring::Ended("canceled"),
            Some(other) => {
                tracing::debug!(sid, ?other, "ignoring a redirect of a ringing call");
                // Redirects of ringing calls are refused at the REST layer; keep ringing.
                Box::pin(ring(shared, sid, script, timeout_secs, commands)).await
            }
        },
    }
}

/// AnsweredBy and how long detection takes.
fn detect(script: &PersonScript, registered: bool, mode: &str) -> (&'static str, u64) {
    match script.answer {
        Answer::Machine { greeting_ms } if mode == "DetectMessageEnd" => (
            "machine_end_beep",
            crate::person::machine_greeting(greeting_ms).len() as u64 / 8 + 100,
        ),
        Answer::Machine { greeting_ms } => ("machine_start", u64::from(greeting_ms).min(1200)),
        _ if !registered => ("unknown", 1500),
        _ => ("human", 1000),
    }
}

async fn run_outbound(
    shared: Shared,
    sid: String,
    req: OutboundRequest,
    mut commands: mpsc::UnboundedReceiver<CallCommand>,
) {
    let callbacks = StatusCallbacks {
        url: req.status_callback.clone(),
        method: req.status_callback_method.clone(),
        events: req.status_callback_events.clone(),
    };
    let registered = shared.lock().phones.get(&req.to).cloned();
    let script = registered.clone().unwrap_or_else(default_script);
    callbacks.send(&shared, &sid, "initiated", "initiated");
    tokio::time::sleep(Duration::from_millis(50)).await;
    set_status(&shared, &sid, "ringing");
    callbacks.send(&shared, &sid, "ringing", "ringing");
    match ring(&shared, &sid, &script, req.timeout_secs, &mut commands).await {
        Ring::Ended(status) => {
            finish(&shared, &sid, status, &callbacks);
            return;
        }
        Ring::Answered => {}
    }
    mark_answered(&shared, &sid);
    callbacks.send(&shared, &sid, "answered", "in-progress");
    let ear = Ear::new();
    set_heard(&shared, &sid, &ear);
    let person = spawn_person(&shared, &sid, &script, ear);
    let mut call = CallRun {
        shared: shared.clone(),
        sid: sid.clone(),
        person,
        commands,
        doc_url: None,
    };
    if let Some(mode) = &req.machine_detection {
        let (answered_by, ms) = detect(&script, registered.is_some(), mode);
        let apply = {
            let shared = shared.clone();
            let sid = sid.clone();
            move || {
                update_record(&shared, &sid, |r| r.answered_by = Some(answered_by.into()));
                shared.event(
                    &sid,
                    CallEventKind::AnsweredBy {
                        answered_by: answered_by.into(),
                    },
                );
            }
        };
        if req.async_amd {
            let shared2 = shared.clone();
            let sid2 = sid.clone();
            let cb = req.async_amd_callback.clone();
            let method = req.async_amd_callback_method.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                if record_of(&shared2, &sid2).is_some_and(|r| r.is_final()) {
                    return;
                }
                apply();
                if let Some(url) = cb {
                    let params = vec![
                        ("AccountSid".into(), shared2.settings.account_sid.clone()),
                        ("AnsweredBy".into(), answered_by.into()),
                        ("CallSid".into(), sid2.clone()),
                        ("MachineDetectionDuration".into(), ms.to_string()),
                    ];
                    let hook = Webhook::post(&url, params, "amd-callback").with_method(&method);
                    webhooks::send_callback(&shared2, hook, Some(&sid2)).await;
                }
            });
        } else {
            // Synchronous: the Url waits for the verdict; the person may hang up meanwhile.
            let deadline = Instant::now() + Duration::from_millis(ms);
            loop {
                match call.wait(Some(deadline)).await {
                    Input::Timeout => break,
                    Input::Person(Utterance::HangUp) => {
                        call.end(End::PersonHungUp, &callbacks).await;
                        return;
                    }
                    Input::Command(CallCommand::Hangup(_)) => {
                        call.end(End::Api, &callbacks).await;
                        return;
                    }
                    _ => {}
                }
            }
            apply();
        }
    }
    let end = call.run_document(req.doc).await;
    call.end(end, &callbacks).await;
}

fn set_heard(shared: &Shared, sid: &str, ear: &Ear) {
    if let Some(slot) = shared.lock().call_mut(sid) {
        slot.heard = Some(ear.clone());
    }
}

/// Places an inbound call from `from` to the sim's number `to`; returns its SID.
pub(crate) fn place_inbound(
    shared: &Shared,
    from: &str,
    to: &str,
    script: PersonScript,
) -> Result<String, crate::SimError> {
    let number = shared
        .lock()
        .number_by_phone(to)
        .cloned()
        .ok_or_else(|| crate::SimError::UnknownNumber(to.to_owned()))?;
    let voice_url = number
        .voice_url
        .clone()
        .ok_or_else(|| crate::SimError::UnknownNumber(format!("{to} has no VoiceUrl")))?;
    let mut record = CallRecord::new(&shared.settings.account_sid, from, to, "inbound", None);
    record.phone_number_sid = Some(number.sid.clone());
    record.status = "ringing".into();
    let sid = record.sid.clone();
    let (tx, rx) = mpsc::unbounded_channel();
    shared.lock().calls.push(new_slot(record, Some(tx)));
    shared.event(
        &sid,
        CallEventKind::Status {
            status: "ringing".into(),
        },
    );
    let callbacks = StatusCallbacks {
        url: number.status_callback.clone(),
        method: number.status_callback_method.clone(),
        events: vec!["completed".into()],
    };
    let shared2 = shared.clone();
    let sid2 = sid.clone();
    tokio::spawn(async move {
        let ear = Ear::new();
        set_heard(&shared2, &sid2, &ear);
        let person = spawn_person(&shared2, &sid2, &script, ear);
        let mut call = CallRun {
            shared: shared2.clone(),
            sid: sid2,
            person,
            commands: rx,
            doc_url: None,
        };
        let end = call
            .run_document(DocSource::url(&voice_url, &number.voice_method))
            .await;
        call.end(end, &callbacks).await;
    });
    Ok(sid)
}

// ---------------------------------------------------------------------------------------
// The TwiML interpreter.

/// Why a call ended.
#[derive(Debug)]
enum End {
    /// `<Hangup>` or the end of the document.
    CallHungUp,
    PersonHungUp,
    /// REST `Status=completed|canceled`.
    Api,
    /// Fetch / parse failure (already logged).
    Error,
    Rejected(String),
}

/// What a verb leads to.
enum Flow {
    Next,
    Goto(DocSource),
    End(End),
}

/// One thing that happened while waiting.
enum Input {
    Person(Utterance),
    Command(CallCommand),
    Timeout,
}

struct CallRun {
    shared: Shared,
    sid: String,
    person: Person,
    commands: mpsc::UnboundedReceiver<CallCommand>,
    /// The URL of the running document (base for relative URLs and default actions).
    doc_url: Option<String>,
}

impl CallRun {
    /// The next person utterance or REST command, or `Timeout` at `deadline`.
    async fn wait(&mut self, deadline: Option<Instant>) -> Input {
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

    /// Turns an interruption into the flow it causes.
    fn command_flow(&self, command: CallCommand) -> Flow {
        match command {
            CallCommand::Twiml(xml) => Flow::Goto(DocSource::Twiml(xml)),
            CallCommand::Url(url, method) => Flow::Goto(DocSource::url(&url, &method)),
            CallCommand::Hangup(status) => {
                tracing::debug!(sid = %self.sid, %status, "hung up over REST");
                Flow::End(End::Api)
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
    async fn play(&mut self, audio: &[u8], barge_in: bool) -> Result<Option<Utterance>, Flow> {
        self.person.ear.hear(audio);
        let deadline = Instant::now() + Duration::from_millis(audio.len() as u64 / 8);
        self.listen_until(deadline, barge_in).await
    }

    async fn listen_until(
        &mut self,
        deadline: Instant,
        barge_in: bool,
    ) -> Result<Option<Utterance>, Flow> {
        loop {
            match self.wait(Some(deadline)).await {
                Input::Timeout => return Ok(None),
                Input::Command(c) => {
                    self.person.ear.stop();
                    return Err(self.command_flow(c));
                }
                Input::Person(Utterance::HangUp) => return Err(Flow::End(End::PersonHungUp)),
                Input::Person(u) if barge_in => {
                    self.person.ear.stop();
                    return Ok(Some(u));
                }
                Input::Person(_) => {}
            }
        }
    }

    /// Fetches and runs documents until the call ends.
    async fn run_document(&mut self, mut source: DocSource) -> End {
        loop {
            let xml = match source {
                DocSource::Twiml(xml) => {
                    self.doc_url = None;
                    xml
                }
                DocSource::Url { url, method, extra } => {
                    let url = self.resolve(&url);
                    let mut params = voice_params(&self.shared, &self.sid);
                    params.extend(extra);
                    let hook = Webhook::post(&url, params, "twiml").with_method(&method);
                    let fetched = tokio::select! {
                        r = webhooks::fetch(&self.shared, hook, Some(&self.sid)) => r,
                        c = self.commands.recv() => match c {
                            Some(CallCommand::Hangup(_)) | None => return End::Api,
                            Some(c) => {
                                if let Flow::Goto(next) = self.command_flow(c) {
                                    source = next;
                                    continue;
                                }
                                return End::Api;
                            }
                        },
                    };
                    match fetched {
                        Ok(xml) => {
                            self.doc_url = Some(url);
                            xml
                        }
                        Err(e) => {
                            self.shared.notify_error(
                                Some(&self.sid),
                                e.code,
                                e.message,
                                Some(&url),
                            );
                            return End::Error;
                        }
                    }
                }
            };
            let verbs = match twiml::parse(&xml) {
                Ok(verbs) => verbs,
                Err(e) => {
                    self.shared.notify_error(
                        Some(&self.sid),
                        e.code(),
                        e.message(),
                        self.doc_url.as_deref(),
                    );
                    return End::Error;
                }
            };
            let mut next = None;
            for verb in &verbs {
                if !matches!(verb, Verb::Reject { .. })
                    && record_of(&self.shared, &self.sid).is_some_and(|r| r.status == "ringing")
                {
                    mark_answered(&self.shared, &self.sid);
                }
                self.event(CallEventKind::Verb {
                    verb: verb.name().into(),
                    detail: verb_detail(verb),
                });
                match self.exec(verb).await {
                    Flow::Next => {}
                    Flow::Goto(doc) => {
                        next = Some(doc);
                        break;
                    }
                    Flow::End(end) => return end,
                }
            }
            match next {
                Some(doc) => source = doc,
                None => return End::CallHungUp,
            }
        }
    }

    async fn exec(&mut self, verb: &Verb) -> Flow {
        match self.exec_inner(verb).await {
            Ok(flow) | Err(flow) => flow,
        }
    }

    async fn exec_inner(&mut self, verb: &Verb) -> Result<Flow, Flow> {
        match verb {
            Verb::Say { .. } | Verb::Play { .. } | Verb::Pause { .. } => {
                self.prompt(verb, false).await?;
                Ok(Flow::Next)
            }
            Verb::Gather {
                input,
                timeout_secs,
                num_digits,
                finish_on_key,
                action,
                method,
                action_on_empty_result,
                nested,
                ..
            } => {
                self.gather(
                    input,
                    *timeout_secs,
                    *num_digits,
                    finish_on_key,
                    action.as_deref(),
                    method,
                    *action_on_empty_result,
                    nested,
                )
                .await
            }
            Verb::Dial {
                target,
                action,
                method,
                timeout_secs,
                caller_id,
                time_limit_secs,
                ..
            } => {
                let outcome = match target {
                    DialTarget::Number(numbers) => {
                        let Some(first) = numbers.first() else {
                            return Ok(Flow::Next);
                        };
                        self.dial_number(
                            &first.number,
                            caller_id.as_deref(),
                            *timeout_secs,
                            time_limit_secs.unwrap_or(4 * 3600),
                        )
                        .await?
                    }
                    DialTarget::Conference(spec) => self.conference(spec).await?,
                    DialTarget::Client(c) | DialTarget::Sip(c) => {
                        self.event(CallEventKind::Error {
                            code: 13227,
                            message: format!("the sim cannot dial {c}"),
                        });
                        DialOutcome {
                            status: "failed".into(),
                            call_sid: None,
                            duration: 0,
                            caller_gone: false,
                        }
                    }
                };
                let mut extra = vec![("DialCallStatus".to_owned(), outcome.status.clone())];
                if let Some(child) = &outcome.call_sid {
                    extra.push(("DialCallSid".into(), child.clone()));
                    extra.push(("DialCallDuration".into(), outcome.duration.to_string()));
                }
                match action {
                    Some(action) => {
                        let doc = DocSource::Url {
                            url: action.clone(),
                            method: method.clone(),
                            extra,
                        };
                        if outcome.caller_gone {
                            self.post_and_forget(doc);
                            Ok(Flow::End(End::PersonHungUp))
                        } else {
                            Ok(Flow::Goto(doc))
                        }
                    }
                    None if outcome.caller_gone => Ok(Flow::End(End::PersonHungUp)),
                    None => Ok(Flow::Next),
                }
            }
            Verb::Connect { stream } => match stream {
                Some(spec) => self.stream(spec).await,
                None => Ok(Flow::Next),
            },
            Verb::Record {
                action,
                method,
                max_length_secs,
                timeout_secs,
                finish_on_key,
                play_beep,
                recording_status_callback,
                ..
            } => {
                self.record(
                    action.as_deref(),
                    method,
                    *max_length_secs,
                    *timeout_secs,
                    finish_on_key,
                    *play_beep,
                    recording_status_callback.as_deref(),
                )
                .await
            }
            Verb::Redirect { url, method } => Ok(Flow::Goto(DocSource::url(url, method))),
            Verb::Hangup => Ok(Flow::End(End::CallHungUp)),
            Verb::Reject { reason } => Ok(Flow::End(End::Rejected(reason.clone()))),
            other => {
                self.event(CallEventKind::Error {
                    code: 12200,
                    message: format!("<{}> is not simulated; skipped", other.name()),
                });
                Ok(Flow::Next)
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

    /// `<Say>`, `<Play>` or `<Pause>`, with optional barge-in.
    async fn prompt(&mut self, verb: &Verb, barge_in: bool) -> Result<Option<Utterance>, Flow> {
        match verb {
            Verb::Say {
                text, loop_count, ..
            } => {
                for _ in 0..(*loop_count).clamp(1, 10) {
                    self.event(CallEventKind::CallSaid { text: text.clone() });
                    let audio = speech::synthesize(text);
                    if let Some(u) = self.play(&audio, barge_in).await? {
                        return Ok(Some(u));
                    }
                }
                Ok(None)
            }
            Verb::Play {
                url,
                loop_count,
                digits,
            } => {
                let audio = match (url, digits) {
                    (Some(url), _) => {
                        let url = self.resolve(url);
                        fetch_audio(&self.shared, &url).await
                    }
                    (None, Some(d)) => {
                        let mut audio = Vec::new();
                        for c in d.chars() {
                            if c == 'w' {
                                audio.extend(speech::silence(500));
                            } else {
                                audio.extend(speech::tone(941.0, 100));
                                audio.extend(speech::silence(100));
                            }
                        }
                        audio
                    }
                    (None, None) => Vec::new(),
                };
                let what = url
                    .clone()
                    .or_else(|| digits.as_ref().map(|d| format!("digits {d}")))
                    .unwrap_or_default();
                for _ in 0..(*loop_count).clamp(1, 10) {
                    self.event(CallEventKind::CallPlayed {
                        what: what.clone(),
                        ms: audio.len() as u64 / 8,
                    });
                    if let Some(u) = self.play(&audio, barge_in).await? {
                        return Ok(Some(u));
                    }
                }
                Ok(None)
            }
            Verb::Pause { length_secs } => {
                let deadline = Instant::now() + Duration::from_secs(u64::from(*length_secs));
                self.listen_until(deadline, barge_in).await
            }
            _ => Ok(None),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn gather(
        &mut self,
        input: &[GatherInput],
        timeout_secs: u32,
        num_digits: Option<u32>,
        finish_on_key: &str,
        action: Option<&str>,
        method: &str,
        action_on_empty_result: bool,
        nested: &[Verb],
    ) -> Result<Flow, Flow> {
        let dtmf = input.contains(&GatherInput::Dtmf);
        let speech_in = input.contains(&GatherInput::Speech);
        let mut digits = String::new();
        let mut speech_result: Option<String> = None;
        let mut finished_on: Option<char> = None;
        let mut done = false;
        // Handles one utterance; returns whether gathering is complete.
        let take = |u: Utterance,
                    digits: &mut String,
                    speech_result: &mut Option<String>,
                    finished_on: &mut Option<char>|
         -> bool {
            match u {
                Utterance::Digit(c) if dtmf => {
                    if finish_on_key.contains(c) {
                        *finished_on = Some(c);
                        return true;
                    }
                    digits.push(c);
                    num_digits.is_some_and(|n| digits.len() >= n as usize)
                }
                Utterance::Speech {
                    text: Some(text), ..
                } if speech_in => {
                    *speech_result = Some(text);
                    true
                }
                _ => false,
            }
        };
        for prompt in nested {
            if let Some(u) = self.prompt(prompt, true).await? {
                done = take(u, &mut digits, &mut speech_result, &mut finished_on);
                if done || !digits.is_empty() {
                    break;
                }
            }
        }
        while !done {
            let deadline = Instant::now() + Duration::from_secs(u64::from(timeout_secs));
            match self.listen_until(deadline, true).await? {
                None => break,
                Some(u) => done = take(u, &mut digits, &mut speech_result, &mut finished_on),
            }
        }
        let got_input = !digits.is_empty() || speech_result.is_some() || finished_on.is_some();
        self.event(CallEventKind::Gathered {
            digits: (!digits.is_empty()).then(|| digits.clone()),
            speech: speech_result.clone(),
        });
        if !got_input && !action_on_empty_result {
            return Ok(Flow::Next);
        }
        let Some(url) = action.map(str::to_owned).or_else(|| self.doc_url.clone()) else {
            return Ok(Flow::Next);
        };
        let mut extra = Vec::new();
        if let Some(text) = speech_result {
            extra.push(("SpeechResult".to_owned(), text));
            extra.push(("Confidence".into(), "0.9".into()));
        } else {
            extra.push(("Digits".into(), digits));
            if let Some(key) = finished_on {
                extra.push(("FinishedOnKey".into(), key.to_string()));
            }
        }
        Ok(Flow::Goto(DocSource::Url {
            url,
            method: method.to_owned(),
            extra,
        }))
    }

    /// `<Dial><Number>`: rings the number as a child call and bridges the two people.
    async fn dial_number(
        &mut self,
        number: &str,
        caller_id: Option<&str>,
        timeout_secs: u32,
        time_limit_secs: u32,
    ) -> Result<DialOutcome, Flow> {
        let parent = record_of(&self.shared, &self.sid);
        let from = caller_id.map(str::to_owned).unwrap_or_else(|| {
            parent
                .as_ref()
                .map(|p| {
                    if p.direction == "inbound" {
                        p.to.clone()
                    } else {
                        p.from.clone()
                    }
                })
                .unwrap_or_default()
        });
        let registered = self.shared.lock().phones.get(number).cloned();
        let script = registered.unwrap_or_else(default_script);
        let record = CallRecord::new(
            &self.shared.settings.account_sid,
            &from,
            number,
            "outbound-dial",
            Some(&self.sid),
        );
        let child = record.sid.clone();
        self.shared.lock().calls.push(new_slot(record, None));
        self.event(CallEventKind::Bridge {
            event: "dialing".into(),
            detail: format!("{number} ({child})"),
        });
        set_status(&self.shared, &child, "ringing");
        let (_cancel_tx, mut child_cmds) = mpsc::unbounded_channel();
        let shared = self.shared.clone();
        let outcome = tokio::select! {
            r = ring(&shared, &child, &script, timeout_secs, &mut child_cmds) => r,
            input = self.wait_hangup_or_command() => {
                finish(&self.shared, &child, "canceled", &StatusCallbacks::none());
                return Err(input);
            }
        };
        if let Ring::Ended(status) = outcome {
            finish(&self.shared, &child, status, &StatusCallbacks::none());
            return Ok(DialOutcome {
                status: status.into(),
                call_sid: Some(child),
                duration: 0,
                caller_gone: false,
            });
        }
        mark_answered(&self.shared, &child);
        let child_ear = Ear::new();
        set_heard(&self.shared, &child, &child_ear);
        let mut callee = spawn_person(&self.shared, &child, &script, child_ear);
        self.event(CallEventKind::Bridge {
            event: "connected".into(),
            detail: child.clone(),
        });
        let started = Instant::now();
        let limit = started + Duration::from_secs(u64::from(time_limit_secs));
        let mut caller_gone = false;
        let mut interrupted = None;
        loop {
            tokio::select! {
                input = self.wait(Some(limit)) => match input {
                    Input::Timeout => break,
                    Input::Person(Utterance::HangUp) => { caller_gone = true; break }
                    Input::Person(Utterance::Speech { text, audio }) => {
                        callee.ear.hear(&audio);
                        self.shared.event(&child, CallEventKind::CallSaid {
                            text: text.unwrap_or_else(|| "(audio)".into()),
                        });
                    }
                    Input::Person(Utterance::Digit(_)) => {}
                    Input::Command(c) => { interrupted = Some(self.command_flow(c)); break }
                },
                u = callee.rx.recv() => match u {
                    Some(Utterance::Speech { text, audio }) => {
                        self.person.ear.hear(&audio);
                        self.event(CallEventKind::CallSaid {
                            text: text.unwrap_or_else(|| "(audio)".into()),
                        });
                    }
                    Some(Utterance::Digit(_)) => {}
                    Some(Utterance::HangUp) | None => break,
                },
            }
        }
        let duration = started.elapsed().as_secs();
        finish(&self.shared, &child, "completed", &StatusCallbacks::none());
        self.event(CallEventKind::Bridge {
            event: "disconnected".into(),
            detail: child.clone(),
        });
        if let Some(flow) = interrupted {
            return Err(flow);
        }
        Ok(DialOutcome {
            status: "completed".into(),
            call_sid: Some(child),
            duration,
            caller_gone,
        })
    }

    /// Waits for the person to hang up or a REST command (while something else happens).
    async fn wait_hangup_or_command(&mut self) -> Flow {
        loop {
            match self.wait(None).await {
                Input::Person(Utterance::HangUp) => return Flow::End(End::PersonHungUp),
                Input::Command(c) => return self.command_flow(c),
                _ => {}
            }
        }
    }

    /// `<Dial><Conference>`: the person's speech goes into the conference's mixer, which
    /// sends back what they hear every 20 ms.
    async fn conference(&mut self, spec: &ConferenceSpec) -> Result<DialOutcome, Flow> {
        let joined = conference_join(&self.shared, spec, &self.sid);
        let (conf_sid, mix, mut heard_rx, mut kick) =
            (joined.sid, joined.mix, joined.heard, joined.kick);
        let started = Instant::now();
        if spec.wait_url.is_some() && !conference_started(&self.shared, &conf_sid) {
            self.event(CallEventKind::CallPlayed {
                what: "hold music (waitUrl)".into(),
                ms: 0,
            });
        }
        let mut caller_gone = false;
        let mut interrupted = None;
        let mut stretch_ms = 0u64;
        let mut last_sound = Instant::now();
        loop {
            tokio::select! {
                input = self.wait(None) => match input {
                    Input::Person(Utterance::HangUp) => { caller_gone = true; break }
                    Input::Person(Utterance::Speech { text, audio }) => {
                        let _ = mix.send(MixCmd::Speak {
                            call_sid: self.sid.clone(),
                            text,
                            audio,
                        });
                    }
                    Input::Person(Utterance::Digit(_)) | Input::Timeout => {}
                    Input::Command(c) => { interrupted = Some(self.command_flow(c)); break }
                },
                out = heard_rx.recv() => match out {
                    Some(ConfOut::Frame(frame)) => {
                        let now = Instant::now();
                        if self.person.ear.hear_frame(&frame) {
                            stretch_ms += frame.len() as u64 / 8;
                            last_sound = now;
                        } else if stretch_ms > 0
                            && now.duration_since(last_sound) >= Duration::from_millis(400)
                        {
                            self.event(CallEventKind::StreamAudio { ms: stretch_ms });
                            stretch_ms = 0;
                        }
                    }
                    Some(ConfOut::Said { from, text }) => {
                        self.event(CallEventKind::CallSaid { text: format!("[{from}] {text}") });
                    }
                    Some(ConfOut::Ended) | None => break,
                },
                _ = kick.recv() => {
                    self.event(CallEventKind::Bridge { event: "kicked".into(), detail: conf_sid.clone() });
                    break;
                }
            }
        }
        if stretch_ms > 0 {
            self.event(CallEventKind::StreamAudio { ms: stretch_ms });
        }
        conference_leave(&self.shared, &conf_sid, &self.sid);
        if let Some(flow) = interrupted {
            return Err(flow);
        }
        Ok(DialOutcome {
            status: "completed".into(),
            call_sid: None,
            duration: started.elapsed().as_secs(),
            caller_gone,
        })
    }

    /// `<Connect><Stream>`.
    async fn stream(&mut self, spec: &StreamSpec) -> Result<Flow, Flow> {
        let stream_sid = new_sid("MZ");
        let url = self.resolve(&spec.url);
        let cfg = StreamConfig {
            ws_url: url.clone(),
            signed_url: url.clone(),
            auth_token: Some(self.shared.settings.auth_token.clone()),
            account_sid: self.shared.settings.account_sid.clone(),
            call_sid: self.sid.clone(),
            stream_sid: stream_sid.clone(),
            custom_parameters: spec.parameters.iter().cloned().collect::<BTreeMap<_, _>>(),
        };
        let notifier = StreamNotifier {
            shared: self.shared.clone(),
            call_sid: self.sid.clone(),
            url: spec.status_callback.as_deref().map(|cb| self.resolve(cb)),
            method: spec.status_callback_method.clone(),
            name: spec.name.clone().unwrap_or_else(|| stream_sid.clone()),
            stream_sid: stream_sid.clone(),
        };
        let stream_cb = |event: &str, error: Option<&str>| notifier.send(event, error);
        let client = match MediaStreamClient::connect(cfg).await {
            Ok(c) => c,
            Err(e) => {
                let message = format!("Stream - WebSocket - Handshake Error: {url}: {e}");
                stream_cb("stream-error", Some(&message));
                self.shared
                    .notify_error(Some(&self.sid), 31920, message, Some(&url));
                return Ok(Flow::Next);
            }
        };
        self.event(CallEventKind::Stream {
            event: "started".into(),
            detail: format!("{url} {stream_sid}"),
        });
        stream_cb("stream-started", None);
        let drop_at = self
            .shared
            .faults()
            .config
            .drop_stream_after_ms
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        let mut heard_cursor = 0usize;
        let mut turns_reported = 0usize;
        let mut stretch_ms = 0u64;
        let mut last_sound = Instant::now();
        let mut last_check = Instant::now();
        let result = loop {
            let tick = Instant::now() + Duration::from_millis(20);
            match self.wait(Some(tick)).await {
                Input::Person(Utterance::Speech { audio, .. }) => client.say(audio),
                Input::Person(Utterance::Digit(d)) => {
                    let _ = client.press(d);
                }
                Input::Person(Utterance::HangUp) => {
                    self.report_turns(client.finish_voice_turns(), &mut turns_reported);
                    let _ = client.hang_up().await;
                    stream_cb("stream-stopped", None);
                    self.event(CallEventKind::Stream {
                        event: "stopped".into(),
                        detail: "caller hung up".into(),
                    });
                    return Err(Flow::End(End::PersonHungUp));
                }
                Input::Command(c) => {
                    self.report_turns(client.finish_voice_turns(), &mut turns_reported);
                    let _ = client.hang_up().await;
                    stream_cb("stream-stopped", None);
                    self.event(CallEventKind::Stream {
                        event: "stopped".into(),
                        detail: "call updated".into(),
                    });
                    return Err(self.command_flow(c));
                }
                Input::Timeout => {}
            }
            let now = Instant::now();
            if now.duration_since(last_check) >= Duration::from_millis(100) {
                last_check = now;
                let heard = client.heard_mulaw();
                if heard.len() > heard_cursor {
                    let new = &heard[heard_cursor..];
                    heard_cursor = heard.len();
                    if !is_silent(new) {
                        self.person.ear.hear_live(new);
                        stretch_ms += new.len() as u64 / 8;
                        last_sound = now;
                    }
                }
                if stretch_ms > 0 && now.duration_since(last_sound) >= Duration::from_millis(400) {
                    self.event(CallEventKind::StreamAudio { ms: stretch_ms });
                    stretch_ms = 0;
                }
                self.report_turns(client.voice_turns(), &mut turns_reported);
            }
            if drop_at.is_some_and(|d| now >= d) {
                self.report_turns(client.finish_voice_turns(), &mut turns_reported);
                drop(client);
                let message = "fault injection: stream connection dropped".to_owned();
                stream_cb("stream-error", Some(&message));
                self.shared
                    .notify_error(Some(&self.sid), 31921, message, Some(&url));
                break Flow::Next;
            }
            if client.wait_closed(Duration::ZERO).await.is_ok() {
                self.report_turns(client.finish_voice_turns(), &mut turns_reported);
                if stretch_ms > 0 {
                    self.event(CallEventKind::StreamAudio { ms: stretch_ms });
                }
                stream_cb("stream-stopped", None);
                self.event(CallEventKind::Stream {
                    event: "stopped".into(),
                    detail: "server closed the WebSocket".into(),
                });
                break Flow::Next;
            }
        };
        Ok(result)
    }

    /// Logs the caller turns in `turns` after the first `reported` (voice-to-voice latency).
    fn report_turns(&self, turns: Vec<Turn>, reported: &mut usize) {
        for turn in turns.into_iter().skip(*reported) {
            *reported += 1;
            self.event(CallEventKind::from(turn));
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &mut self,
        action: Option<&str>,
        method: &str,
        max_length_secs: u32,
        timeout_secs: u32,
        finish_on_key: &str,
        play_beep: bool,
        recording_status_callback: Option<&str>,
    ) -> Result<Flow, Flow> {
        if play_beep {
            self.event(CallEventKind::CallPlayed {
                what: "beep".into(),
                ms: u64::from(speech::BEEP_MS),
            });
            self.play(&speech::beep(), false).await?;
        }
        let started = Instant::now();
        let max_end = started + Duration::from_secs(u64::from(max_length_secs));
        let silence = Duration::from_secs(u64::from(timeout_secs.max(1)));
        let mut audio: Vec<u8> = Vec::new();
        let mut talking_until = started;
        let mut digits = String::new();
        let mut hung_up = false;
        loop {
            // Ends at maxLength, or `timeout` seconds after the last speech ended.
            let deadline = max_end.min(talking_until + silence);
            match self.wait(Some(deadline)).await {
                Input::Timeout => {
                    if Instant::now() >= max_end || Instant::now() >= talking_until + silence {
                        break;
                    }
                }
                Input::Person(Utterance::Speech { audio: a, text }) => {
                    // Pad the silence since the last sound, then the speech.
                    let gap = Instant::now().saturating_duration_since(talking_until.max(started));
                    if !audio.is_empty() {
                        audio.extend(speech::silence(gap.as_millis() as u32));
                    }
                    talking_until = Instant::now() + Duration::from_millis(a.len() as u64 / 8);
                    audio.extend(a);
                    if let Some(t) = text {
                        self.event(CallEventKind::Gathered {
                            digits: None,
                            speech: Some(format!("(recorded) {t}")),
                        });
                    }
                }
                Input::Person(Utterance::Digit(c)) => {
                    if finish_on_key.contains(c) {
                        digits = c.to_string();
                        break;
                    }
                }
                Input::Person(Utterance::HangUp) => {
                    digits = "hangup".into();
                    hung_up = true;
                    break;
                }
                Input::Command(c) => return Err(self.command_flow(c)),
            }
        }
        if audio.is_empty() {
            return if hung_up {
                Ok(Flow::End(End::PersonHungUp))
            } else {
                Ok(Flow::Next)
            };
        }
        let recording_sid = new_sid("RE");
        let duration = (audio.len() as u64).div_ceil(8000);
        self.shared
            .lock()
            .recordings
            .insert(recording_sid.clone(), audio);
        let recording_url = format!(
            "{}/{API_VERSION}/Accounts/{}/Recordings/{recording_sid}",
            self.shared.settings.base_url, self.shared.settings.account_sid
        );
        let extra = vec![
            ("RecordingUrl".to_owned(), recording_url.clone()),
            ("RecordingDuration".into(), duration.to_string()),
            ("RecordingSid".into(), recording_sid.clone()),
            ("Digits".into(), digits),
        ];
        if let Some(cb) = recording_status_callback {
            let params = vec![
                (
                    "AccountSid".to_owned(),
                    self.shared.settings.account_sid.clone(),
                ),
                ("CallSid".into(), self.sid.clone()),
                ("RecordingSid".into(), recording_sid),
                ("RecordingUrl".into(), recording_url),
                ("RecordingStatus".into(), "completed".into()),
                ("RecordingDuration".into(), duration.to_string()),
                ("RecordingChannels".into(), "1".into()),
                ("RecordingSource".into(), "RecordVerb".into()),
            ];
            let hook = Webhook::post(&self.resolve(cb), params, "recording-status");
            webhooks::spawn_callback(&self.shared, hook, Some(&self.sid));
        }
        let Some(url) = action.map(str::to_owned).or_else(|| self.doc_url.clone()) else {
            return Ok(if hung_up {
                Flow::End(End::PersonHungUp)
            } else {
                Flow::Next
            });
        };
        let doc = DocSource::Url {
            url,
            method: method.to_owned(),
            extra,
        };
        if hung_up {
            self.post_and_forget(doc);
            return Ok(Flow::End(End::PersonHungUp));
        }
        Ok(Flow::Goto(doc))
    }

    /// Ends the call with the status Twilio would report.
    async fn end(&mut self, end: End, callbacks: &StatusCallbacks) {
        let answered = self
            .shared
            .lock()
            .call(&self.sid)
            .is_some_and(|c| c.answered_at.is_some());
        let (status, by) = match &end {
            End::CallHungUp => ("completed", "call"),
            End::PersonHungUp => ("completed", "person"),
            End::Api => (if answered { "completed" } else { "canceled" }, "api"),
            End::Error => (if answered { "completed" } else { "failed" }, "system"),
            End::Rejected(reason) if reason == "busy" => ("busy", "call"),
            End::Rejected(_) => ("no-answer", "call"),
        };
        self.event(CallEventKind::HungUp { by: by.into() });
        finish(&self.shared, &self.sid, status, callbacks);
    }
}

/// Sleeps until `deadline`, or forever.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The WAV at `url` as 8 kHz μ-law, or a 1 s tone when it cannot be fetched or read.
async fn fetch_audio(shared: &Shared, url: &str) -> Vec<u8> {
    let fetched = async {
        let response = shared
            .http
            .get(url)
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let bytes = response.bytes().await.ok()?;
        let (rate, samples) = voice::wav::parse_streamed_wav(&bytes)?;
        let samples = voice::pcm::resample_any(&samples, rate, speech::SAMPLE_RATE);
        let mut out = Vec::with_capacity(samples.len());
        voice::mulaw::encode(&samples, &mut out);
        Some(out)
    };
    match fetched.await {
        Some(audio) => audio,
        None => speech::tone(440.0, 1000),
    }
}

fn verb_detail(verb: &Verb) -> String {
    match verb {
        Verb::Say { text, .. } => text.clone(),
        Verb::Play { url, digits, .. } => {
            url.clone().or_else(|| digits.clone()).unwrap_or_default()
        }
        Verb::Pause { length_secs } => format!("{length_secs}s"),
        Verb::Gather { input, action, .. } => format!(
            "{input:?} -> {}",
            action.as_deref().unwrap_or("(current document)")
        ),
        Verb::Dial { target, .. } => match target {
            DialTarget::Number(n) => n
                .iter()
                .map(|n| n.number.as_str())
                .collect::<Vec<_>>()
                .join(","),
            DialTarget::Conference(c) => format!("conference {}", c.name),
            DialTarget::Client(c) => format!("client {c}"),
            DialTarget::Sip(s) => format!("sip {s}"),
        },
        Verb::Connect { stream } => stream.as_ref().map(|s| s.url.clone()).unwrap_or_default(),
        Verb::Redirect { url, .. } => url.clone(),
        Verb::Reject { reason } => reason.clone(),
        _ => String::new(),
    }
}

/// Sends a stream's status callbacks.
struct StreamNotifier {
    shared: Shared,
    call_sid: String,
    url: Option<String>,
    method: String,
    name: String,
    stream_sid: String,
}

impl StreamNotifier {
    fn send(&self, event: &str, error: Option<&str>) {
        let Some(url) = &self.url else { return };
        let mut params = vec![
            (
                "AccountSid".to_owned(),
                self.shared.settings.account_sid.clone(),
            ),
            ("CallSid".into(), self.call_sid.clone()),
            ("StreamSid".into(), self.stream_sid.clone()),
            ("StreamName".into(), self.name.clone()),
            ("StreamEvent".into(), event.to_owned()),
            ("Timestamp".into(), rfc2822_now()),
        ];
        if let Some(e) = error {
            params.push(("StreamError".into(), e.to_owned()));
        }
        let hook = Webhook::post(url, params, &format!("stream:{event}")).with_method(&self.method);
        webhooks::spawn_callback(&self.shared, hook, Some(&self.call_sid));
    }
}

/// How a `<Dial>` went.
struct DialOutcome {
    status: String,
    call_sid: Option<String>,
    duration: u64,
    /// The caller hung up during the dial.
    caller_gone: bool,
}

// ---------------------------------------------------------------------------------------
// Conferences.

/// What a conference's mixer task is told.
pub(crate) enum MixCmd {
    /// A call joins: its frames go to `out`.
    Join {
        call_sid: String,
        out: mpsc::UnboundedSender<ConfOut>,
        muted: bool,
        hold: bool,
        coach: Option<String>,
        beep_on_enter: bool,
        beep_on_exit: bool,
    },
    Leave {
        call_sid: String,
    },
    /// The person said this; it is spoken into the mix 20 ms per tick.
    Speak {
        call_sid: String,
        text: Option<String>,
        audio: Vec<u8>,
    },
    /// REST participant update: muted / on hold / coaching whom.
    Update {
        call_sid: String,
        muted: bool,
        hold: bool,
        coach: Option<String>,
    },
    /// A participant who starts the conference is in: waiting music stops.
    Started,
    /// The conference is over.
    End,
}

/// What a participant's call gets from the mixer.
pub(crate) enum ConfOut {
    /// What the person hears this tick (160 μ-law bytes).
    Frame(Vec<u8>),
    /// Another participant's words the person hears (for the transcript).
    Said {
        from: String,
        text: String,
    },
    Ended,
}

/// A participant as the mixer task sees it.
struct Member {
    out: mpsc::UnboundedSender<ConfOut>,
    /// Speech still to be spoken, μ-law.
    queue: VecDeque<u8>,
    muted: bool,
    hold: bool,
    coach: Option<String>,
    beep_on_exit: bool,
}

/// The mixer's id for the join/leave beep (a speaker nobody is).
const BEEP_SOURCE: &str = "\u{0}beep";

/// The next 20 ms frame of `queue`, padded with silence; `None` when nothing is queued.
fn next_frame(queue: &mut VecDeque<u8>) -> Option<Vec<u8>> {
    if queue.is_empty() {
        return None;
    }
    let n = queue.len().min(FRAME_SAMPLES);
    let mut frame: Vec<u8> = queue.drain(..n).collect();
    frame.resize(FRAME_SAMPLES, voice::mulaw::encode_sample(0));
    Some(frame)
}

/// Spawns the mixer task of a new conference.
fn spawn_mixer(conf_sid: &str) -> mpsc::UnboundedSender<MixCmd> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run_mixer(conf_sid.to_owned(), rx));
    tx
}

/// One conference's audio: every 20 ms each member's next speech frame goes in and each
/// member gets its mix. Until a starter joins everybody is held (waiting music).
async fn run_mixer(conf_sid: String, mut cmds: mpsc::UnboundedReceiver<MixCmd>) {
    let mut mixer = Mixer::new();
    let _ = mixer.add(BEEP_SOURCE);
    let mut beep: VecDeque<u8> = VecDeque::new();
    let mut members: BTreeMap<String, Member> = BTreeMap::new();
    let mut started = false;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                None | Some(MixCmd::End) => {
                    for m in members.values() {
                        let _ = m.out.send(ConfOut::Ended);
                    }
                    tracing::debug!(%conf_sid, "conference mixer ended");
                    return;
                }
                Some(MixCmd::Join { call_sid, out, muted, hold, coach, beep_on_enter, beep_on_exit }) => {
                    if mixer.add(&call_sid).is_err() {
                        continue;
                    }
                    members.insert(call_sid.clone(), Member {
                        out,
                        queue: VecDeque::new(),
                        muted,
                        hold,
                        coach,
                        beep_on_exit,
                    });
                    if beep_on_enter {
                        beep.extend(speech::beep());
                    }
                    apply_all(&mut mixer, &members, started);
                }
                Some(MixCmd::Leave { call_sid }) => {
                    if let Some(m) = members.remove(&call_sid) {
                        let _ = mixer.remove(&call_sid);
                        if m.beep_on_exit {
                            beep.extend(speech::beep());
                        }
                        apply_all(&mut mixer, &members, started);
                    }
                }
                Some(MixCmd::Speak { call_sid, text, audio }) => {
                    if let Some(text) = text {
                        for (listener, m) in &members {
                            if hears(&members, &call_sid, listener, started) {
                                let _ = m.out.send(ConfOut::Said { from: call_sid.clone(), text: text.clone() });
                            }
                        }
                    }
                    if let Some(m) = members.get_mut(&call_sid) {
                        m.queue.extend(audio);
                    }
                }
                Some(MixCmd::Update { call_sid, muted, hold, coach }) => {
                    if let Some(m) = members.get_mut(&call_sid) {
                        m.muted = muted;
                        m.hold = hold;
                        m.coach = coach;
                        apply_all(&mut mixer, &members, started);
                    }
                }
                Some(MixCmd::Started) => {
                    started = true;
                    apply_all(&mut mixer, &members, started);
                }
            },
            _ = tick.tick() => {
                if let Some(frame) = next_frame(&mut beep) {
                    let _ = mixer.push(BEEP_SOURCE, &frame);
                }
                for (id, m) in &mut members {
                    if let Some(frame) = next_frame(&mut m.queue) {
                        let _ = mixer.push(id, &frame);
                    }
                }
                for (id, heard) in mixer.mix() {
                    if let Some(m) = members.get(&id) {
                        let _ = m.out.send(ConfOut::Frame(heard));
                    }
                }
            }
        }
    }
}

/// Brings the mixer's participant states in line with the members (a member is held while
/// the conference waits for a starter; a coach whose coachee left is heard by nobody).
fn apply_all(mixer: &mut Mixer, members: &BTreeMap<String, Member>, started: bool) {
    for (id, m) in members {
        let _ = mixer.set_muted(id, m.muted);
        let _ = mixer.set_on_hold(id, m.hold || !started);
        let coach = m.coach.as_deref().filter(|t| members.contains_key(*t));
        if mixer.set_coaching(id, coach).is_err() {
            let _ = mixer.set_coaching(id, None);
        }
        if m.coach.is_some() && coach.is_none() {
            let _ = mixer.set_muted(id, true);
        }
    }
}

/// Whether `listener` hears `speaker` now (the mixer's rule, for transcripts).
fn hears(members: &BTreeMap<String, Member>, speaker: &str, listener: &str, started: bool) -> bool {
    let (Some(s), Some(l)) = (members.get(speaker), members.get(listener)) else {
        return false;
    };
    speaker != listener
        && started
        && !s.muted
        && !s.hold
        && !l.hold
        && s.coach.as_deref().is_none_or(|t| t == listener)
}

/// Tells a conference's mixer about a participant's new state (REST update).
pub(crate) fn conference_update(shared: &Shared, conf_sid: &str, p: &ParticipantRecord) {
    let mix = shared.lock().conference_mixers.get(conf_sid).cloned();
    if let Some(mix) = mix {
        let _ = mix.send(MixCmd::Update {
            call_sid: p.call_sid.clone(),
            muted: p.muted,
            hold: p.hold,
            coach: p.call_sid_to_coach.clone().filter(|_| p.coaching),
        });
    }
}

fn conference_started(shared: &Shared, conf_sid: &str) -> bool {
    let state = shared.lock();
    state
        .conferences
        .iter()
        .find(|c| c.sid == conf_sid)
        .is_some_and(|c| c.status == "in-progress")
}

/// The live (not completed) conference named `name`, created if needed; returns its index.
fn live_conference(state: &mut crate::state::SimState, account: &str, name: &str) -> usize {
    if let Some(i) = state
        .conferences
        .iter()
        .position(|c| c.friendly_name == name && c.status != "completed")
    {
        return i;
    }
    let sid = new_sid("CF");
    let now = rfc2822_now();
    let base = format!("/{API_VERSION}/Accounts/{account}/Conferences/{sid}");
    state.conferences.push(ConferenceRecord {
        account_sid: account.to_owned(),
        date_created: now.clone(),
        date_updated: now,
        api_version: API_VERSION.into(),
        friendly_name: name.to_owned(),
        region: "us1".into(),
        sid: sid.clone(),
        status: "init".into(),
        uri: format!("{base}.json"),
        subresource_uris: serde_json::json!({
            "participants": format!("{base}/Participants.json"),
            "recordings": format!("{base}/Recordings.json"),
        }),
        reason_conference_ended: None,
        call_sid_ending_conference: None,
        participants: Vec::new(),
        status_callback: None,
    });
    let mix = spawn_mixer(&sid);
    state.conference_mixers.insert(sid, mix);
    state.conferences.len() - 1
}

#[allow(clippy::too_many_arguments)]
fn new_participant(
    account: &str,
    conf: &ConferenceRecord,
    call_sid: &str,
    label: Option<String>,
    start_on_enter: bool,
    end_on_exit: bool,
    muted: bool,
    status: &str,
) -> ParticipantRecord {
    let now = rfc2822_now();
    ParticipantRecord {
        account_sid: account.to_owned(),
        call_sid: call_sid.to_owned(),
        label,
        call_sid_to_coach: None,
        coaching: false,
        conference_sid: conf.sid.clone(),
        date_created: now.clone(),
        date_updated: now,
        end_conference_on_exit: end_on_exit,
        muted,
        hold: false,
        start_conference_on_enter: start_on_enter,
        status: status.to_owned(),
        queue_time: None,
        uri: format!(
            "/{API_VERSION}/Accounts/{account}/Conferences/{}/Participants/{call_sid}.json",
            conf.sid
        ),
    }
}

/// A participant added over REST: listed at once (`queued`) while its call rings.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conference_prepare_participant(
    shared: &Shared,
    name: &str,
    call_sid: &str,
    label: Option<String>,
    start_on_enter: bool,
    end_on_exit: bool,
    muted: bool,
    status_callback: Option<String>,
) -> ParticipantRecord {
    let account = shared.settings.account_sid.clone();
    let record = {
        let mut state = shared.lock();
        let i = live_conference(&mut state, &account, name);
        let conf = &mut state.conferences[i];
        if conf.status_callback.is_none() {
            conf.status_callback = status_callback;
        }
        let p = new_participant(
            &account,
            conf,
            call_sid,
            label,
            start_on_enter,
            end_on_exit,
            muted,
            "queued",
        );
        conf.participants.push(p.clone());
        p
    };
    shared.bump();
    record
}

/// A call in a conference: the conference, its mixer, what the call hears, its kick signal.
struct Joined {
    sid: String,
    mix: mpsc::UnboundedSender<MixCmd>,
    heard: mpsc::UnboundedReceiver<ConfOut>,
    kick: mpsc::UnboundedReceiver<()>,
}

/// Joins the call to the conference (and its mixer).
fn conference_join(shared: &Shared, spec: &ConferenceSpec, call_sid: &str) -> Joined {
    let account = shared.settings.account_sid.clone();
    let (kick_tx, kick_rx) = mpsc::unbounded_channel();
    let (heard_tx, heard_rx) = mpsc::unbounded_channel();
    let (sid, mix, me, started_now, callback) = {
        let mut state = shared.lock();
        let i = live_conference(&mut state, &account, &spec.name);
        let conf = &mut state.conferences[i];
        if conf.status_callback.is_none() {
            conf.status_callback = spec.status_callback.clone();
        }
        let existing = conf
            .participants
            .iter_mut()
            .find(|p| p.call_sid == call_sid);
        let me = match existing {
            Some(p) => {
                p.status = "connected".into();
                p.date_updated = rfc2822_now();
                p.clone()
            }
            None => {
                let p = new_participant(
                    &account,
                    conf,
                    call_sid,
                    None,
                    spec.start_conference_on_enter,
                    spec.end_conference_on_exit,
                    spec.muted,
                    "connected",
                );
                conf.participants.push(p.clone());
                p
            }
        };
        let starts = conf
            .participants
            .iter()
            .any(|p| p.status == "connected" && p.start_conference_on_enter);
        let started_now = starts && conf.status == "init";
        if started_now {
            conf.status = "in-progress".into();
            conf.date_updated = rfc2822_now();
        }
        let sid = conf.sid.clone();
        let callback = conf.status_callback.clone();
        let mix = state
            .conference_mixers
            .entry(sid.clone())
            .or_insert_with(|| spawn_mixer(&sid))
            .clone();
        if let Some(slot) = state.call_mut(call_sid) {
            slot.conference_kick = Some(kick_tx);
        }
        (sid, mix, me, started_now, callback)
    };
    let beep = spec.beep.to_ascii_lowercase();
    let _ = mix.send(MixCmd::Join {
        call_sid: call_sid.to_owned(),
        out: heard_tx,
        muted: me.muted,
        hold: me.hold,
        coach: me.call_sid_to_coach.clone().filter(|_| me.coaching),
        beep_on_enter: beep == "true" || beep == "onenter",
        beep_on_exit: beep == "true" || beep == "onexit",
    });
    if started_now || conference_started(shared, &sid) {
        let _ = mix.send(MixCmd::Started);
    }
    shared.bump();
    shared.event(
        call_sid,
        CallEventKind::Bridge {
            event: "joined-conference".into(),
            detail: format!("{} ({sid})", spec.name),
        },
    );
    let events = if spec.status_callback_event.is_empty() {
        vec!["start".to_owned(), "end".to_owned()]
    } else {
        spec.status_callback_event.clone()
    };
    if events.iter().any(|e| e == "join") {
        conference_callback(
            shared,
            &sid,
            callback.as_deref(),
            "participant-join",
            Some(call_sid),
        );
    }
    if started_now && events.iter().any(|e| e == "start") {
        conference_callback(shared, &sid, callback.as_deref(), "conference-start", None);
    }
    store_conference_events(shared, &sid, events);
    Joined {
        sid,
        mix,
        heard: heard_rx,
        kick: kick_rx,
    }
}

/// Remembers which conference events were asked for (first spec wins).
fn store_conference_events(shared: &Shared, sid: &str, events: Vec<String>) {
    shared
        .lock()
        .conference_events
        .entry(sid.to_owned())
        .or_insert(events);
}

fn conference_callback(
    shared: &Shared,
    conf_sid: &str,
    url: Option<&str>,
    event: &str,
    call_sid: Option<&str>,
) {
    let Some(url) = url else { return };
    let (name, seq, p) = {
        let mut state = shared.lock();
        let seq = {
            let n = state.conference_seq.entry(conf_sid.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        let Some(conf) = state.conferences.iter().find(|c| c.sid == conf_sid) else {
            return;
        };
        let p = call_sid.and_then(|c| conf.participants.iter().find(|p| p.call_sid == c).cloned());
        (conf.friendly_name.clone(), seq, p)
    };
    let mut params = vec![
        ("AccountSid".to_owned(), shared.settings.account_sid.clone()),
        ("ConferenceSid".into(), conf_sid.to_owned()),
        ("FriendlyName".into(), name),
        ("StatusCallbackEvent".into(), event.to_owned()),
        ("SequenceNumber".into(), seq.to_string()),
        ("Timestamp".into(), rfc2822_now()),
    ];
    if let Some(p) = p {
        params.push(("CallSid".into(), p.call_sid));
        params.push(("Muted".into(), p.muted.to_string()));
        params.push(("Hold".into(), p.hold.to_string()));
        params.push(("Coaching".into(), p.coaching.to_string()));
        params.push((
            "EndConferenceOnExit".into(),
            p.end_conference_on_exit.to_string(),
        ));
        params.push((
            "StartConferenceOnEnter".into(),
            p.start_conference_on_enter.to_string(),
        ));
        if let Some(label) = p.label {
            params.push(("ParticipantLabel".into(), label));
        }
    }
    let hook = Webhook::post(url, params, &format!("conference:{event}"));
    webhooks::spawn_callback(shared, hook, call_sid);
}

/// The call leaves; the conference ends when nobody is left or an
/// `endConferenceOnExit` participant left.
fn conference_leave(shared: &Shared, conf_sid: &str, call_sid: &str) {
    let (ended, callback, events, mix) = {
        let mut state = shared.lock();
        let events = state
            .conference_events
            .get(conf_sid)
            .cloned()
            .unwrap_or_default();
        let mix = state.conference_mixers.get(conf_sid).cloned();
        let Some(conf) = state.conferences.iter_mut().find(|c| c.sid == conf_sid) else {
            return;
        };
        let mut ends_it = false;
        if let Some(p) = conf
            .participants
            .iter_mut()
            .find(|p| p.call_sid == call_sid)
        {
            if p.status == "complete" {
                return;
            }
            p.status = "complete".into();
            p.date_updated = rfc2822_now();
            ends_it = p.end_conference_on_exit;
        }
        let remaining = conf
            .participants
            .iter()
            .filter(|p| p.status == "connected")
            .count();
        let ended = conf.status != "completed" && (ends_it || remaining == 0);
        if ended {
            conf.status = "completed".into();
            conf.date_updated = rfc2822_now();
            conf.reason_conference_ended = Some(if ends_it {
                "participant-with-end-conference-on-exit-left".into()
            } else {
                "last-participant-left".into()
            });
            conf.call_sid_ending_conference = Some(call_sid.to_owned());
        }
        let callback = conf.status_callback.clone();
        if let Some(slot) = state.call_mut(call_sid) {
            slot.conference_kick = None;
        }
        if ended {
            state.conference_mixers.remove(conf_sid);
        }
        (ended, callback, events, mix)
    };
    if let Some(mix) = &mix {
        let _ = mix.send(MixCmd::Leave {
            call_sid: call_sid.to_owned(),
        });
    }
    shared.bump();
    shared.event(
        call_sid,
        CallEventKind::Bridge {
            event: "left-conference".into(),
            detail: conf_sid.to_owned(),
        },
    );
    if events.iter().any(|e| e == "leave") {
        conference_callback(
            shared,
            conf_sid,
            callback.as_deref(),
            "participant-leave",
            Some(call_sid),
        );
    }
    if ended {
        if let Some(mix) = mix {
            let _ = mix.send(MixCmd::End);
        }
        if events.iter().any(|e| e == "end") {
            conference_callback(
                shared,
                conf_sid,
                callback.as_deref(),
                "conference-end",
                None,
            );
        }
    }
}

/// Removes a participant (REST `DELETE`): its call leaves and continues after `<Dial>`.
pub(crate) fn conference_kick(shared: &Shared, conf_sid: &str, call_sid: &str) {
    let kick = shared
        .lock()
        .call(call_sid)
        .and_then(|c| c.conference_kick.clone());
    match kick {
        Some(tx) => {
            let _ = tx.send(());
        }
        None => {
            // Not in the conference yet (still ringing): cancel the call.
            let commands = shared
                .lock()
                .call(call_sid)
                .and_then(|c| c.commands.clone());
            if let Some(tx) = commands {
                let _ = tx.send(CallCommand::Hangup("canceled".into()));
            }
            conference_leave(shared, conf_sid, call_sid);
        }
    }
}
