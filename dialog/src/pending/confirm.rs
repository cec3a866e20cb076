//! [`Pending::Confirm`]: the saved message was read back ("Is that correct?"). A correction saves
//! it again; yes settles it; no asks what to change.

use crate::action::{Action, say};
use crate::fill::corrected_draft;
use crate::moves::{confirmed, resume_draft};
use crate::state::{Pending, State};
use crate::utterance::Utterance;

pub(super) fn answer(state: &mut State, u: &Utterance) -> Option<Action> {
    let draft = state.draft.clone().unwrap_or_default();
    if let Some(corrected) = corrected_draft(&draft, u) {
        return Some(resume_draft(state, corrected));
    }
    match u.yes_no() {
        Some(true) => Some(confirmed(state, &draft)),
        Some(false) => {
            state.pending = Pending::Change;
            Some(say(
                "No problem. What would you like to change: who it's for, your name, the \
                 number, or the message?",
            ))
        }
        None => None,
    }
}
