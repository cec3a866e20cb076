//! A turn of the person called: first what any turn may do (no more calls — above all else —,
//! "say that again", not heard), then what ends the call (wrong number, no interest, a call
//! back), then the answer to what the agent asked, then a question of their own.

use super::intents::{
    is_not_available, is_not_interested, is_wrong_number, wants_call_back, wants_no_more_calls,
};
use super::moves::{
    CALL_BACK_OFFER, ask_when, book, close, offer_next, prompt, request_callback, state_the_goal,
};
use super::script::CampaignScript;
use super::state::{CampaignState, Step};
use crate::action::{Action, prefixed, say};
use crate::lexicon::{GREETINGS, STRONG_GOODBYES, WEAK_GOODBYES};
use crate::utterance::Utterance;
use crate::when::SpokenWhen;
use domain::campaign::analysis::OutcomeClass;
use domain::conversation::ToolName;
use serde_json::json;

/// "Yes" to "would that time work?" in other words.
const AGREE: &[&str] = &[
    "that works",
    "works for me",
    "that's fine",
    "fine",
    "that's good",
    "good",
    "great",
    "book it",
    "let's do it",
    "let's do that",
    "sounds great",
    "that'd be great",
    "that would be great",
];
/// "No" to an offered time, asking for another.
const DECLINE: &[&str] = &[
    "doesn't work",
    "does not work",
    "won't work",
    "can't make",
    "cannot make",
    "can't do",
    "not good",
    "no good",
    "another day",
    "different day",
    "different time",
    "another time",
    "other times",
    "anything later",
    "something later",
    "anything earlier",
    "something earlier",
];
/// "Yes, it's me" to "am I speaking with Jordan?".
const IT_IS_ME: &[&str] = &[
    "speaking",
    "that's me",
    "that is me",
    "it's me",
    "this is he",
    "this is she",
    "yes it is",
    "you got him",
    "you got her",
    "you've got him",
    "you've got her",
];
const WHO_IS_THIS: &[&str] = &[
    "who is this",
    "who's this",
    "who is calling",
    "who's calling",
    "what is this about",
    "what's this about",
    "what is this regarding",
    "what's this regarding",
    "what is it about",
    "what's it about",
];

pub(crate) fn step_user(script: &CampaignScript, state: &mut CampaignState, text: &str) -> Action {
    let text = text.trim();
    let u = Utterance::new(text);
    if wants_no_more_calls(&u) {
        return Action::Call(ToolName::DoNotCall, json!({ "reason": text }));
    }
    if state.step == Step::Ended {
        return close_again(state);
    }
    if u.is_repeat_request() {
        return Action::Repeat;
    }
    let heard = !u.tokens.is_empty() && !text.starts_with('[');
    match heard.then(|| understood(script, state, &u, text)).flatten() {
        Some(action) => {
            state.misheard = 0;
            action
        }
        None => misheard(script, state),
    }
}

/// A turn after the call was closed: `end_call` again, with the same closing words.
fn close_again(state: &mut CampaignState) -> Action {
    let (reason, text) = match state.closing.take() {
        Some(closing) => (closing.reason, closing.text),
        None => (
            OutcomeClass::CompletedOther,
            "Thank you, goodbye!".to_owned(),
        ),
    };
    close(state, reason, text)
}

fn understood(
    script: &CampaignScript,
    state: &mut CampaignState,
    u: &Utterance,
    text: &str,
) -> Option<Action> {
    if is_wrong_number(u) || (state.step == Step::Identity && is_a_plain_no(u)) {
        let text = "I'm so sorry to have bothered you. Have a good day, goodbye!".to_owned();
        return Some(close(state, OutcomeClass::WrongNumber, text));
    }
    if is_not_interested(u) {
        let text = "No problem at all, thank you for your time. Goodbye!".to_owned();
        return Some(close(state, OutcomeClass::NotInterested, text));
    }
    if wants_call_back(u) || (state.step == Step::Identity && is_not_available(u)) {
        return Some(request_callback(script, text));
    }
    answer(script, state, u, text).or_else(|| own_turn(script, state, u, text))
}

fn is_a_plain_no(u: &Utterance) -> bool {
    u.yes_no() == Some(false) && !u.has_any(IT_IS_ME)
}

