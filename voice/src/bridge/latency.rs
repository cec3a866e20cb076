//! Voice-to-voice latency as the bridge sees it: from the caller's last voiced frame to the
//! first frame of the agent's reply sent to the transport. It leaves out the network and the
//! carrier on both sides, and covers everything we run: the engine's recognition and
//! end-of-turn detection, the workflow's turn, the model and speech synthesis.
//!
//! A frame is voiced when its level is above −38 dBFS ([`VOICED_MEAN_SQUARE`]): a quiet
//! line's noise is not speech. An agent frame after at least [`REPLY_GAP_MS`] of agent
//! silence starts a reply; it counts when the caller has spoken since the agent's last frame
//! (the greeting, and the agent going on by itself, do not).

/// Level above which a caller frame is voiced: −38 dBFS, as a mean square of 16-bit samples,
/// (32768 · 10^(−38/20))². Integer arithmetic, so the per-frame sum vectorizes.
const VOICED_MEAN_SQUARE: u64 = 170_170;
/// Agent silence after which the agent's next frame starts a new reply.
const REPLY_GAP_MS: u64 = 300;
/// The most samples one stream keeps.
const MAX_SAMPLES: usize = 500;

#[derive(Debug, Default)]
pub(super) struct ReplyLatency {
    last_voice_ms: Option<u64>,
    last_agent_ms: Option<u64>,
    samples: Vec<u32>,
}

impl ReplyLatency {
    /// A caller frame (decoded to PCM) arrived at `now_ms`.
    pub(super) fn caller_frame(&mut self, now_ms: u64, pcm: &[i16]) {
        if voiced(pcm) {
            self.last_voice_ms = Some(now_ms);
        }
    }

    /// An agent frame went to the transport at `now_ms`.
    pub(super) fn agent_frame(&mut self, now_ms: u64) {
        let starts_reply = self
            .last_agent_ms
            .is_none_or(|last| now_ms.saturating_sub(last) >= REPLY_GAP_MS);
        let caller_spoke_since = match (self.last_voice_ms, self.last_agent_ms) {
            (Some(voice), Some(agent)) => voice > agent,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if starts_reply && caller_spoke_since && self.samples.len() < MAX_SAMPLES {
            let voice = self.last_voice_ms.unwrap_or(now_ms);
            self.samples
                .push(u32::try_from(now_ms.saturating_sub(voice)).unwrap_or(u32::MAX));
        }
        self.last_agent_ms = Some(now_ms);
    }

    pub(super) fn into_samples(self) -> Vec<u32> {
        self.samples
    }
}

fn voiced(pcm: &[i16]) -> bool {
    if pcm.is_empty() {
        return false;
    }
    let sum: u64 = pcm
        .iter()
        .map(|&s| {
            let s = i64::from(s);
            (s * s) as u64
        })
        .sum();
    sum / pcm.len() as u64 > VOICED_MEAN_SQUARE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm(frame: &[u8]) -> Vec<i16> {
        let mut out = Vec::new();
        crate::mulaw::decode(frame, &mut out);
        out
    }

    fn loud() -> Vec<i16> {
        pcm(&crate::mulaw::tone(440.0, 20, 0.3))
    }

    fn quiet() -> Vec<i16> {
        pcm(&crate::mulaw::silence(20))
    }

    #[test]
    fn a_reply_counts_from_the_callers_last_voiced_frame() {
        let mut latency = ReplyLatency::default();
        // The greeting: nobody spoke before it.
        for t in (0..1000).step_by(20) {
            latency.agent_frame(t);
        }
        // The caller speaks from 2 s to 3 s, then the line is quiet.
        for t in (2000..3000).step_by(20) {
            latency.caller_frame(t, &loud());
        }
        for t in (3000..4000).step_by(20) {
            latency.caller_frame(t, &quiet());
        }
        // The reply starts at 3.7 s: 720 ms after the last voiced frame (at 2.98 s).
        for t in (3700..4500).step_by(20) {
            latency.agent_frame(t);
        }
        // The agent goes on after a pause with nobody speaking: no new sample.
        for t in (5000..5500).step_by(20) {
            latency.agent_frame(t);
        }
        assert_eq!(latency.into_samples(), vec![720]);
    }

    #[test]
    fn voiced_is_above_minus_38_dbfs() {
        for (level, expected) in [(0.30, true), (0.02, true), (0.008, false), (0.0, false)] {
            let frame = pcm(&crate::mulaw::tone(440.0, 20, level));
            assert_eq!(voiced(&frame), expected, "amplitude {level}");
            assert_eq!(
                voiced(&frame),
                crate::pcm::rms_dbfs(&frame) > -38.0,
                "amplitude {level}"
            );
        }
    }
}
