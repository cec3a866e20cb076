//! [`Pending::TransferTarget`](crate::state::Pending::TransferTarget): "who would you like to speak
//! to?". The answer is the target, unless it is a yes, a no, a question or a message.

use crate::action::Action;
use crate::moves::transfer;
use crate::state::State;
use crate::utterance::{Utterance, clean_target};

pub(super) fn answer(state: &mut State, u: &Utterance) -> Option<Action> {
    if u.has_message_intent() || u.yes_no().is_some() || u.is_question() {
        return None;
    }
    let target = clean_target(&u.words_from(0));
    (!target.is_empty()).then(|| transfer(state, target))
}
