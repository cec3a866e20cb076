//! Barge-in: the caller speaks over the agent, so what is queued or playing is cut, and the
//! bridge works out how much of the utterance the caller heard.

use super::{
    state::{BridgeState, Queued},
    transport::{FRAME_BYTES, FRAME_MS},
};

impl BridgeState {
    /// The caller started speaking. If agent audio is queued or still playing, cut it:
    /// returns the utterance and how much of it was heard.
    pub(super) fn barge_in(&mut self) -> Option<(String, u64)> {
        let queued = self.queue.iter().any(|q| matches!(q, Queued::Audio { .. }));
        let playing = self
            .playing
            .clone()
            .filter(|item| self.utterances.get(item).is_some_and(|u| !u.heard));
        let item = playing.or_else(|| {
            self.queue.iter().find_map(|q| match q {
                Queued::Audio { item, .. } => Some(item.clone()),
                Queued::Mark { .. } => None,
            })
        })?;
        if !queued && self.marks_outstanding.values().all(|i| i != &item) {
            // Everything was sent and its mark came back: nothing is playing.
            return None;
        }
        let heard_ms = self.heard_ms(&item);
        self.cut_playout(item.clone());
        Some((item, heard_ms))
    }

    /// How much of utterance `item` has been played: what was sent, bounded by the time since
    /// its first frame.
    fn heard_ms(&mut self, item: &str) -> u64 {
        let now = self.now_ms();
        let u = self.utterance(item);
        let sent_ms = u.sent_bytes * FRAME_MS / FRAME_BYTES as u64;
        let elapsed = u.started_ms.map(|s| now.saturating_sub(s)).unwrap_or(0);
        sent_ms.min(elapsed)
    }

    /// Drops everything queued, and every mark for audio the caller will not hear; `item` and
    /// every dropped utterance are recorded as interrupted.
    fn cut_playout(&mut self, item: String) {
        let dropped: Vec<String> = self
            .queue
            .drain(..)
            .map(|q| match q {
                Queued::Audio { item, .. } | Queued::Mark { item } => item,
            })
            .collect();
        self.marks_outstanding.clear();
        self.playing = None;
        self.playout = None;
        for cut in dropped.into_iter().chain(std::iter::once(item)) {
            if self.interrupted.insert(cut.clone()) {
                self.finish_agent_segment(&cut, true);
            }
        }
    }
}
