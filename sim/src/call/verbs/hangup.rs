//! `<Hangup>` and `<Reject>`: the call ends (a rejected call as `busy` or `no-answer`).

use std::ops::ControlFlow;

use crate::call::{End, Exit, Step};
use crate::twiml::Reject;

pub(crate) fn hangup() -> Step {
    ControlFlow::Break(Exit::End(End::CallHungUp))
}

pub(crate) fn reject(reject: &Reject) -> Step {
    ControlFlow::Break(Exit::End(End::Rejected(reject.reason.clone())))
}
