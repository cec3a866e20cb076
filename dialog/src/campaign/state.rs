//! What the campaign policy knows at a point of the call, rebuilt from the history on every
//! reply: the step the call is at, the slots offered, turns not understood, and the words to
//! close with once `end_call` has run.

use crate::when::SpokenWhen;
use chrono::NaiveDateTime;
use domain::campaign::analysis::OutcomeClass;

/// What the agent is waiting for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) enum Step {
    /// "Am I speaking with Jordan?"
    #[default]
    Identity,
    /// "Would Tuesday December 8th at 10 am work for you?"
    Offered(NaiveDateTime),
    /// A day and time was asked for; what the person has said of it so far.
    AskWhen(SpokenWhen),
    /// After two turns not understood: "shall we call you back another time?"
    OfferCallback,
    /// `end_call` was asked for: only the closing words are left.
    Ended,
}

/// Said after `end_call`'s result: the last words of the call, and why it ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Closing {
    pub(crate) reason: OutcomeClass,
    pub(crate) text: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CampaignState {
    pub(crate) step: Step,
    /// Slots offered or tried so far, so none is offered twice.
    pub(crate) offered: Vec<NaiveDateTime>,
    /// Turns in a row the agent did not understand.
    pub(crate) misheard: u8,
    pub(crate) closing: Option<Closing>,
}
