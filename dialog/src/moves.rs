//! The moves more than one state makes: carrying on with the message (ask for the next detail,
//! or save it), starting one, confirming it, transferring and ending the call.

use crate::action::{Action, prefixed, say};
use crate::draft::{Draft, Slot};
use crate::fill::fill_from;
use crate::phone::national_digits;
use crate::phrases::{ANYTHING_ELSE, KEYPAD_HINT};
use crate::speak::speak_digits;
use crate::state::{Pending, State};
use crate::utterance::Utterance;
use domain::conversation::ToolName;
use serde_json::json;

pub(crate) fn end_call(state: &mut State) -> Action {
    state.pending = Pending::Nothing;
    Action::Call(ToolName::EndCall, json!({ "reason": "caller is done" }))
}

pub(crate) fn transfer(state: &mut State, target: String) -> Action {
    state.pending = Pending::Nothing;
    Action::Call(ToolName::TransferCall, json!({ "target": target }))
}

/// The caller confirmed the read-back.
pub(crate) fn confirmed(state: &mut State, draft: &Draft) -> Action {
    state.close_draft();
    state.pending = Pending::AnythingElse;
    say(match &draft.for_whom {
        Some(f) => format!("Great, I'll make sure {f} gets it. {ANYTHING_ELSE}"),
        None => format!("Great, I'll make sure it gets to them. {ANYTHING_ELSE}"),
    })
}

/// Asks for the next missing detail; once all are there, saves the message with
/// `take_message` (a correction replaces the one already saved), or, when the saved one is
/// unchanged, asks again whether it is right.
pub(crate) fn resume_draft(state: &mut State, draft: Draft) -> Action {
    if let Some(slot) = draft.missing() {
        state.draft = Some(draft);
        return ask_for(state, slot);
    }
    let saved_id = match &state.saved {
        Some(saved) if saved.draft == draft => {
            state.draft = Some(draft);
            state.pending = Pending::Confirm;
            return say("Is everything in your message correct?");
        }
        Some(saved) => Some(saved.message_id.clone()),
        None => None,
    };
    let mut args = draft.tool_arguments();
    if let Some(id) = saved_id {
        args["replaces"] = json!(id);
    }
    state.draft = Some(draft);
    state.pending = Pending::Nothing;
    Action::Call(ToolName::TakeMessage, args)
}

/// Asks for `slot`; for the callback number, the caller ID is offered first (once a call).
fn ask_for(state: &mut State, slot: Slot) -> Action {
    if slot == Slot::Number
        && !state.caller_id_offered
        && let Some(number) = &state.caller_number
    {
        state.caller_id_offered = true;
        state.pending = Pending::OfferCallerId;
        let digits = national_digits(number);
        let last_four = &digits[digits.len().saturating_sub(4)..];
        return say(format!(
            "Is the number you're calling from, ending {}, the best one to reach you?",
            speak_digits(last_four)
        ));
    }
    state.pending = Pending::Slot(slot);
    if slot == Slot::Number && state.caller_withheld {
        return say(format!("{} {KEYPAD_HINT}", slot.prompt()));
    }
    say(slot.prompt())
}

pub(crate) fn start_message(state: &mut State, mut draft: Draft, u: &Utterance) -> Action {
    fill_from(&mut draft, u, None);
    let opening = match &draft.for_whom {
        Some(f) => format!("Sure, I can take a message for {f}."),
        None => "Sure, I can take a message.".to_owned(),
    };
    let next = resume_draft(state, draft);
    prefixed(opening, next)
}
