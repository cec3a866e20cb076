//! A caller turn read as the answer to what the agent is waiting for ([`Pending`]): one handler
//! per state. `None` means the turn is not such an answer, and is read on its own.

mod anything_else;
mod caller_id;
mod change;
mod confirm;
mod offer_message;
mod retry_save;
mod slot;
mod transfer_target;

use crate::action::Action;
use crate::draft::Slot;
use crate::state::{Pending, State};
use crate::utterance::Utterance;

pub(crate) fn answer(state: &mut State, u: &Utterance) -> Option<Action> {
    match state.pending.clone() {
        Pending::Confirm => confirm::answer(state, u),
        Pending::Change => change::answer(state, u),
        Pending::OfferCallerId => caller_id::answer_offer(state, u),
        Pending::Slot(Slot::Number) if caller_id::means_this_number(state, u) => {
            Some(caller_id::use_caller_number(state))
        }
        Pending::Slot(slot) => slot::answer(state, slot, u),
        Pending::RetrySave => retry_save::answer(state, u),
        Pending::OfferMessage(for_whom) => offer_message::answer(state, for_whom, u),
        Pending::AnythingElse => anything_else::answer(state, u),
        Pending::TransferTarget => transfer_target::answer(state, u),
        Pending::TargetOrMessage(target) => {
            offer_message::answer(state, target, u).or_else(|| transfer_target::answer(state, u))
        }
        Pending::KeyingNumber | Pending::Nothing | Pending::Ended => None,
    }
}
