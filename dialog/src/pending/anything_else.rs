//! [`Pending::AnythingElse`]: "is there anything else I can help with?". A bare no ends the call.

use crate::action::{Action, say};
use crate::moves::end_call;
use crate::state::{Pending, State};
use crate::utterance::Utterance;

pub(super) fn answer(state: &mut State, u: &Utterance) -> Option<Action> {
    let yes_no = u.yes_no();
    if yes_no == Some(false) && !u.has_other_intent() {
        return Some(end_call(state));
    }
    if yes_no == Some(true) && u.tokens.len() <= 2 {
        state.pending = Pending::Nothing;
        return Some(say("Sure, what can I help you with?"));
    }
    None
}
