//! `<Redirect>`: the call goes on with the document at the URL.

use std::ops::ControlFlow;

use crate::call::{DocSource, Exit, Step};
use crate::twiml::Redirect;

pub(crate) fn run(redirect: &Redirect) -> Step {
    ControlFlow::Break(Exit::Goto(DocSource::url(&redirect.url, &redirect.method)))
}
