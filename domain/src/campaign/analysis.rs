//! Post-call analysis of a campaign call, offline and rule-based: how the call ended for the
//! business (booked, callback, not interested, do-not-call …), the appointment's time in the
//! recipient's zone, the vehicle talked about, and whether a person should look at it.
//!
//! Only the caller's words decide the outcome: an agent reading out "say stop to opt out" must
//! not opt the caller out. Rules read recognised speech, so they ignore case and punctuation and
//! tolerate small misspellings (see `crate::speech`); days and times are read by
//! [`crate::when`], the same reader the dialog's campaign calls use. A do-not-call request outranks everything (it
//! is a legal obligation), then a wrong number; among booking, callback and refusal the
//! caller's last word counts, and a change of mind is flagged for review.
//!
//! The LLM path produces the same [`PostCallAnalysis`]; [`schema`] holds its JSON Schema and
//! the check its output must pass.

mod schema;
mod vehicle;

pub use schema::{post_call_analysis_schema, validate_llm_analysis};

use super::retry::AttemptOutcome;
use crate::call::{Speaker, TranscriptSegment};
use crate::directory::schedule::resolve_local;
use crate::speech::{self, contains_any};
use crate::when::SpokenWhen;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Below this confidence an analysis needs a person's review.
pub const ATTENTION_BELOW: f32 = 0.6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeClass {
    AppointmentBooked,
    CallbackRequested,
    NotInterested,
    WrongNumber,
    DoNotCall,
    Voicemail,
    NoAnswer,
    Busy,
    CompletedOther,
}

impl OutcomeClass {
    pub const ALL: [OutcomeClass; 9] = [
        Self::AppointmentBooked,
        Self::CallbackRequested,
        Self::NotInterested,
        Self::WrongNumber,
        Self::DoNotCall,
        Self::Voicemail,
        Self::NoAnswer,
        Self::Busy,
        Self::CompletedOther,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AppointmentBooked => "appointment_booked",
            Self::CallbackRequested => "callback_requested",
            Self::NotInterested => "not_interested",
            Self::WrongNumber => "wrong_number",
            Self::DoNotCall => "do_not_call",
            Self::Voicemail => "voicemail",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::CompletedOther => "completed_other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostCallAnalysis {
    pub summary: String,
    pub outcome: OutcomeClass,
    /// 0 to 1.
    pub confidence: f32,
    pub appointment_at: Option<DateTime<Utc>>,
    /// The appointment as the recipient would say it: "Tuesday 8 December at 10:00".
    pub appointment_local: Option<String>,
    pub vehicle: Option<String>,
    pub notes: Option<String>,
    pub needs_attention: bool,
}

const DO_NOT_CALL: &[&str] = &[
    "stop calling",
    "take me off",
    "take my number off",
    "remove me from",
    "remove my number",
    "dont call again",
    "dont call me again",
    "dont ever call",
    "do not call",
    "never call",
    "lose my number",
    "off your list",
    "off your calling list",
    "unsubscribe",
];
const WRONG_NUMBER: &[&str] = &[
    "wrong number",
    "no one by that name",
    "nobody by that name",
    "no one here by that name",
    "nobody here by that name",
    "doesnt live here",
    "dont know who that is",
    "you have the wrong",
    "youve got the wrong",
];
const NOT_INTERESTED: &[&str] = &[
    "not interested",
    "no thank you",
    "no thanks",
    "dont need",
    "sold the car",
    "sold that car",
    "sold it",
    "no longer have",
];
const CALLBACK: &[&str] = &[
    "call me back",
    "call back",
    "call me later",
    "call me tomorrow",
    "call me next week",
    "try again later",
    "try me later",
    "bad time",
    "not a good time",
];
const ACCEPT: &[&str] = &[
    "works",
    "sounds good",
    "yes",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "perfect",
    "book me",
    "book it",
    "schedule me",
    "put me down",
    "lets do",
    "fine",
    "great",
];
const REFUSE: &[&str] = &[
    "doesnt work",
    "dont work",
    "wont work",
    "cant",
    "cannot",
    "not good",
    "no good",
    "bad",
    "not available",
];

/// What one caller turn says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    DoNotCall,
    WrongNumber,
    Appointment,
    Callback,
    NotInterested,
}

