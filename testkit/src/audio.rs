//! Caller audio for tests: 20 ms μ-law frames, as Twilio sends them.

/// Bytes in one 20 ms μ-law frame at 8 kHz.
pub const FRAME_BYTES: usize = 160;

/// `ms` of μ-law digital silence (0xFF), as 20 ms frames.
pub fn silence_frames(ms: u32) -> Vec<Vec<u8>> {
    vec![vec![0xFF; FRAME_BYTES]; (ms / 20) as usize]
}

/// `ms` of a sine tone at `hz` (amplitude 8000 of 32767), μ-law 8 kHz, as 20 ms frames.
pub fn tone_frames(ms: u32, hz: f64) -> Vec<Vec<u8>> {
    let mut mulaw = Vec::new();
    voice::mulaw::encode(&tone_pcm(8000, ms, hz), &mut mulaw);
    mulaw.chunks(FRAME_BYTES).map(<[u8]>::to_vec).collect()
}

/// `ms` of a sine tone at `hz` as 16-bit PCM at `rate`.
pub fn tone_pcm(rate: u32, ms: u32, hz: f64) -> Vec<i16> {
    let n = u64::from(rate) * u64::from(ms) / 1000;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            ((t * hz * std::f64::consts::TAU).sin() * 8000.0) as i16
        })
        .collect()
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
