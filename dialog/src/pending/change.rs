//! [`Pending::Change`]: the caller said the read-back is wrong and is asked which part to change. A
//! correction in the answer is taken at once; a part named is asked for again.

use crate::action::{Action, say};
use crate::draft::{Draft, Slot};
use crate::fill::corrected_draft;
use crate::moves::resume_draft;
use crate::state::{Pending, State};
use crate::utterance::Utterance;

pub(super) fn answer(state: &mut State, u: &Utterance) -> Option<Action> {
    let mut draft = state.draft.clone().unwrap_or_default();
    if let Some(corrected) = corrected_draft(&draft, u) {
        return Some(resume_draft(state, corrected));
    }
    if let Some(field) = named_part(u) {
        forget(&mut draft, field);
        state.draft = Some(draft);
        state.pending = Pending::Slot(field);
        return Some(say(format!("Sure. {}", field.prompt())));
    }
    if u.yes_no() == Some(true) || u.has_any(&["nothing", "it's fine", "that's fine"]) {
        return Some(resume_draft(state, draft));
    }
    Some(say(
        "Sorry, which part should I change: who it's for, your name, the number, or the \
         message?",
    ))
}

/// The part of the message the caller wants to change.
fn named_part(u: &Utterance) -> Option<Slot> {
    if u.has_any(&["name"]) {
        Some(Slot::Name)
    } else if u.has_any(&["number", "phone"]) {
        Some(Slot::Number)
    } else if u.has_any(&["message", "text", "wording"]) {
        Some(Slot::Message)
    } else if u.has_any(&["who", "for", "recipient", "person", "team", "department"]) {
        Some(Slot::ForWhom)
    } else {
        None
    }
}

fn forget(draft: &mut Draft, field: Slot) {
    match field {
        Slot::Name => draft.caller_name = None,
        Slot::Number => {
            draft.callback_number = None;
            draft.number_declined = false;
        }
        Slot::Message => draft.message = None,
        Slot::ForWhom => draft.for_whom = None,
    }
}
