//! `<Dial><Conference>`: joins (creating) the named conference ([`crate::conference`]). The
//! person's speech goes into the conference's mixer ([`crate::mixer::task`]), which sends back
//! what they hear every 20 ms (silence included, so `heard_audio` is a timeline; stretches of
//! sound are `StreamAudio` events). Removal over REST continues after the `<Dial>`.

use std::ops::ControlFlow;
use std::time::Duration;

use domain::CallStatus;

use tokio::time::Instant;

use super::DialOutcome;
use crate::call::person::Utterance;
use crate::call::{CallRun, Input, Step};
use crate::conference::{self, Joined};
use crate::mixer::{ConfOut, MixCmd};
use crate::state::CallEventKind;
use crate::twiml::ConferenceSpec;

/// How long without sound ends a stretch of heard audio.
const STRETCH_GAP: Duration = Duration::from_millis(400);

pub(crate) async fn run(call: &mut CallRun, spec: &ConferenceSpec) -> Step<DialOutcome> {
    let mut joined = conference::join(&call.shared, spec, &call.sid);
    let started = Instant::now();
    if spec.wait_url.is_some() && !conference::started(&call.shared, &joined.sid) {
        call.event(CallEventKind::CallPlayed {
            what: "hold music (waitUrl)".into(),
            ms: 0,
        });
    }
    let mut stretch = Stretch::default();
    let stayed = stay(call, &mut joined, &mut stretch).await;
    if stretch.ms > 0 {
        call.event(CallEventKind::StreamAudio { ms: stretch.ms });
    }
    conference::leave(&call.shared, &joined.sid, &call.sid);
    let caller_gone = stayed?;
    ControlFlow::Continue(DialOutcome {
        status: CallStatus::Completed,
        call_sid: None,
        duration: started.elapsed().as_secs(),
        caller_gone,
    })
}

/// A stretch of sound the person is hearing.
struct Stretch {
    ms: u64,
    last_sound: Instant,
}

impl Default for Stretch {
    fn default() -> Self {
        Self {
            ms: 0,
            last_sound: Instant::now(),
        }
    }
}

/// In the conference until the person hangs up (`Continue(true)`), the conference ends or
/// the call is kicked (`Continue(false)`), or a REST command interrupts.
async fn stay(call: &mut CallRun, joined: &mut Joined, stretch: &mut Stretch) -> Step<bool> {
    loop {
        tokio::select! {
            input = call.wait(None) => match input {
                Input::Person(Utterance::HangUp) => return ControlFlow::Continue(true),
                Input::Person(Utterance::Speech { text, audio }) => {
                    let _ = joined.mix.send(MixCmd::Speak {
                        call_sid: call.sid.clone(),
                        text,
                        audio,
                    });
                }
                Input::Person(Utterance::Digit(_)) | Input::Timeout => {}
                Input::Command(c) => return ControlFlow::Break(call.command_exit(c)),
            },
            out = joined.heard.recv() => match out {
                Some(ConfOut::Frame(frame)) => hear(call, &frame, stretch),
                Some(ConfOut::Said { from, text }) => {
                    call.event(CallEventKind::CallSaid { text: format!("[{from}] {text}") });
                }
                Some(ConfOut::Ended) | None => return ControlFlow::Continue(false),
            },
            _ = joined.kick.recv() => {
                call.event(CallEventKind::Bridge {
                    event: "kicked".into(),
                    detail: joined.sid.clone(),
                });
                return ControlFlow::Continue(false);
            }
        }
    }
}

/// One frame of the mix reaches the person's ear; a stretch of sound is logged once it has
/// been quiet for a while.
fn hear(call: &CallRun, frame: &[u8], stretch: &mut Stretch) {
    let now = Instant::now();
    if call.person.ear.hear_frame(frame) {
        stretch.ms += frame.len() as u64 / 8;
        stretch.last_sound = now;
    } else if stretch.ms > 0 && now.duration_since(stretch.last_sound) >= STRETCH_GAP {
        call.event(CallEventKind::StreamAudio { ms: stretch.ms });
        stretch.ms = 0;
    }
}
