//! A conference's mixer task: every 20 ms each member's next speech frame goes into the
//! [`Mixer`] and each member gets its mix. Until a participant who starts the conference is
//! in, everybody is held (waiting music). Calls talk to it with [`MixCmd`]s and hear it as
//! [`ConfOut`]s.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::{FRAME_SAMPLES, Mixer};
use crate::speech;

/// What a conference's mixer task is told.
pub(crate) enum MixCmd {
    /// A call joins: its frames go to `out`.
    Join(JoinCmd),
    Leave {
        call_sid: String,
    },
    /// The person said this; it is spoken into the mix 20 ms per tick.
    Speak {
        call_sid: String,
        text: Option<String>,
        audio: Vec<u8>,
    },
    /// REST participant update: muted / on hold / coaching whom.
    Update {
        call_sid: String,
        muted: bool,
        hold: bool,
        coach: Option<String>,
    },
    /// A participant who starts the conference is in: waiting music stops.
    Started,
    /// The conference is over.
    End,
}

/// A call joining the mix.
pub(crate) struct JoinCmd {
    pub call_sid: String,
    pub out: mpsc::UnboundedSender<ConfOut>,
    pub muted: bool,
    pub hold: bool,
    pub coach: Option<String>,
    pub beep_on_enter: bool,
    pub beep_on_exit: bool,
}

/// What a participant's call gets from the mixer.
pub(crate) enum ConfOut {
    /// What the person hears this tick (160 μ-law bytes).
    Frame(Vec<u8>),
    /// Another participant's words the person hears (for the transcript).
    Said {
        from: String,
        text: String,
    },
    Ended,
}

/// A participant as the mixer task sees it.
struct Member {
    out: mpsc::UnboundedSender<ConfOut>,
    /// Speech still to be spoken, μ-law.
    queue: VecDeque<u8>,
    muted: bool,
    hold: bool,
    coach: Option<String>,
    beep_on_exit: bool,
}

/// The mixer's id for the join/leave beep (a speaker nobody is).
const BEEP_SOURCE: &str = "\u{0}beep";

/// The next 20 ms frame of `queue`, padded with silence; `None` when nothing is queued.
fn next_frame(queue: &mut VecDeque<u8>) -> Option<Vec<u8>> {
    if queue.is_empty() {
        return None;
    }
    let n = queue.len().min(FRAME_SAMPLES);
    let mut frame: Vec<u8> = queue.drain(..n).collect();
    frame.resize(FRAME_SAMPLES, voice::mulaw::SILENCE);
    Some(frame)
}

/// Spawns the mixer task of a new conference.
pub(crate) fn spawn_mixer(conf_sid: &str) -> mpsc::UnboundedSender<MixCmd> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run_mixer(conf_sid.to_owned(), rx));
    tx
}

/// One conference's audio until it ends.
async fn run_mixer(conf_sid: String, mut cmds: mpsc::UnboundedReceiver<MixCmd>) {
    let mut conference = Conference::new();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                None | Some(MixCmd::End) => {
                    conference.end();
                    tracing::debug!(%conf_sid, "conference mixer ended");
                    return;
                }
                Some(cmd) => conference.apply(cmd),
            },
            _ = tick.tick() => conference.tick(),
        }
    }
}

/// The mixer task's state: the mixer, its members, the beep still to play.
struct Conference {
    mixer: Mixer,
    beep: VecDeque<u8>,
    members: BTreeMap<String, Member>,
    started: bool,
}

impl Conference {
    fn new() -> Self {
        let mut mixer = Mixer::new();
        let _ = mixer.add(BEEP_SOURCE);
        Self {
            mixer,
            beep: VecDeque::new(),
            members: BTreeMap::new(),
            started: false,
        }
    }

    fn apply(&mut self, cmd: MixCmd) {
        match cmd {
            MixCmd::Join(join) => self.join(join),
            MixCmd::Leave { call_sid } => self.leave(&call_sid),
            MixCmd::Speak {
                call_sid,
                text,
                audio,
            } => self.speak(&call_sid, text, audio),
            MixCmd::Update {
                call_sid,
                muted,
                hold,
                coach,
            } => {
                if let Some(m) = self.members.get_mut(&call_sid) {
                    (m.muted, m.hold, m.coach) = (muted, hold, coach);
                    self.apply_all();
                }
            }
            MixCmd::Started => {
                self.started = true;
                self.apply_all();
            }
            MixCmd::End => self.end(),
        }
    }

    fn join(&mut self, join: JoinCmd) {
        if self.mixer.add(&join.call_sid).is_err() {
            return;
        }
        let member = Member {
            out: join.out,
            queue: VecDeque::new(),
            muted: join.muted,
            hold: join.hold,
            coach: join.coach,
            beep_on_exit: join.beep_on_exit,
        };
        self.members.insert(join.call_sid, member);
        if join.beep_on_enter {
            self.beep.extend(speech::beep());
        }
        self.apply_all();
    }

