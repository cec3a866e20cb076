//! The call's transcript as the caller experienced it: agent segments end where the caller
//! stopped hearing them, caller segments span speech start to transcript, and segments go to
//! the workflow in batches.

use super::{
    state::BridgeState,
    transport::{FRAME_BYTES, FRAME_MS},
};
use domain::{Speaker, TranscriptSegment};
use std::time::Duration;
use tokio::time::Instant;

/// Segments are sent to the workflow when this many are waiting …
const TRANSCRIPT_BATCH_SEGMENTS: usize = 4;
/// … or when the oldest has waited this long.
const TRANSCRIPT_BATCH_DELAY: Duration = Duration::from_secs(2);

impl BridgeState {
    pub(super) fn agent_text(&mut self, item: &str, text: String) {
        if text.trim().is_empty() {
            return;
        }
        let utterance = self.utterance(item);
        match &mut utterance.text {
            Some(existing) => {
                existing.push(' ');
                existing.push_str(text.trim());
            }
            None => utterance.text = Some(text.trim().to_owned()),
        }
        // The words came after the utterance was heard or cut off: record it now.
        if utterance.heard {
            let interrupted = self.interrupted.contains(item);
            self.finish_agent_segment(item, interrupted);
        }
    }

    pub(super) fn caller_started(&mut self) {
        self.caller_started_ms.get_or_insert(self.now_ms());
    }

    pub(super) fn caller_text(&mut self, text: String) {
        if text.trim().is_empty() {
            return;
        }
        let end_ms = self.now_ms();
        let start_ms = self.caller_started_ms.take().unwrap_or(end_ms);
        self.push_segment(TranscriptSegment {
            speaker: Speaker::Caller,
            text: text.trim().to_owned(),
            start_ms,
            end_ms,
            interrupted: false,
        });
    }

    /// Records an agent utterance in the transcript (once), with its heard duration.
    pub(super) fn finish_agent_segment(&mut self, item: &str, interrupted: bool) {
        let now = self.now_ms();
        let Some(u) = self.utterances.get_mut(item) else {
            return;
        };
        if u.finished {
            return;
        }
        let Some(text) = u.text.clone() else {
            // The words may still come; the segment is written when they do.
            if interrupted {
                u.heard = true;
            }
            return;
        };
        u.finished = true;
        let start_ms = u.started_ms.unwrap_or(now);
        let played_ms = u.sent_bytes * FRAME_MS / FRAME_BYTES as u64;
        let end_ms = if interrupted {
            now.min(start_ms + played_ms)
        } else {
            (start_ms + played_ms).max(start_ms).min(now.max(start_ms))
        };
        self.push_segment(TranscriptSegment {
            speaker: Speaker::Agent,
            text,
            start_ms,
            end_ms,
            interrupted,
        });
    }

    pub(super) fn finish_all_agent_segments(&mut self) {
        let mut pending: Vec<(u64, String)> = self
            .utterances
            .iter()
            .filter(|(_, u)| !u.finished && u.text.is_some())
            .map(|(item, u)| (u.seq, item.clone()))
            .collect();
        pending.sort();
        for (_, item) in pending {
            let interrupted = self.interrupted.contains(&item)
                || self.utterances.get(&item).is_some_and(|u| !u.heard);
            self.finish_agent_segment(&item, interrupted);
        }
    }

    fn push_segment(&mut self, segment: TranscriptSegment) {
        self.oldest_segment_ms.get_or_insert(self.now_ms());
        self.segments.push(segment);
    }

    pub(super) fn transcript_due(&self) -> bool {
        self.segments.len() >= TRANSCRIPT_BATCH_SEGMENTS
            || self.oldest_segment_ms.is_some_and(|t| {
                self.now_ms().saturating_sub(t) >= TRANSCRIPT_BATCH_DELAY.as_millis() as u64
            })
    }

    /// When the transcript batch is due; `None` while no segment waits.
    pub(super) fn next_transcript(&self) -> Option<Instant> {
        if self.segments.len() >= TRANSCRIPT_BATCH_SEGMENTS {
            return Some(Instant::now());
        }
        let oldest = self.oldest_segment_ms?;
        Some(self.epoch() + Duration::from_millis(oldest) + TRANSCRIPT_BATCH_DELAY)
    }

    pub(super) fn take_segments(&mut self) -> Vec<TranscriptSegment> {
        self.oldest_segment_ms = None;
        let mut segments = std::mem::take(&mut self.segments);
        segments.sort_by_key(|s| s.start_ms);
        segments
    }
}
