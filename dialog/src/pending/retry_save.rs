//! [`Pending::RetrySave`]: saving the message failed; "shall I try again?".

use crate::action::{Action, say};
use crate::moves::resume_draft;
use crate::phrases::ANYTHING_ELSE;
use crate::state::{Pending, State};
use crate::utterance::Utterance;

pub(super) fn answer(state: &mut State, u: &Utterance) -> Option<Action> {
    match u.yes_no()? {
        true => {
            let draft = state.draft.clone().unwrap_or_default();
            Some(resume_draft(state, draft))
        }
        false => {
            state.close_draft();
            state.pending = Pending::AnythingElse;
            Some(say(format!("I'm sorry about that. {ANYTHING_ELSE}")))
        }
    }
}
