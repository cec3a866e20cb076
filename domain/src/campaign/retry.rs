//! What a campaign does with a target after each call attempt: call again later, or stop.
//!
//! The retry time is the earliest moment worth trying again; the campaign workflow still passes
//! it through the recipient's [`CallingWindow`](super::CallingWindow) before dialling, so a
//! retry never lands outside legal hours.

pub use crate::crm::TargetState;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The most attempts a campaign may configure: beyond this, repeated calls are harassment.
pub const MAX_ATTEMPTS_LIMIT: u32 = 10;
/// The longest configurable wait between attempts.
pub const MAX_INTERVAL_MINS: u32 = 7 * 24 * 60;

/// How one call attempt to a target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// A person answered and the call ran its course (whatever they said).
    #[serde(alias = "answered")]
    Completed,
    Busy,
    NoAnswer,
    Failed,
    /// An answering machine took the call.
    Voicemail,
    /// The call was withdrawn before it connected (the campaign was paused or cancelled).
    Canceled,
}

impl AttemptOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::NoAnswer => "no_answer",
            Self::Failed => "failed",
            Self::Voicemail => "voicemail",
            Self::Canceled => "canceled",
        }
    }
}

/// After an attempt: try again at a time, or stop in a final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    RetryAt(DateTime<Utc>),
    Final(TargetState),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {problem}")]
pub struct RetryPolicyError {
    pub field: &'static str,
    pub problem: String,
}

/// A campaign's retry policy. Serde:
/// `{"max_attempts":3,"busy_mins":10,"no_answer_mins":60,"failed_mins":5,"voicemail_mins":null}`
/// — every field optional. `voicemail_mins: null` (the default) makes a machine final: the
/// message was left, and calling again would only leave another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RetryPolicyWire", into = "RetryPolicyWire")]
pub struct RetryPolicy {
    max_attempts: u32,
    busy: Duration,
    no_answer: Duration,
    failed: Duration,
    voicemail: Option<Duration>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RetryPolicyWire {
    max_attempts: u32,
    busy_mins: u32,
    no_answer_mins: u32,
    failed_mins: u32,
    voicemail_mins: Option<u32>,
    /// The same intervals in seconds (at least 10), for campaigns that retry within minutes;
    /// a `*_secs` given replaces its `*_mins`.
    #[serde(skip_serializing_if = "Option::is_none")]
    busy_secs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    no_answer_secs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed_secs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    voicemail_secs: Option<u32>,
}

impl Default for RetryPolicyWire {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            busy_mins: 10,
            no_answer_mins: 60,
            failed_mins: 5,
            voicemail_mins: None,
            busy_secs: None,
            no_answer_secs: None,
            failed_secs: None,
            voicemail_secs: None,
        }
    }
}

fn interval(field: &'static str, mins: u32) -> Result<Duration, RetryPolicyError> {
    if (1..=MAX_INTERVAL_MINS).contains(&mins) {
        return Ok(Duration::minutes(i64::from(mins)));
    }
    let problem = format!("must be 1 to {MAX_INTERVAL_MINS} minutes, not {mins}");
    Err(RetryPolicyError { field, problem })
}

/// An interval given in seconds (`*_secs`) or else minutes.
fn interval_of(
    field: &'static str,
    secs_field: &'static str,
    mins: u32,
    secs: Option<u32>,
) -> Result<Duration, RetryPolicyError> {
    match secs {
        None => interval(field, mins),
        Some(s) if (10..=MAX_INTERVAL_MINS * 60).contains(&s) => {
            Ok(Duration::seconds(i64::from(s)))
        }
        Some(s) => Err(RetryPolicyError {
            field: secs_field,
            problem: format!("must be 10 to {} seconds, not {s}", MAX_INTERVAL_MINS * 60),
        }),
    }
}

impl TryFrom<RetryPolicyWire> for RetryPolicy {
    type Error = RetryPolicyError;

    fn try_from(w: RetryPolicyWire) -> Result<Self, RetryPolicyError> {
        if !(1..=MAX_ATTEMPTS_LIMIT).contains(&w.max_attempts) {
            let problem = format!("must be 1 to {MAX_ATTEMPTS_LIMIT}, not {}", w.max_attempts);
            return Err(RetryPolicyError {
                field: "max_attempts",
                problem,
            });
        }
        Ok(Self {
            max_attempts: w.max_attempts,
            busy: interval_of("busy_mins", "busy_secs", w.busy_mins, w.busy_secs)?,
            no_answer: interval_of(
                "no_answer_mins",
                "no_answer_secs",
                w.no_answer_mins,
                w.no_answer_secs,
            )?,
            failed: interval_of("failed_mins", "failed_secs", w.failed_mins, w.failed_secs)?,
            voicemail: match (w.voicemail_mins, w.voicemail_secs) {
                (None, None) => None,
                (m, s) => Some(interval_of(
                    "voicemail_mins",
                    "voicemail_secs",
                    m.unwrap_or(0),
                    s,
                )?),
            },
        })
    }
}