/// A turn's words with the day and time they mention.
struct Heard {
    speaker: Speaker,
    text: String,
    words: Vec<String>,
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
}

impl Heard {
    /// `today` is the recipient's local date, which "tomorrow" and "Tuesday" count from.
    fn new(segment: &TranscriptSegment, today: NaiveDate) -> Self {
        let when = SpokenWhen::parse(&segment.text, today, None).unwrap_or_default();
        Self {
            speaker: segment.speaker,
            text: segment.text.trim().to_owned(),
            words: speech::words(&segment.text),
            date: when.date,
            time: when.time,
        }
    }
}

/// The strongest thing caller turn `turn` says, given the agent turn before it (which may have
/// offered the slot the caller accepts).
fn signal_of(turn: &Heard, offer: Option<&Heard>) -> Option<Signal> {
    let w = &turn.words;
    if contains_any(w, DO_NOT_CALL) {
        return Some(Signal::DoNotCall);
    }
    if contains_any(w, WRONG_NUMBER) {
        return Some(Signal::WrongNumber);
    }
    let refuses = contains_any(w, REFUSE);
    let offered = offer.is_some_and(|o| o.date.is_some() || o.time.is_some());
    let names_slot = turn.date.is_some() && turn.time.is_some();
    let accepts =
        contains_any(w, ACCEPT) && (offered || turn.date.is_some() || turn.time.is_some());
    if !refuses && (accepts || names_slot) && !contains_any(w, CALLBACK) {
        return Some(Signal::Appointment);
    }
    if contains_any(w, CALLBACK) {
        return Some(Signal::Callback);
    }
    contains_any(w, NOT_INTERESTED).then_some(Signal::NotInterested)
}

/// The deciding caller turn, its signal, and whether the caller changed their mind.
fn decide(heard: &[Heard]) -> Option<(usize, Signal, bool)> {
    let signals: Vec<(usize, Signal)> = heard
        .iter()
        .enumerate()
        .filter(|(_, h)| h.speaker == Speaker::Caller)
        .filter_map(|(i, h)| {
            let offer = heard[..i].last().filter(|p| p.speaker == Speaker::Agent);
            signal_of(h, offer).map(|s| (i, s))
        })
        .collect();
    for overriding in [Signal::DoNotCall, Signal::WrongNumber] {
        if let Some(&(i, s)) = signals.iter().find(|(_, s)| *s == overriding) {
            return Some((i, s, false));
        }
    }
    let &(i, last) = signals.last()?;
    let changed_mind = signals.iter().any(|(_, s)| *s != last);
    Some((i, last, changed_mind))
}

/// Analyses a campaign call that ended with `attempt`, for a recipient in `zone`, at `now`.
pub fn analyse_call(
    turns: &[TranscriptSegment],
    attempt: AttemptOutcome,
    zone: Tz,
    now: DateTime<Utc>,
) -> PostCallAnalysis {
    let today = local_today(zone, now);
    let heard: Vec<Heard> = turns.iter().map(|t| Heard::new(t, today)).collect();
    let vehicle = vehicle::mentioned(turns.iter().map(|t| t.text.as_str()));
    let unreached = match attempt {
        AttemptOutcome::Voicemail => Some((OutcomeClass::Voicemail, "Reached voicemail.")),
        AttemptOutcome::Busy => Some((OutcomeClass::Busy, "The line was busy.")),
        AttemptOutcome::NoAnswer => Some((OutcomeClass::NoAnswer, "No answer.")),
        AttemptOutcome::Failed | AttemptOutcome::Canceled => {
            Some((OutcomeClass::NoAnswer, "The call did not connect."))
        }
        AttemptOutcome::Completed => None,
    };
    let mut analysis = match (unreached, decide(&heard)) {
        (Some((outcome, summary)), _) => plain(outcome, 1.0, summary),
        (None, None) => plain(
            OutcomeClass::CompletedOther,
            0.5,
            "Spoke with the recipient; no booking, callback or refusal recognised.",
        ),
        (None, Some((i, signal, changed_mind))) => {
            let mut a = from_signal(&heard, i, signal, zone, now);
            if changed_mind {
                a.confidence -= 0.3;
                a.needs_attention = true;
            }
            a.notes = Some(quote(&heard[i].text));
            a
        }
    };
    analysis.confidence = analysis.confidence.clamp(0.0, 1.0);
    analysis.needs_attention |= analysis.confidence < ATTENTION_BELOW;
    if let Some(v) = &vehicle {
        analysis.summary.push_str(&format!(" Vehicle: {v}."));
    }
    analysis.vehicle = vehicle;
    analysis
}

