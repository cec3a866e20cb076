//! `<Say>`: synthesized speech the person hears in real time, `loop` times.

use std::ops::ControlFlow;

use crate::call::person::Utterance;
use crate::call::{CallRun, Step};
use crate::speech;
use crate::state::CallEventKind;
use crate::twiml::Say;

pub(crate) async fn run(call: &mut CallRun, say: &Say, barge_in: bool) -> Step<Option<Utterance>> {
    for _ in 0..say.loop_count.clamp(1, 10) {
        call.event(CallEventKind::CallSaid {
            text: say.text.clone(),
        });
        let audio = speech::synthesize(&say.text);
        if let Some(u) = call.play(&audio, barge_in).await? {
            return ControlFlow::Continue(Some(u));
        }
    }
    ControlFlow::Continue(None)
}
