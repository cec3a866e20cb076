//! 16-bit linear PCM helpers: little-endian byte conversion, level measurement, test tones,
//! and resampling between any two rates ([`SincResampler`], [`resample_any`]).
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

/// Zero crossings of the sinc on each side of an output sample in [`SincResampler`].
const SINC_ZERO_CROSSINGS: f64 = 16.0;

/// Streaming resampler for mono PCM between any two rates (e.g. espeak-ng's 22 050 Hz to the
/// telephone's 8 kHz), with a Hann-windowed sinc low-pass at 95 % of the lower Nyquist
/// frequency, so downsampling does not alias.
///
/// The filter is zero-phase: output sample `n` sits at input time `n * from / to`, so there is
/// no delay to trim, only a lookahead of about 16 cycles of the cut-off (≈ 2 ms for
/// 22 050 → 8000 Hz) before an output sample can be computed. Feeding input in any split and
/// then calling [`SincResampler::flush`] gives exactly `floor(len * to / from)` samples,
/// identical to [`resample_any`] on the whole signal. Not as cheap as
/// [`crate::resample::Resampler`] (a few milliseconds of CPU per second of 8 kHz output), but
/// any pair of rates works.
#[derive(Debug, Clone)]
pub struct SincResampler {
    from_hz: u32,
    to_hz: u32,
    /// Input samples per output sample.
    step: f64,
    /// Cut-off relative to the input Nyquist frequency.
    cutoff: f64,
    /// Half the filter length, in input samples.
    half_width: f64,
    /// Pending input; `buf[0]` is input sample number `base`.
    buf: Vec<i16>,
    base: u64,
    total_in: u64,
    next_out: u64,
}

impl SincResampler {
    /// A resampler from `from_hz` to `to_hz`. Equal rates (or a zero rate) pass samples through.
    pub fn new(from_hz: u32, to_hz: u32) -> Self {
        let step = if to_hz == 0 {
            1.0
        } else {
            f64::from(from_hz) / f64::from(to_hz)
        };
        let cutoff = (1.0 / step).min(1.0) * 0.95;
        Self {
            from_hz,
            to_hz,
            step,
            cutoff,
            half_width: SINC_ZERO_CROSSINGS / cutoff,
            buf: Vec::new(),
            base: 0,
            total_in: 0,
            next_out: 0,
        }
    }

    fn is_passthrough(&self) -> bool {
        self.from_hz == self.to_hz || self.from_hz == 0 || self.to_hz == 0
    }

    /// Feed samples; appends every output sample whose filter window is now complete.
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        if self.is_passthrough() {
            out.extend_from_slice(input);
            return;
        }
        self.buf.extend_from_slice(input);
        self.total_in += input.len() as u64;
        self.emit(out, false);
    }

    /// End of stream: appends the remaining output (the signal's end is treated as silence
    /// beyond it) and resets the resampler for a new stream.
    pub fn flush(&mut self, out: &mut Vec<i16>) {
        if !self.is_passthrough() && self.total_in > 0 {
            self.emit(out, true);
        }
        self.buf.clear();
        self.base = 0;
        self.total_in = 0;
        self.next_out = 0;
    }

    fn emit(&mut self, out: &mut Vec<i16>, at_end: bool) {
        let out_len = self.total_in * u64::from(self.to_hz) / u64::from(self.from_hz);
        while self.next_out < out_len {
            let t = self.next_out as f64 * self.step;
            let last_needed = (t + self.half_width).floor() as u64;
            if !at_end && last_needed >= self.total_in {
                break; // the window reaches past the input we have
            }
            let first = (t - self.half_width).ceil().max(0.0) as u64;
            let last = last_needed.min(self.total_in - 1);
            let mut acc = 0.0;
            for k in first..=last {
                let x = self.buf[(k - self.base) as usize];
                let d = t - k as f64;
                let window = 0.5 * (1.0 + (std::f64::consts::PI * d / self.half_width).cos());
                let arg = std::f64::consts::PI * self.cutoff * d;
                let sinc = if arg.abs() < 1e-9 {
                    1.0
                } else {
                    arg.sin() / arg
                };
                acc += f64::from(x) * self.cutoff * sinc * window;
            }
            out.push(acc.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16);
            self.next_out += 1;
        }
        // Input before the next output's window is no longer needed.
        let keep_from = (self.next_out as f64 * self.step - self.half_width)
            .ceil()
            .max(0.0) as u64;
        let drop = keep_from
            .saturating_sub(self.base)
            .min(self.buf.len() as u64);
        self.buf.drain(..drop as usize);
        self.base += drop;
    }
}

