//! [`Pending::OfferCallerId`]: "is the number you're calling from the best one?" — and "this
//! number" said when the callback number is asked for.

use crate::action::{Action, say};
use crate::draft::Slot;
use crate::fill::fill_from;
use crate::lexicon::SAME_NUMBER;
use crate::moves::resume_draft;
use crate::state::{Pending, State};
use crate::utterance::Utterance;

pub(super) fn answer_offer(state: &mut State, u: &Utterance) -> Option<Action> {
    let yes_no = u.yes_no();
    if u.phone_number().is_some() {
        let mut draft = state.draft.clone().unwrap_or_default();
        fill_from(&mut draft, u, None);
        return Some(resume_draft(state, draft));
    }
    if yes_no == Some(true) || (yes_no.is_none() && u.has_any(SAME_NUMBER)) {
        return Some(use_caller_number(state));
    }
    if yes_no == Some(false) {
        state.draft = Some(state.draft.clone().unwrap_or_default());
        state.pending = Pending::Slot(Slot::Number);
        return Some(say(format!("No problem. {}", Slot::Number.prompt())));
    }
    None
}

/// Asked for a callback number, the caller means the one they are calling from.
pub(super) fn means_this_number(state: &State, u: &Utterance) -> bool {
    state.caller_number.is_some() && u.phone_number().is_none() && u.has_any(SAME_NUMBER)
}

pub(super) fn use_caller_number(state: &mut State) -> Action {
    let mut draft = state.draft.clone().unwrap_or_default();
    draft.callback_number = state.caller_number.clone();
    draft.number_declined = false;
    resume_draft(state, draft)
}
