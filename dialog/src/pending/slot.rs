//! [`Pending::Slot`](crate::state::Pending::Slot): a detail of the message was asked for. An answer
//! that fits fills it and the message carries on; one that does not is asked again, unless it is a
//! question of its own.

use crate::action::{Action, say};
use crate::draft::Slot;
use crate::fill::fill_slot;
use crate::moves::resume_draft;
use crate::state::State;
use crate::utterance::Utterance;

pub(super) fn answer(state: &mut State, slot: Slot, u: &Utterance) -> Option<Action> {
    let mut draft = state.draft.clone().unwrap_or_default();
    match fill_slot(&mut draft, slot, u) {
        None => Some(resume_draft(state, draft)),
        // Not an answer but a question of its own: answer it, then carry on.
        Some(_) if u.is_question() => None,
        Some(reply) => {
            state.draft = Some(draft);
            Some(say(reply))
        }
    }
}
