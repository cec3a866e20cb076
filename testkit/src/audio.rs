//! Caller audio for tests: 20 ms μ-law frames, as Twilio sends them.

/// Bytes in one 20 ms μ-law frame at 8 kHz.
pub const FRAME_BYTES: usize = 160;

/// The tones' peak: 8000 of 32767.
const TONE_AMPLITUDE: f32 = 8000.0 / 32767.0;

/// `ms` of μ-law digital silence, as 20 ms frames.
pub fn silence_frames(ms: u32) -> Vec<Vec<u8>> {
    frames(&voice::mulaw::silence(ms / 20 * 20))
}

/// `ms` of a sine tone at `hz` (amplitude 8000 of 32767), μ-law 8 kHz, as 20 ms frames.
pub fn tone_frames(ms: u32, hz: f64) -> Vec<Vec<u8>> {
    frames(&voice::mulaw::tone(hz as f32, ms, TONE_AMPLITUDE))
}

/// `ms` of a sine tone at `hz` as 16-bit PCM at `rate`.
pub fn tone_pcm(rate: u32, ms: u32, hz: f64) -> Vec<i16> {
    voice::pcm::sine(hz as f32, rate, ms, TONE_AMPLITUDE)
}

fn frames(mulaw: &[u8]) -> Vec<Vec<u8>> {
    mulaw.chunks(FRAME_BYTES).map(<[u8]>::to_vec).collect()
}

/// RMS of μ-law audio after decoding.
pub fn mulaw_rms(mulaw: &[u8]) -> f64 {
    if mulaw.is_empty() {
        return 0.0;
    }
    let energy: f64 = mulaw
        .iter()
        .map(|&b| f64::from(voice::mulaw::decode_sample(b)).powi(2))
        .sum();
    (energy / mulaw.len() as f64).sqrt()
}