fn plain(outcome: OutcomeClass, confidence: f32, summary: &str) -> PostCallAnalysis {
    PostCallAnalysis {
        summary: summary.to_owned(),
        outcome,
        confidence,
        appointment_at: None,
        appointment_local: None,
        vehicle: None,
        notes: None,
        needs_attention: false,
    }
}

fn from_signal(
    heard: &[Heard],
    i: usize,
    signal: Signal,
    zone: Tz,
    now: DateTime<Utc>,
) -> PostCallAnalysis {
    match signal {
        Signal::DoNotCall => plain(
            OutcomeClass::DoNotCall,
            0.95,
            "Asked not to be called again.",
        ),
        Signal::WrongNumber => plain(
            OutcomeClass::WrongNumber,
            0.9,
            "Wrong number: the person reached is not the customer.",
        ),
        Signal::NotInterested => plain(OutcomeClass::NotInterested, 0.85, "Not interested."),
        Signal::Callback => {
            let summary = match heard[i].date {
                Some(date) => format!("Asked to be called back on {}.", date.format("%A %-d %B")),
                None => "Asked to be called back later.".to_owned(),
            };
            plain(OutcomeClass::CallbackRequested, 0.8, &summary)
        }
        Signal::Appointment => {
            let offer = heard[..i].last().filter(|p| p.speaker == Speaker::Agent);
            let date = heard[i].date.or(offer.and_then(|o| o.date));
            let time = heard[i].time.or(offer.and_then(|o| o.time));
            appointment(date, time, zone, now)
        }
    }
}

fn local_today(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

/// The booked slot placed in the recipient's zone. A time without a day is the next such time;
/// a day without a time cannot be booked by a machine and goes to a person.
fn appointment(
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    zone: Tz,
    now: DateTime<Utc>,
) -> PostCallAnalysis {
    let today = local_today(zone, now);
    let mut a = plain(OutcomeClass::AppointmentBooked, 0.9, "");
    let date = match (date, time) {
        (Some(date), _) => date,
        (None, Some(time)) => {
            a.confidence = 0.55;
            let at_today = resolve_local(zone, today, time);
            if at_today > now {
                today
            } else {
                today + chrono::Duration::days(1)
            }
        }
        (None, None) => today,
    };
    let Some(time) = time else {
        let local = date.format("%A %-d %B").to_string();
        a.confidence = 0.45;
        a.summary = format!("Agreed to an appointment on {local}; no time was settled.");
        a.appointment_local = Some(local);
        return a;
    };
    let at = resolve_local(zone, date, time);
    let local = format!("{} at {}", date.format("%A %-d %B"), time.format("%H:%M"));
    if at <= now {
        a.confidence = 0.4;
    }
    a.summary = format!("Booked an appointment for {local}.");
    a.appointment_at = Some(at);
    a.appointment_local = Some(local);
    a
}

/// The caller's deciding words, for the notes: at most 200 characters.
fn quote(text: &str) -> String {
    let mut clipped: String = text.chars().take(200).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    format!("Caller: \"{clipped}\"")
}

#[cfg(test)]
mod tests;
