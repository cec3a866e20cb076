//! [`BridgeState`]: everything the bridge knows about one stream, with no I/O, so pacing,
//! barge-in and the transcript can be unit-tested frame by frame. Its behaviour is split by
//! concern: [`super::playout`], [`super::barge_in`], [`super::transcript`].

use domain::TranscriptSegment;
use std::collections::{HashMap, HashSet, VecDeque};
use tokio::time::Instant;

/// Queued agent output: audio of an utterance, or the mark that closes it.
#[derive(Debug)]
pub(super) enum Queued {
    Audio { item: String, bytes: VecDeque<u8> },
    Mark { item: String },
}

/// An agent utterance from its first audio to the mark echo (or barge-in).
#[derive(Debug, Default)]
pub(super) struct Utterance {
    pub(super) seq: u64,
    pub(super) text: Option<String>,
    /// Milliseconds since stream start when its first frame was sent.
    pub(super) started_ms: Option<u64>,
    pub(super) sent_bytes: u64,
    pub(super) heard: bool,
    pub(super) finished: bool,
}

pub(super) struct BridgeState {
    epoch: Instant,
    pub(super) queue: VecDeque<Queued>,
    pub(super) utterances: HashMap<String, Utterance>,
    /// When the current run of agent audio started playing, and how much of it has been sent:
    /// frames go out as fast as the wall clock allows, so a late tick is caught up on the next
    /// one instead of becoming permanent delay. `None` while nothing is queued.
    pub(super) playout: Option<(Instant, u64)>,
    /// Utterances cut off by the caller: their late audio is dropped.
    pub(super) interrupted: HashSet<String>,
    /// The utterance whose frames are being sent (or were sent last and not yet heard).
    pub(super) playing: Option<String>,
    pub(super) marks_outstanding: HashMap<String, String>,
    pub(super) mark_counter: u64,
    pub(super) next_seq: u64,
    /// `end_call`: the first utterance with a seq at or above this is the goodbye.
    pub(super) goodbye_from_seq: Option<u64>,
    pub(super) goodbye_signalled: bool,
    pub(super) caller_started_ms: Option<u64>,
    pub(super) segments: Vec<TranscriptSegment>,
    pub(super) oldest_segment_ms: Option<u64>,
}

impl BridgeState {
    pub(super) fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            queue: VecDeque::new(),
            playout: None,
            utterances: HashMap::new(),
            interrupted: HashSet::new(),
            playing: None,
            marks_outstanding: HashMap::new(),
            mark_counter: 0,
            next_seq: 0,
            goodbye_from_seq: None,
            goodbye_signalled: false,
            caller_started_ms: None,
            segments: Vec::new(),
            oldest_segment_ms: None,
        }
    }

    /// When the stream started.
    pub(super) fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Milliseconds since the stream started.
    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// The utterance `item`, created (with the next sequence number) on first sight.
    pub(super) fn utterance(&mut self, item: &str) -> &mut Utterance {
        if !self.utterances.contains_key(item) {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.utterances.insert(
                item.to_owned(),
                Utterance {
                    seq,
                    ..Utterance::default()
                },
            );
        }
        self.utterances.get_mut(item).expect("inserted above")
    }
}
