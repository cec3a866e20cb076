//! 16-bit linear PCM helpers: little-endian byte conversion, level measurement, test tones.
//!
//! Everything here is pure and allocation-light so it can run on the per-frame hot path.

/// Little-endian byte pairs → samples. A trailing odd byte is ignored.
pub fn i16_from_le_bytes(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
        .collect()
}

/// Samples → little-endian byte pairs.
pub fn i16_to_le_bytes(samples: &[i16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * 2);
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Root-mean-square level relative to full scale (32768), in dB.
///
/// Digital silence (or an empty slice) gives `f32::NEG_INFINITY`. A full-scale sine measures
/// about −3 dBFS with this definition (RMS, not peak).
pub fn rms_dbfs(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return f32::NEG_INFINITY;
    }
    let sum_sq: f64 = samples
        .iter()
        .map(|&s| {
            let v = f64::from(s);
            v * v
        })
        .sum();
    if sum_sq == 0.0 {
        return f32::NEG_INFINITY;
    }
    let rms = (sum_sq / samples.len() as f64).sqrt();
    (20.0 * (rms / 32768.0).log10()) as f32
}

/// A sine tone of `ms` milliseconds at `sample_rate`, with peak `amplitude` as a fraction of
/// full scale (clamped to 0.0..=1.0). Phase starts at zero.
pub fn sine(freq_hz: f32, sample_rate: u32, ms: u32, amplitude: f32) -> Vec<i16> {
    let n = (u64::from(sample_rate) * u64::from(ms) / 1000) as usize;
    let peak = f64::from(amplitude.clamp(0.0, 1.0)) * f64::from(i16::MAX);
    let step = 2.0 * std::f64::consts::PI * f64::from(freq_hz) / f64::from(sample_rate);
    (0..n)
        .map(|i| (peak * (step * i as f64).sin()).round() as i16)
        .collect()
}

/// Power of the `freq_hz` component of `samples` (Goertzel algorithm), normalised by the
/// number of samples so that blocks of different lengths compare. Useful to check that a tone
/// survives processing: compare it with the power at neighbouring frequencies.
pub fn goertzel_power(samples: &[i16], freq_hz: f32, sample_rate: u32) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * f64::from(freq_hz) / f64::from(sample_rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    power / (samples.len() as f64 * samples.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_bytes_round_trip() {
        let samples = [0i16, 1, -1, i16::MAX, i16::MIN, 12345, -12345];
        let bytes = i16_to_le_bytes(&samples);
        assert_eq!(bytes.len(), samples.len() * 2);
        assert_eq!(&bytes[..4], &[0, 0, 1, 0]);
        assert_eq!(i16_from_le_bytes(&bytes), samples);
    }

    #[test]
    fn le_bytes_ignores_trailing_odd_byte() {
        assert_eq!(i16_from_le_bytes(&[0x34, 0x12, 0xff]), vec![0x1234]);
        assert!(i16_from_le_bytes(&[0x01]).is_empty());
    }

    #[test]
    fn rms_of_silence_is_negative_infinity() {
        assert_eq!(rms_dbfs(&[0; 160]), f32::NEG_INFINITY);
        assert_eq!(rms_dbfs(&[]), f32::NEG_INFINITY);
    }

    #[test]
    fn rms_of_sines() {
        let full = sine(1000.0, 8000, 100, 1.0);
        assert!((rms_dbfs(&full) + 3.01).abs() < 0.1, "{}", rms_dbfs(&full));
        let quiet = sine(440.0, 8000, 100, 0.1);
        assert!(
            (rms_dbfs(&quiet) + 23.01).abs() < 0.1,
            "{}",
            rms_dbfs(&quiet)
        );
    }

    #[test]
    fn sine_has_requested_length_and_frequency() {
        let tone = sine(1000.0, 16000, 20, 0.5);
        assert_eq!(tone.len(), 320);
        let at = goertzel_power(&tone, 1000.0, 16000);
        let off = goertzel_power(&tone, 2000.0, 16000);
        assert!(at > 1000.0 * off, "at {at} off {off}");
    }
}