    fn leave(&mut self, call_sid: &str) {
        if let Some(m) = self.members.remove(call_sid) {
            let _ = self.mixer.remove(call_sid);
            if m.beep_on_exit {
                self.beep.extend(speech::beep());
            }
            self.apply_all();
        }
    }

    /// Words go to whoever hears the speaker now; the audio is queued for the mix.
    fn speak(&mut self, call_sid: &str, text: Option<String>, audio: Vec<u8>) {
        if let Some(text) = text {
            for (listener, m) in &self.members {
                if hears(&self.members, call_sid, listener, self.started) {
                    let _ = m.out.send(ConfOut::Said {
                        from: call_sid.to_owned(),
                        text: text.clone(),
                    });
                }
            }
        }
        if let Some(m) = self.members.get_mut(call_sid) {
            m.queue.extend(audio);
        }
    }

    /// One 20 ms tick: everyone's next frame in, everyone's mix out.
    fn tick(&mut self) {
        if let Some(frame) = next_frame(&mut self.beep) {
            let _ = self.mixer.push(BEEP_SOURCE, &frame);
        }
        for (id, m) in &mut self.members {
            if let Some(frame) = next_frame(&mut m.queue) {
                let _ = self.mixer.push(id, &frame);
            }
        }
        for (id, heard) in self.mixer.mix() {
            if let Some(m) = self.members.get(&id) {
                let _ = m.out.send(ConfOut::Frame(heard));
            }
        }
    }

    fn end(&self) {
        for m in self.members.values() {
            let _ = m.out.send(ConfOut::Ended);
        }
    }

    /// Brings the mixer's participant states in line with the members (a member is held
    /// while the conference waits for a starter; a coach whose coachee left is heard by
    /// nobody).
    fn apply_all(&mut self) {
        for (id, m) in &self.members {
            let _ = self.mixer.set_muted(id, m.muted);
            let _ = self.mixer.set_on_hold(id, m.hold || !self.started);
            let coach = m.coach.as_deref().filter(|t| self.members.contains_key(*t));
            if self.mixer.set_coaching(id, coach).is_err() {
                let _ = self.mixer.set_coaching(id, None);
            }
            if m.coach.is_some() && coach.is_none() {
                let _ = self.mixer.set_muted(id, true);
            }
        }
    }
}

/// Whether `listener` hears `speaker` now (the mixer's rule, for transcripts).
fn hears(members: &BTreeMap<String, Member>, speaker: &str, listener: &str, started: bool) -> bool {
    let (Some(s), Some(l)) = (members.get(speaker), members.get(listener)) else {
        return false;
    };
    speaker != listener
        && started
        && !s.muted
        && !s.hold
        && !l.hold
        && s.coach.as_deref().is_none_or(|t| t == listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(muted: bool, hold: bool, coach: Option<&str>) -> Member {
        let (out, _) = mpsc::unbounded_channel();
        Member {
            out,
            queue: VecDeque::new(),
            muted,
            hold,
            coach: coach.map(str::to_owned),
            beep_on_exit: false,
        }
    }

    #[test]
    fn frames_are_padded_with_silence() {
        let mut queue: VecDeque<u8> = vec![0x10; 200].into();
        assert_eq!(next_frame(&mut queue), Some(vec![0x10; 160]));
        let mut last = vec![0x10; 40];
        last.resize(160, voice::mulaw::SILENCE);
        assert_eq!(next_frame(&mut queue), Some(last));
        assert_eq!(next_frame(&mut queue), None);
    }

    #[test]
    fn who_hears_whom() {
        let members: BTreeMap<String, Member> = [
            ("a".to_owned(), member(false, false, None)),
            ("b".to_owned(), member(false, false, None)),
            ("muted".to_owned(), member(true, false, None)),
            ("held".to_owned(), member(false, true, None)),
            ("coach".to_owned(), member(false, false, Some("a"))),
        ]
        .into_iter()
        .collect();
        assert!(hears(&members, "a", "b", true));
        assert!(!hears(&members, "a", "b", false), "not started yet");
        assert!(!hears(&members, "a", "a", true));
        assert!(!hears(&members, "muted", "a", true));
        assert!(!hears(&members, "held", "a", true));
        assert!(!hears(&members, "a", "held", true));
        assert!(hears(&members, "coach", "a", true));
        assert!(!hears(&members, "coach", "b", true));
        assert!(hears(&members, "a", "coach", true));
        assert!(!hears(&members, "nobody", "a", true));
    }
}