/// Resamples a whole mono signal between any two rates ([`SincResampler`]):
/// `floor(len * to / from)` samples, no delay. Equal rates return the input unchanged.
pub fn resample_any(samples: &[i16], from_hz: u32, to_hz: u32) -> Vec<i16> {
    let mut resampler = SincResampler::new(from_hz, to_hz);
    let mut out = Vec::with_capacity(
        (samples.len() as u64 * u64::from(to_hz) / u64::from(from_hz.max(1))) as usize + 1,
    );
    resampler.process(samples, &mut out);
    resampler.flush(&mut out);
    out
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

    #[test]
    fn resample_any_22050_to_8000_keeps_voice_band_and_removes_aliases() {
        let input = sine(1000.0, 22050, 500, 0.5);
        let out = resample_any(&input, 22050, 8000);
        assert_eq!(out.len(), 4000);
        let body = &out[200..3800];
        let level = rms_dbfs(body);
        assert!((level - rms_dbfs(&input)).abs() < 1.0, "{level}");
        assert!(goertzel_power(body, 1000.0, 8000) > 1000.0 * goertzel_power(body, 1500.0, 8000));
        // 6 kHz cannot exist at 8 kHz: it must be filtered out, not folded to 2 kHz.
        let high = resample_any(&sine(6000.0, 22050, 500, 0.5), 22050, 8000);
        let level = rms_dbfs(&high[200..3800]);
        assert!(level < -40.0, "{level}");
        assert_eq!(resample_any(&input, 8000, 8000), input);
        assert!(resample_any(&[], 22050, 8000).is_empty());
    }

    #[test]
    fn resample_any_upsamples_odd_ratios() {
        let input = sine(440.0, 11025, 200, 0.5);
        let out = resample_any(&input, 11025, 16000);
        assert_eq!(out.len(), 3200);
        let body = &out[200..3000];
        assert!((rms_dbfs(body) - rms_dbfs(&input)).abs() < 1.0);
        assert!(goertzel_power(body, 440.0, 16000) > 1000.0 * goertzel_power(body, 700.0, 16000));
    }

    #[test]
    fn streaming_sinc_matches_whole_signal_in_any_split() {
        let input = sine(700.0, 22050, 300, 0.6);
        let whole = resample_any(&input, 22050, 8000);
        for split in [1usize, 7, 100, 441, 2205, 5000] {
            let mut rs = SincResampler::new(22050, 8000);
            let mut out = Vec::new();
            for piece in input.chunks(split) {
                rs.process(piece, &mut out);
            }
            rs.flush(&mut out);
            assert_eq!(out, whole, "split {split}");
            // Reusable after a flush.
            let mut again = Vec::new();
            rs.process(&input, &mut again);
            rs.flush(&mut again);
            assert_eq!(again, whole);
        }
    }

    #[test]
    fn streaming_sinc_emits_with_small_lookahead() {
        let mut rs = SincResampler::new(22050, 8000);
        let mut out = Vec::new();
        rs.process(&sine(300.0, 22050, 100, 0.5), &mut out); // 2205 in → 800 out eventually
        // All but the last ≈ 2 ms are out before the stream ends.
        assert!(out.len() >= 800 - 20, "{}", out.len());
        rs.flush(&mut out);
        assert_eq!(out.len(), 800);
    }
}