/// The turn as the answer to what the agent asked.
fn answer(
    script: &CampaignScript,
    state: &mut CampaignState,
    u: &Utterance,
    text: &str,
) -> Option<Action> {
    match state.step {
        Step::Identity => is_the_person(script, u).then(|| state_the_goal(script, state)),
        Step::Offered(slot) => answer_offer(script, state, slot, u, text),
        Step::AskWhen(partial) => {
            let today = script.now_local.0.date();
            let when = SpokenWhen::parse(text, today, partial.part)?;
            Some(proposed(script, state, partial.then(when), text))
        }
        Step::OfferCallback => match u.yes_no() {
            Some(true) => Some(request_callback(script, text)),
            Some(false) => Some(prefixed("All right.", ask_when(state, Default::default()))),
            None => None,
        },
        Step::Ended => None,
    }
}

fn is_the_person(script: &CampaignScript, u: &Utterance) -> bool {
    let first_name = script
        .recipient
        .name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    u.yes_no() == Some(true)
        || u.has_any(IT_IS_ME)
        || (!first_name.is_empty() && u.tokens.iter().any(|t| t.low == first_name))
}

/// An answer to "would Tuesday at 10 work?": another time, a no, or a yes.
fn answer_offer(
    script: &CampaignScript,
    state: &mut CampaignState,
    slot: chrono::NaiveDateTime,
    u: &Utterance,
    text: &str,
) -> Option<Action> {
    let today = script.now_local.0.date();
    if let Some(when) = SpokenWhen::parse(text, today, None) {
        // "Tuesday is fine" agrees to the slot; "3 instead" is 3 on the slot's day.
        if when.time.is_none() && when.date == Some(slot.date()) {
            return Some(book(script, state, slot, text));
        }
        let on_the_day = SpokenWhen {
            date: Some(slot.date()).filter(|_| when.date.is_none()),
            ..SpokenWhen::default()
        };
        return Some(proposed(script, state, on_the_day.then(when), text));
    }
    if u.has_any(DECLINE) || u.yes_no() == Some(false) {
        return Some(prefixed("No problem.", offer_next(script, state)));
    }
    if u.yes_no() == Some(true) || u.has_any(AGREE) {
        return Some(book(script, state, slot, text));
    }
    None
}

/// A day and time the person proposed: booked when complete, else the rest is asked for.
fn proposed(
    script: &CampaignScript,
    state: &mut CampaignState,
    when: SpokenWhen,
    text: &str,
) -> Action {
    match when.at() {
        Some(at) => book(script, state, at, text),
        None => ask_when(state, when),
    }
}

/// What the person says that is not an answer: who is calling, a question, a greeting, a
/// goodbye.
fn own_turn(
    script: &CampaignScript,
    state: &mut CampaignState,
    u: &Utterance,
    text: &str,
) -> Option<Action> {
    if u.has_any(WHO_IS_THIS) {
        let opening = script.fill(&script.opening);
        return Some(say(format!("{opening} {}", prompt(script, state.step))));
    }
    if u.is_question() {
        return Some(Action::Call(
            ToolName::LookupKnowledge,
            json!({ "query": text }),
        ));
    }
    if u.has_any(STRONG_GOODBYES) || u.has_any(WEAK_GOODBYES) {
        let text = "Thank you for your time. Goodbye!".to_owned();
        return Some(close(state, OutcomeClass::CompletedOther, text));
    }
    if u.has_any(GREETINGS) {
        return Some(say(match state.step {
            Step::Identity => script.opening_line(),
            step => format!("Hi! {}", prompt(script, step)),
        }));
    }
    None
}

/// Not heard or not understood: asked again once, then a call back is offered, and a third
/// time the agent lets them go.
fn misheard(script: &CampaignScript, state: &mut CampaignState) -> Action {
    state.misheard += 1;
    if state.step == Step::OfferCallback {
        let text = "I'll let you go for now. Thank you, goodbye!".to_owned();
        return close(state, OutcomeClass::CompletedOther, text);
    }
    if state.misheard >= 2 {
        state.step = Step::OfferCallback;
        return say(format!(
            "I'm sorry, I'm having trouble hearing you. {CALL_BACK_OFFER}"
        ));
    }
    say(format!(
        "Sorry, I didn't catch that. {}",
        prompt(script, state.step)
    ))
}
