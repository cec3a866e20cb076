//! The moves of a campaign call that several turns and tool results make: offer a slot, ask for
//! a day and time, book, ask for a call back, and close the call.

use super::script::{CampaignScript, LocalDateTime};
use super::state::{CampaignState, Closing, Step};
use crate::action::{Action, say};
use crate::when::{SpokenWhen, speak_date, speak_date_time, speak_time};
use chrono::NaiveDateTime;
use domain::campaign::analysis::OutcomeClass;
use domain::conversation::ToolName;
use serde_json::json;

/// `end_call` with its reason; `text` is said once its result is back.
pub(crate) fn close(state: &mut CampaignState, reason: OutcomeClass, text: String) -> Action {
    state.step = Step::Ended;
    state.closing = Some(Closing { reason, text });
    Action::Call(ToolName::EndCall, json!({ "reason": reason.as_str() }))
}

/// The person is confirmed: why we call, then the first slot (or a question for a time).
pub(crate) fn state_the_goal(script: &CampaignScript, state: &mut CampaignState) -> Action {
    let goal = script.goal_line();
    let next = offer_next(script, state);
    match next {
        Action::Say(question) if goal.is_empty() => say(format!("Great, thank you. {question}")),
        Action::Say(question) => say(format!("Great, thank you. {goal} {question}")),
        other => other,
    }
}

/// The next script slot not yet offered and still ahead, else a question for a day and time.
pub(crate) fn offer_next(script: &CampaignScript, state: &mut CampaignState) -> Action {
    let now = script.now_local.0;
    let next = script
        .offer_slots
        .iter()
        .map(|s| s.0)
        .find(|s| *s > now && !state.offered.contains(s));
    match next {
        Some(slot) => {
            state.offered.push(slot);
            state.step = Step::Offered(slot);
            say(prompt(script, state.step))
        }
        None => ask_when(state, SpokenWhen::default()),
    }
}

/// Asks for what is still missing of a day and time.
pub(crate) fn ask_when(state: &mut CampaignState, partial: SpokenWhen) -> Action {
    state.step = Step::AskWhen(partial);
    say(when_question(partial))
}

fn when_question(partial: SpokenWhen) -> String {
    match (partial.date, partial.time, partial.part) {
        (Some(date), None, Some(part)) => {
            format!(
                "What time in the {} on {} works for you?",
                part.as_str(),
                speak_date(date)
            )
        }
        (Some(date), None, None) => format!("What time on {} works for you?", speak_date(date)),
        (None, Some(time), _) => format!("Which day would you like, at {}?", speak_time(time)),
        (None, None, Some(part)) => {
            format!("Which day, and what time in the {}?", part.as_str())
        }
        _ => "What day and time would suit you?".to_owned(),
    }
}

/// `book_appointment` at `at`, unless it is already past.
pub(crate) fn book(
    script: &CampaignScript,
    state: &mut CampaignState,
    at: NaiveDateTime,
    said: &str,
) -> Action {
    if at <= script.now_local.0 {
        let ask = ask_when(state, SpokenWhen::default());
        return crate::action::prefixed("I'm afraid that time has already passed.", ask);
    }
    if !state.offered.contains(&at) {
        state.offered.push(at);
    }
    state.step = Step::Offered(at);
    let goal = script.goal_line();
    Action::Call(
        ToolName::BookAppointment,
        json!({
            "starts_at_local": LocalDateTime(at).to_string(),
            "time_zone": script.recipient.time_zone,
            "notes": format!("Booked on a campaign call. {goal} They said: \"{said}\"").trim(),
        }),
    )
}

/// `request_callback`, with when they asked for, when they said.
pub(crate) fn request_callback(script: &CampaignScript, said: &str) -> Action {
    let now = script.now_local.0;
    let when = SpokenWhen::parse(said, now.date(), None).and_then(|w| when_local(w, now));
    let mut args = json!({ "notes": format!("Asked to be called back: \"{said}\"") });
    if let Some(when) = when {
        args["when_local"] = json!(when);
    }
    Action::Call(ToolName::RequestCallback, args)
}

/// `2026-12-06T09:00`, or `2026-12-06` for a day with no time; a time alone is its next
/// occurrence.
fn when_local(when: SpokenWhen, now: NaiveDateTime) -> Option<String> {
    match (when.date, when.time) {
        (Some(date), Some(time)) => Some(LocalDateTime(date.and_time(time)).to_string()),
        (Some(date), None) => Some(date.format("%Y-%m-%d").to_string()),
        (None, Some(time)) => {
            let today = now.date().and_time(time);
            let at = if today > now {
                today
            } else {
                today + chrono::Days::new(1)
            };
            Some(LocalDateTime(at).to_string())
        }
        (None, None) => None,
    }
}

/// How `when_local` reads out: "on Sunday December 6th at 9 am", "another time".
pub(crate) fn speak_when_local(when: Option<&str>) -> String {
    let Some(when) = when else {
        return "another time".into();
    };
    if let Ok(at) = LocalDateTime::parse(when) {
        return format!("on {}", speak_date_time(at.0));
    }
    match chrono::NaiveDate::parse_from_str(when, "%Y-%m-%d") {
        Ok(date) => format!("on {}", speak_date(date)),
        Err(_) => "another time".into(),
    }
}

/// The question the agent is waiting on an answer to, asked again.
pub(crate) fn prompt(script: &CampaignScript, step: Step) -> String {
    match step {
        Step::Identity => script.identity_question(),
        Step::Offered(slot) => format!("Would {} work for you?", speak_date_time(slot)),
        Step::AskWhen(partial) => when_question(partial),
        Step::OfferCallback => CALL_BACK_OFFER.to_owned(),
        Step::Ended => "Thank you, goodbye!".to_owned(),
    }
}

pub(crate) const CALL_BACK_OFFER: &str = "Would it be better if we called you back another time?";
