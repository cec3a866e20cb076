//! Playout of agent audio: the queue of utterances and their marks, paced at real time, one
//! 160-byte μ-law frame per 20 ms; the mark echoes that say an utterance was heard, and the
//! goodbye after `end_call`.

use super::{
    state::{BridgeState, Queued},
    transport::{FRAME_BYTES, FRAME_MS},
};
use crate::mulaw::SILENCE;
use std::time::Duration;
use tokio::time::Instant;

/// One thing the pacer sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Paced {
    Frame(Vec<u8>),
    Mark(String),
}

impl BridgeState {
    pub(super) fn queue_audio(&mut self, item: &str, mulaw: &[u8]) {
        if self.interrupted.contains(item) || mulaw.is_empty() {
            return;
        }
        self.end_finished_run();
        match self.queue.back_mut() {
            // More of the utterance queued last (known since then).
            Some(Queued::Audio { item: last, bytes }) if last == item => bytes.extend(mulaw),
            _ => {
                self.utterance(item);
                self.queue.push_back(Queued::Audio {
                    item: item.to_owned(),
                    bytes: mulaw.iter().copied().collect(),
                });
            }
        }
    }

    pub(super) fn queue_mark(&mut self, item: &str) {
        if self.interrupted.contains(item) {
            return;
        }
        if !self.utterances.contains_key(item) {
            // An utterance without audio (e.g. text only): nothing for the caller to hear.
            return;
        }
        self.queue.push_back(Queued::Mark {
            item: item.to_owned(),
        });
    }

    /// The frames (each followed by any marks that close an utterance) due by now: one per
    /// 20 ms of wall clock since the current run of audio started, so pacing is real time and
    /// a late tick catches up instead of adding delay for the rest of the call.
    pub(super) fn next_frame(&mut self) -> Vec<Paced> {
        let mut out = Vec::new();
        // Marks at the head (an utterance whose last frame went out on the previous tick).
        self.drain_marks(&mut out);
        if !self.has_audio() {
            self.playout = None;
            return out;
        }
        let now = Instant::now();
        let (started, sent_ms) = *self.playout.get_or_insert((now, 0));
        let due_ms = now.duration_since(started).as_millis() as u64 + FRAME_MS;
        let mut sent = sent_ms;
        while sent < due_ms && self.send_one_frame(&mut out) {
            sent += FRAME_MS;
        }
        self.playout = Some((started, sent));
        out
    }

    /// Audio arriving after everything sent has played starts a new run, paced from now: the
    /// pacer sleeps while nothing is queued, so the run that ran dry is still on record, and
    /// counting from its start would find every new frame overdue and send it at once. Audio
    /// arriving while the last frame still plays continues the run on its 20 ms grid.
    fn end_finished_run(&mut self) {
        if let Some((started, sent_ms)) = self.playout
            && Instant::now() >= started + Duration::from_millis(sent_ms)
            && !self.has_audio()
        {
            self.playout = None;
        }
    }

    /// When the next agent frame (or a mark) is due; `None` while nothing is queued.
    pub(super) fn next_playout(&self) -> Option<Instant> {
        match self.queue.front()? {
            Queued::Mark { .. } => Some(Instant::now()),
            Queued::Audio { .. } => Some(match self.playout {
                // `next_frame` sends while `sent < elapsed + FRAME_MS`.
                Some((started, sent_ms)) => {
                    started + Duration::from_millis(sent_ms.saturating_sub(FRAME_MS) + 1)
                }
                None => Instant::now(),
            }),
        }
    }

    /// True while agent audio waits to be sent.
    fn has_audio(&self) -> bool {
        self.queue.iter().any(|q| matches!(q, Queued::Audio { .. }))
    }

    fn send_one_frame(&mut self, out: &mut Vec<Paced>) -> bool {
        let now = self.now_ms();
        let Some(Queued::Audio { item, bytes }) = self.queue.front_mut() else {
            return false;
        };
        let n = bytes.len().min(FRAME_BYTES);
        let mut frame = Vec::with_capacity(FRAME_BYTES);
        let (head, tail) = bytes.as_slices();
        let from_head = head.len().min(n);
        frame.extend_from_slice(&head[..from_head]);
        frame.extend_from_slice(&tail[..n - from_head]);
        bytes.drain(..n);
        frame.resize(FRAME_BYTES, SILENCE);
        // Queued audio's utterance exists: `queue_audio` made it.
        if let Some(utterance) = self.utterances.get_mut(item.as_str()) {
            utterance.started_ms.get_or_insert(now);
            utterance.sent_bytes += n as u64;
        }
        if self.playing.as_deref() != Some(item.as_str()) {
            self.playing = Some(item.clone());
        }
        if bytes.is_empty() {
            self.queue.pop_front();
        }
        out.push(Paced::Frame(frame));
        self.drain_marks(out);
        true
    }

    fn drain_marks(&mut self, out: &mut Vec<Paced>) {
        while let Some(Queued::Mark { item }) = self.queue.front() {
            let item = item.clone();
            self.queue.pop_front();
            self.mark_counter += 1;
            let name = format!("{}:{item}", self.mark_counter);
            self.marks_outstanding.insert(name.clone(), item);
            out.push(Paced::Mark(name));
        }
    }

    /// The transport echoed a mark: the utterance it closes was heard in full.
    pub(super) fn mark_heard(&mut self, name: &str) -> Option<String> {
        let item = self.marks_outstanding.remove(name)?;
        if let Some(u) = self.utterances.get_mut(&item) {
            u.heard = true;
        }
        if self.playing.as_deref() == Some(item.as_str()) {
            self.playing = None;
        }
        Some(item)
    }

    pub(super) fn end_after_next_utterance(&mut self) {
        self.goodbye_from_seq.get_or_insert(self.next_seq);
    }

    /// True once, when the utterance after `end_call` has been heard.
    pub(super) fn goodbye_heard(&mut self, item: &str) -> bool {
        let (Some(from), Some(u)) = (self.goodbye_from_seq, self.utterances.get(item)) else {
            return false;
        };
        if self.goodbye_signalled || u.seq < from || !self.queue.is_empty() {
            return false;
        }
        self.goodbye_signalled = true;
        true
    }
}
