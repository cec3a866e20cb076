//! What the policy knows at a point of the call, rebuilt from the history on every reply: the
//! message being taken, the one already saved, and what the agent is waiting for.

use crate::draft::{Draft, Slot};

/// What the agent is waiting for.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Pending {
    #[default]
    Nothing,
    /// A slot of the draft.
    Slot(Slot),
    /// Yes/no on the read-back of the saved message.
    Confirm,
    /// Yes/no on "shall I try saving it again?".
    RetrySave,
    /// Which part of the draft to change.
    Change,
    /// Yes/no on "would you like to leave a message (for X)?".
    OfferMessage(Option<String>),
    /// Yes/no on "is the number you're calling from, ending 0199, the best one?".
    OfferCallerId,
    /// The caller is keying in the callback number; the digits so far are in `State::keyed`.
    KeyingNumber,
    /// After "anything else?": a no ends the call.
    AnythingElse,
    /// Who to transfer to.
    TransferTarget,
    /// Nobody by the name the caller gave: another name, or a message (a yes), or a no.
    TargetOrMessage(Option<String>),
    /// `end_call` ran.
    Ended,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    pub(crate) draft: Option<Draft>,
    /// The draft's message as `take_message` saved it, while the caller may still correct it.
    pub(crate) saved: Option<Saved>,
    pub(crate) pending: Pending,
    /// The caller ID (E.164), when the call has one.
    pub(crate) caller_number: Option<String>,
    /// The caller withheld their number: never offer the caller-ID shortcut.
    pub(crate) caller_withheld: bool,
    /// The caller-ID offer was made once this call.
    pub(crate) caller_id_offered: bool,
    /// Keys pressed for the callback number so far.
    pub(crate) keyed: String,
}

/// A message `take_message` saved: its id (for `replaces`) and what it said.
#[derive(Debug, Clone)]
pub(crate) struct Saved {
    pub(crate) message_id: String,
    pub(crate) draft: Draft,
}

impl State {
    /// The message is settled (confirmed, cancelled or sent): forget the draft.
    pub(crate) fn close_draft(&mut self) {
        self.draft = None;
        self.saved = None;
    }
}
