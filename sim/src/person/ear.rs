//! The ear of the person on a call: the call plays audio into it, the person's runtime waits
//! on it for quiet, and everything heard is kept (the call's `heard_audio`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use voice::mulaw;

/// What the person is hearing: when the current audio ends, and how many sounds so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EarState {
    pub busy_until: Instant,
    pub sounds: u64,
}

/// The person's ear, shared by the call (which plays into it) and the person (who waits for
/// quiet).
#[derive(Clone)]
pub(crate) struct Ear {
    state: Arc<watch::Sender<EarState>>,
    heard: Arc<Mutex<Vec<u8>>>,
}

impl Ear {
    pub(crate) fn new() -> Self {
        let (tx, _) = watch::channel(EarState {
            busy_until: Instant::now(),
            sounds: 0,
        });
        Self {
            state: Arc::new(tx),
            heard: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Audio starts playing to the person now (after what is already playing).
    pub(crate) fn hear(&self, audio: &[u8]) {
        let ms = audio.len() as u64 / 8;
        self.state.send_modify(|s| {
            s.busy_until = s.busy_until.max(Instant::now()) + Duration::from_millis(ms);
            s.sounds += 1;
        });
        self.keep(audio);
    }

    /// Live audio (a media stream) is playing right now.
    pub(crate) fn hear_live(&self, audio: &[u8]) {
        self.state.send_modify(|s| {
            s.busy_until = s.busy_until.max(Instant::now() + Duration::from_millis(40));
            s.sounds += 1;
        });
        self.keep(audio);
    }

    /// One 20 ms frame of a conference's mix, heard now. Every frame is kept (silence too, so
    /// the heard audio is a timeline); only sound counts for waiting for quiet. Returns
    /// whether the frame had sound.
    pub(crate) fn hear_frame(&self, frame: &[u8]) -> bool {
        let sound = !is_silent(frame);
        if sound {
            let ms = frame.len() as u64 / 8;
            self.state.send_modify(|s| {
                s.busy_until = s.busy_until.max(Instant::now() + Duration::from_millis(ms));
                s.sounds += 1;
            });
        }
        self.keep(frame);
        sound
    }

    /// Whatever was playing stops (barge-in).
    pub(crate) fn stop(&self) {
        self.state.send_modify(|s| s.busy_until = Instant::now());
    }

    /// When the current audio ends, and how many sounds so far.
    pub(crate) fn state(&self) -> EarState {
        *self.state.borrow()
    }

    pub(crate) fn heard(&self) -> Vec<u8> {
        self.heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn keep(&self, audio: &[u8]) {
        self.heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(audio);
    }
}

/// Whether μ-law audio is all (positive or negative) zero.
pub(crate) fn is_silent(audio: &[u8]) -> bool {
    audio.iter().all(|&b| b == mulaw::SILENCE || b == 0x7F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_all_it_hears_and_counts_only_sound() {
        let ear = Ear::new();
        assert_eq!(ear.state().sounds, 0);
        assert!(!ear.hear_frame(&[mulaw::SILENCE; 160]));
        assert_eq!(ear.state().sounds, 0);
        assert!(ear.hear_frame(&[0x10; 160]));
        assert_eq!(ear.state().sounds, 1);
        ear.hear(&[0x20; 800]);
        let state = ear.state();
        assert_eq!(state.sounds, 2);
        assert!(state.busy_until >= Instant::now() + Duration::from_millis(90));
        ear.stop();
        assert!(ear.state().busy_until <= Instant::now());
        assert_eq!(ear.heard().len(), 160 + 160 + 800);
    }

    #[test]
    fn silence_either_sign() {
        assert!(is_silent(&[0xFF, 0x7F, 0xFF]));
        assert!(is_silent(&[]));
        assert!(!is_silent(&[0xFF, 0x00]));
    }
}
