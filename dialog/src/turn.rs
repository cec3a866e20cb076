//! A caller turn: first what any turn may do (not heard, "say that again", keys, goodbye,
//! cancelling the message), then the answer to what the agent is waiting for, and when the
//! turn is not that, what the caller wants.

use crate::action::{Action, say};
use crate::draft::Slot;
use crate::hints::AgentHints;
use crate::keypad::{dtmf_keys, step_keys};
use crate::lexicon::{CANCEL, GREETINGS, STRONG_GOODBYES, WEAK_GOODBYES};
use crate::moves::{end_call, resume_draft, start_message, transfer};
use crate::pending;
use crate::phrases::{ANYTHING_ELSE, CAPABILITIES, HOW_CAN_I_HELP};
use crate::state::{Pending, State};
use crate::utterance::Utterance;
use domain::conversation::ToolName;
use serde_json::json;

pub(crate) fn step_user(agent: &AgentHints, state: &mut State, text: &str) -> Action {
    let text = text.trim();
    let u = Utterance::new(text);
    if let Some(action) = any_time(agent, state, text, &u) {
        return action;
    }
    if let Some(action) = pending::answer(state, &u) {
        return action;
    }
    // No context claimed the turn: what does the caller want?
    if let Some(action) = request(state, text, &u) {
        return action;
    }
    small_talk(agent, state, &u)
}

/// What a turn does whatever the agent asked.
fn any_time(agent: &AgentHints, state: &mut State, text: &str, u: &Utterance) -> Option<Action> {
    if u.tokens.is_empty() && !text.starts_with('[') {
        return Some(say(format!("Sorry, I didn't catch that. {HOW_CAN_I_HELP}")));
    }
    if u.is_repeat_request() {
        return Some(Action::Repeat);
    }
    if let Some(keys) = dtmf_keys(text) {
        return Some(step_keys(agent, state, &keys));
    }
    if state.pending == Pending::KeyingNumber {
        // Speaking instead of keying: the number is asked for again, by voice.
        state.keyed.clear();
        state.pending = Pending::Slot(Slot::Number);
    }
    if state.pending == Pending::Ended || u.has_any(STRONG_GOODBYES) {
        return Some(end_call(state));
    }
    if state.draft.is_some() && u.has_any(CANCEL) {
        return Some(cancel_message(state));
    }
    None
}

fn cancel_message(state: &mut State) -> Action {
    let already_saved = state.saved.is_some();
    state.close_draft();
    state.pending = Pending::AnythingElse;
    say(if already_saved {
        format!("All right. It's already been passed on, so I'll leave it there. {ANYTHING_ELSE}")
    } else {
        format!("No problem, I won't send it. {ANYTHING_ELSE}")
    })
}

/// Something to do: end the call, take a message, transfer, or look up a question.
fn request(state: &mut State, text: &str, u: &Utterance) -> Option<Action> {
    if u.has_any(WEAK_GOODBYES) {
        return Some(end_call(state));
    }
    if u.has_message_intent() {
        let draft = state.draft.clone().unwrap_or_default();
        return Some(start_message(state, draft, u));
    }
    if let Some(target) = u.transfer_target() {
        return Some(if target.is_empty() {
            state.pending = Pending::TransferTarget;
            say("Of course. Who would you like to speak to?")
        } else {
            transfer(state, target)
        });
    }
    if u.is_question() {
        return Some(Action::Call(
            ToolName::LookupKnowledge,
            json!({ "query": text }),
        ));
    }
    None
}

/// Pleasantries, a bare yes or no, and anything else: back to the message if one is being
/// taken, else what the agent can do.
fn small_talk(agent: &AgentHints, state: &mut State, u: &Utterance) -> Action {
    if u.has_any(&["how are you", "how's it going", "how are you doing"]) {
        return say(format!("I'm doing well, thank you! {HOW_CAN_I_HELP}"));
    }
    if u.has_any(&["thanks", "thank you", "cheers"]) {
        state.pending = Pending::AnythingElse;
        return say(format!("You're welcome! {ANYTHING_ELSE}"));
    }
    if u.has_any(GREETINGS) {
        return say(match &agent.greeting {
            Some(g) => g.clone(),
            None => format!("Hello! {HOW_CAN_I_HELP} {CAPABILITIES}"),
        });
    }
    match u.yes_no() {
        Some(true) => return say(format!("Great. {HOW_CAN_I_HELP}")),
        Some(false) => {
            state.pending = Pending::AnythingElse;
            return say(format!("All right. {ANYTHING_ELSE}"));
        }
        None => {}
    }
    if let Some(draft) = state.draft.clone() {
        return resume_draft(state, draft);
    }
    say(format!(
        "I'm sorry, I didn't quite get that. {CAPABILITIES} What would you like to do?"
    ))
}
