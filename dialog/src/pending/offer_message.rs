//! [`Pending::OfferMessage`]: "would you like to leave a message (for X)?", after a question the
//! knowledge base could not answer or a transfer that could not be made.

use crate::action::{Action, say};
use crate::draft::Draft;
use crate::lexicon::WEAK_GOODBYES;
use crate::moves::start_message;
use crate::phrases::ANYTHING_ELSE;
use crate::state::{Pending, State};
use crate::utterance::Utterance;

pub(super) fn answer(state: &mut State, for_whom: Option<String>, u: &Utterance) -> Option<Action> {
    let yes_no = u.yes_no();
    if u.has_message_intent() || yes_no == Some(true) {
        let draft = Draft {
            for_whom,
            ..Draft::default()
        };
        return Some(start_message(state, draft, u));
    }
    if (yes_no == Some(false) || u.has_any(WEAK_GOODBYES)) && !u.has_other_intent() {
        state.pending = Pending::AnythingElse;
        return Some(say(format!("All right. {ANYTHING_ELSE}")));
    }
    None
}