impl From<RetryPolicy> for RetryPolicyWire {
    fn from(p: RetryPolicy) -> Self {
        let mins = |d: Duration| u32::try_from(d.num_minutes()).unwrap_or(MAX_INTERVAL_MINS);
        // Whole minutes are written as minutes; anything else keeps its seconds.
        let secs = |d: Duration| {
            (d.num_seconds() % 60 != 0).then(|| u32::try_from(d.num_seconds()).unwrap_or(0))
        };
        Self {
            max_attempts: p.max_attempts,
            busy_mins: mins(p.busy).max(1),
            no_answer_mins: mins(p.no_answer).max(1),
            failed_mins: mins(p.failed).max(1),
            voicemail_mins: p.voicemail.map(|d| mins(d).max(1)),
            busy_secs: secs(p.busy),
            no_answer_secs: secs(p.no_answer),
            failed_secs: secs(p.failed),
            voicemail_secs: p.voicemail.and_then(secs),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            busy: Duration::minutes(10),
            no_answer: Duration::minutes(60),
            failed: Duration::minutes(5),
            voicemail: None,
        }
    }
}

impl RetryPolicy {
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The next step after attempt number `attempts_made` (counting this one) ended with
    /// `outcome` at `now`.
    pub fn after_attempt(
        &self,
        outcome: AttemptOutcome,
        attempts_made: u32,
        now: DateTime<Utc>,
    ) -> NextStep {
        let wait = match outcome {
            AttemptOutcome::Completed => return NextStep::Final(TargetState::Completed),
            AttemptOutcome::Canceled => return NextStep::Final(TargetState::Canceled),
            AttemptOutcome::Voicemail => match self.voicemail {
                Some(wait) => wait,
                None => return NextStep::Final(TargetState::Completed),
            },
            AttemptOutcome::Busy => self.busy,
            AttemptOutcome::NoAnswer => self.no_answer,
            AttemptOutcome::Failed => self.failed,
        };
        if attempts_made < self.max_attempts {
            return NextStep::RetryAt(now + wait);
        }
        // A last attempt that failed outright says more than "we ran out of tries".
        match outcome {
            AttemptOutcome::Failed => NextStep::Final(TargetState::Failed),
            _ => NextStep::Final(TargetState::Exhausted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 10, 15, 0, 0)
            .single()
            .expect("a valid time")
    }

    #[test]
    fn busy_no_answer_and_failed_retry_after_their_default_intervals() {
        let p = RetryPolicy::default();
        let at = |mins| NextStep::RetryAt(now() + Duration::minutes(mins));
        assert_eq!(p.after_attempt(AttemptOutcome::Busy, 1, now()), at(10));
        assert_eq!(p.after_attempt(AttemptOutcome::NoAnswer, 2, now()), at(60));
        assert_eq!(p.after_attempt(AttemptOutcome::Failed, 1, now()), at(5));
    }

    #[test]
    fn the_last_allowed_attempt_ends_the_target_exhausted_or_failed() {
        let p = RetryPolicy::default();
        for outcome in [AttemptOutcome::Busy, AttemptOutcome::NoAnswer] {
            assert_eq!(
                p.after_attempt(outcome, 3, now()),
                NextStep::Final(TargetState::Exhausted)
            );
        }
        assert_eq!(
            p.after_attempt(AttemptOutcome::Failed, 3, now()),
            NextStep::Final(TargetState::Failed)
        );
    }

    #[test]
    fn answered_and_canceled_calls_are_final_at_once() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.after_attempt(AttemptOutcome::Completed, 1, now()),
            NextStep::Final(TargetState::Completed)
        );
        assert_eq!(
            p.after_attempt(AttemptOutcome::Canceled, 1, now()),
            NextStep::Final(TargetState::Canceled)
        );
        let answered: AttemptOutcome = serde_json::from_value(json!("answered")).expect("alias");
        assert_eq!(answered, AttemptOutcome::Completed);
    }

    #[test]
    fn voicemail_is_final_by_default_and_retried_when_configured() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.after_attempt(AttemptOutcome::Voicemail, 1, now()),
            NextStep::Final(TargetState::Completed)
        );
        let p: RetryPolicy =
            serde_json::from_value(json!({"voicemail_mins": 240, "max_attempts": 2}))
                .expect("valid");
        assert_eq!(
            p.after_attempt(AttemptOutcome::Voicemail, 1, now()),
            NextStep::RetryAt(now() + Duration::hours(4))
        );
        assert_eq!(
            p.after_attempt(AttemptOutcome::Voicemail, 2, now()),
            NextStep::Final(TargetState::Exhausted)
        );
    }

    #[test]
    fn a_policy_outside_the_limits_is_refused_naming_the_field() {
        for (value, field) in [
            (json!({"max_attempts": 11}), "max_attempts"),
            (json!({"max_attempts": 0}), "max_attempts"),
            (json!({"busy_mins": 0}), "busy_mins"),
            (json!({"voicemail_mins": 20000}), "voicemail_mins"),
        ] {
            let err = serde_json::from_value::<RetryPolicy>(value).expect_err("invalid");
            assert!(err.to_string().contains(field), "{err}");
        }
        let default: RetryPolicy = serde_json::from_value(json!({})).expect("all defaults");
        assert_eq!(default, RetryPolicy::default());
    }

    #[test]
    fn states_and_outcomes_serialise_as_their_snake_case_names() {
        for &state in TargetState::ALL {
            let json = serde_json::to_value(state).expect("serialises");
            assert_eq!(json, json!(state.as_str()));
            assert_eq!(TargetState::parse(state.as_str()), Some(state));
        }
        let json = serde_json::to_value(AttemptOutcome::NoAnswer).expect("serialises");
        assert_eq!(json, json!("no_answer"));
        assert!(TargetState::Exhausted.is_final() && !TargetState::Scheduled.is_final());
    }
}
