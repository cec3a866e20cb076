//! Streaming sample-rate conversion for mono 16-bit PCM between the rates a voice call meets:
//! 8 kHz (Twilio μ-law), 16 kHz (speech-to-text), 24 kHz (speech-to-speech / TTS output) and
//! 48 kHz.
//!
//! Built on rubato's `FftFixedInOut` with a chunk of one 20 ms frame of input. Input of any
//! length is buffered internally until a whole chunk is there, so feeding exact 20 ms frames
//! adds no buffering delay; the filter's own delay is [`Resampler::delay_samples`]. The
//! overlap-add state carries across calls, so frame boundaries are inaudible. All buffers are
//! allocated in [`Resampler::new`]; [`Resampler::process`] only grows the caller's `out`.

use rubato::{FftFixedInOut, Resampler as _};

/// Sample rates [`Resampler::new`] accepts.
pub const SUPPORTED_RATES: [u32; 4] = [8000, 16000, 24000, 48000];

/// Why a [`Resampler`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error("unsupported sample rate {0} Hz (supported: 8000, 16000, 24000, 48000)")]
    UnsupportedRate(u32),
    #[error("could not build the resampler: {0}")]
    Construction(#[from] rubato::ResamplerConstructionError),
}

/// Streaming mono i16 resampler; see the module documentation.
pub struct Resampler {
    inner: Option<Fft>,
}

/// The FFT resampler and its reusable buffers (absent for a passthrough).
struct Fft {
    rubato: FftFixedInOut<f32>,
    /// One channel of exactly `chunk_in` samples; the first `filled` are pending input.
    input: Vec<Vec<f32>>,
    filled: usize,
    /// One channel of exactly `chunk_out` samples.
    output: Vec<Vec<f32>>,
    chunk_in: usize,
    chunk_out: usize,
    from_hz: u64,
    to_hz: u64,
    /// Input samples accepted and output samples emitted since the last flush, so that
    /// `flush` can emit exactly the right tail.
    total_in: u64,
    total_out: u64,
}

impl Resampler {
    /// Streaming resampler between 8000, 16000, 24000 (and 48000) Hz, mono i16.
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, ResampleError> {
        for hz in [from_hz, to_hz] {
            if !SUPPORTED_RATES.contains(&hz) {
                return Err(ResampleError::UnsupportedRate(hz));
            }
        }
        if from_hz == to_hz {
            return Ok(Self { inner: None });
        }
        let frame_in = from_hz as usize / 50; // 20 ms
        let rubato = FftFixedInOut::<f32>::new(from_hz as usize, to_hz as usize, frame_in, 1)?;
        let chunk_in = rubato.input_frames_next();
        let chunk_out = rubato.output_frames_next();
        Ok(Self {
            inner: Some(Fft {
                rubato,
                input: vec![vec![0.0; chunk_in]],
                filled: 0,
                output: vec![vec![0.0; chunk_out]],
                chunk_in,
                chunk_out,
                from_hz: u64::from(from_hz),
                to_hz: u64::from(to_hz),
                total_in: 0,
                total_out: 0,
            }),
        })
    }

    /// Feed any number of samples (typically one 20 ms frame); appends the resampled output to `out`.
    /// State carries across calls: no clicks at frame edges.
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let Some(fft) = &mut self.inner else {
            out.extend_from_slice(input);
            return;
        };
        fft.total_in += input.len() as u64;
        let mut rest = input;
        while !rest.is_empty() {
            let take = (fft.chunk_in - fft.filled).min(rest.len());
            let (now, later) = rest.split_at(take);
            for (dst, &src) in fft.input[0][fft.filled..fft.filled + take]
                .iter_mut()
                .zip(now)
            {
                *dst = f32::from(src);
            }
            fft.filled += take;
            rest = later;
            if fft.filled == fft.chunk_in {
                fft.run_chunk(out, fft.chunk_out);
            }
        }
    }

    /// Emit what is still buffered (end of stream), padding with silence.
    ///
    /// After a flush the output holds every input sample (shifted by [`Self::delay_samples`]):
    /// in total `delay_samples() + ceil(input_len * to / from)` samples since the previous
    /// flush, nothing if there was no input. The resampler is then back in its initial state and can be reused.
    pub fn flush(&mut self, out: &mut Vec<i16>) {
        let Some(fft) = &mut self.inner else {
            return;
        };
        if fft.total_in == 0 {
            return;
        }
        let wanted =
            (fft.total_in * fft.to_hz).div_ceil(fft.from_hz) + fft.rubato.output_delay() as u64;
        // At most two chunks remain: the partial one (padded) and the filter's overlap, which
        // one chunk of silence pushes out (the overlap is shorter than a chunk).
        while fft.total_out < wanted {
            fft.input[0][fft.filled..].fill(0.0);
            fft.filled = fft.chunk_in;
            let missing = (wanted - fft.total_out).min(fft.chunk_out as u64) as usize;
            fft.run_chunk(out, missing);
        }
        // Everything wanted is out, but the filter's overlap may still hold the ringing of the
        // last chunk: push it out with silence so the next stream starts clean.
        fft.input[0].fill(0.0);
        fft.filled = fft.chunk_in;
        fft.run_chunk(&mut Vec::new(), 0);
        fft.total_in = 0;
        fft.total_out = 0;
    }

    /// Algorithmic delay in output samples.
    ///
    /// This is the filter delay (half an output chunk, i.e. 10 ms) for input fed in whole
    /// 20 ms frames; input fed in other sizes also waits in the internal buffer until a frame
    /// is complete. Zero for a passthrough.
    pub fn delay_samples(&self) -> usize {
        self.inner
            .as_ref()
            .map_or(0, |fft| fft.rubato.output_delay())
    }

    /// Input samples per internal chunk (one 20 ms frame at the input rate; 0 for a passthrough).
    pub fn chunk_in(&self) -> usize {
        self.inner.as_ref().map_or(0, |fft| fft.chunk_in)
    }
}

impl Fft {
    /// Resample the full input chunk and append the first `keep` output samples to `out`.
    fn run_chunk(&mut self, out: &mut Vec<i16>, keep: usize) {
        self.rubato
            .process_into_buffer(&self.input, &mut self.output, None)
            .expect("buffers are sized from the resampler's own chunk sizes");
        self.filled = 0;
        out.extend(
            self.output[0][..keep]
                .iter()
                .map(|&v| v.round().clamp(-32768.0, 32767.0) as i16),
        );
        self.total_out += keep as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcm::{goertzel_power, rms_dbfs, sine};

    fn run_frames(rs: &mut Resampler, input: &[i16], frame: usize) -> Vec<i16> {
        let mut out = Vec::new();
        for chunk in input.chunks(frame) {
            rs.process(chunk, &mut out);
        }
        out
    }

    fn max_jump(samples: &[i16]) -> i32 {
        samples
            .windows(2)
            .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn resampler_can_move_between_tasks() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<Resampler>();
    }

    #[test]
    fn rejects_unsupported_rates() {
        assert!(matches!(
            Resampler::new(44100, 16000),
            Err(ResampleError::UnsupportedRate(44100))
        ));
        assert!(matches!(
            Resampler::new(8000, 0),
            Err(ResampleError::UnsupportedRate(0))
        ));
    }

    #[test]
    fn same_rate_is_passthrough() {
        let mut rs = Resampler::new(16000, 16000).unwrap();
        let input = sine(440.0, 16000, 20, 0.5);
        let mut out = Vec::new();
        rs.process(&input, &mut out);
        rs.flush(&mut out);
        assert_eq!(out, input);
        assert_eq!(rs.delay_samples(), 0);
    }

    #[test]
    fn one_khz_survives_8k_16k_8k_round_trip() {
        let input = sine(1000.0, 8000, 2000, 0.5);
        let mut up = Resampler::new(8000, 16000).unwrap();
        let mut down = Resampler::new(16000, 8000).unwrap();
        let wide = run_frames(&mut up, &input, 160);
        let back = run_frames(&mut down, &wide, 320);
        let skip = up.delay_samples() / 2 + down.delay_samples() + 160;
        let steady = &back[skip..back.len() - 160];
        let level_in = rms_dbfs(&input);
        let level_out = rms_dbfs(steady);
        assert!(
            (level_in - level_out).abs() < 1.0,
            "level {level_in} dBFS → {level_out} dBFS"
        );
        let at = goertzel_power(steady, 1000.0, 8000);
        for neighbour in [700.0, 1300.0, 2000.0] {
            let off = goertzel_power(steady, neighbour, 8000);
            assert!(at > 1000.0 * off, "1 kHz {at} vs {neighbour} Hz {off}");
        }
        // Zero crossings: 2 per period, 2000 periods/s.
        let crossings = steady
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count() as f64;
        let expected = 2.0 * 1000.0 * steady.len() as f64 / 8000.0;
        assert!(
            (crossings - expected).abs() <= 2.0,
            "{crossings} vs {expected}"
        );
    }

    #[test]
    fn twenty_ms_in_gives_twenty_ms_out() {
        for (from, to) in [
            (8000, 16000),
            (16000, 8000),
            (8000, 24000),
            (24000, 8000),
            (24000, 16000),
            (16000, 24000),
            (48000, 8000),
            (8000, 48000),
        ] {
            let mut rs = Resampler::new(from, to).unwrap();
            let frame_in = from as usize / 50;
            let frame_out = to as usize / 50;
            let input = sine(300.0, from, 2000, 0.3);
            let mut out = Vec::new();
            for (i, frame) in input.chunks(frame_in).enumerate() {
                rs.process(frame, &mut out);
                // Whole frames in: every frame comes straight out.
                assert_eq!(out.len(), (i + 1) * frame_out, "{from}→{to}");
            }
            assert_eq!(out.len(), 100 * frame_out, "{from}→{to}");
        }
    }

    #[test]
    fn odd_input_sizes_average_out() {
        let mut rs = Resampler::new(8000, 16000).unwrap();
        let input = sine(300.0, 8000, 2000, 0.3);
        let mut out = Vec::new();
        let mut rest = &input[..];
        let sizes = [1usize, 7, 159, 160, 161, 333, 80];
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            rs.process(&rest[..n], &mut out);
            rest = &rest[n..];
            i += 1;
        }
        // 100 frames of 160 in → 100 * 320 out, ± one frame still buffered.
        assert!(out.len().abs_diff(100 * 320) <= 320, "{}", out.len());
        // Same samples as feeding whole frames.
        let mut whole = Resampler::new(8000, 16000).unwrap();
        assert_eq!(out, run_frames(&mut whole, &input, 160));
    }

    #[test]
    fn ratios_keep_tone_and_level() {
        for (from, to) in [(24000, 8000), (8000, 24000), (16000, 8000), (8000, 16000)] {
            let mut rs = Resampler::new(from, to).unwrap();
            let input = sine(500.0, from, 1000, 0.4);
            let out = run_frames(&mut rs, &input, from as usize / 50);
            assert_eq!(out.len(), to as usize, "{from}→{to}");
            let steady = &out[rs.delay_samples() + to as usize / 50..];
            let level = rms_dbfs(steady);
            assert!(
                (level - rms_dbfs(&input)).abs() < 0.5,
                "{from}→{to}: {level}"
            );
            let at = goertzel_power(steady, 500.0, to);
            let off = goertzel_power(steady, 800.0, to);
            assert!(at > 1000.0 * off, "{from}→{to}: {at} vs {off}");
        }
    }

    #[test]
    fn downsampling_removes_content_above_new_nyquist() {
        // 6 kHz at 24 kHz cannot exist at 8 kHz: it must be filtered, not aliased to 2 kHz.
        let mut rs = Resampler::new(24000, 8000).unwrap();
        let input = sine(6000.0, 24000, 500, 0.5);
        let out = run_frames(&mut rs, &input, 480);
        let level = rms_dbfs(&out[rs.delay_samples() + 160..]);
        assert!(level < -50.0, "{level} dBFS");
    }

    #[test]
    fn delay_matches_output_alignment() {
        let mut rs = Resampler::new(8000, 16000).unwrap();
        let input = sine(400.0, 8000, 500, 0.5);
        let out = run_frames(&mut rs, &input, 160);
        let ideal = sine(400.0, 16000, 500, 0.5);
        let d = rs.delay_samples();
        assert_eq!(d, 160);
        let err: f64 = out[d + 320..out.len()]
            .iter()
            .zip(&ideal[320..])
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
            .fold(0.0, f64::max);
        assert!(err < 200.0, "max error {err} after shifting by {d}");
    }

    #[test]
    fn no_clicks_at_frame_edges() {
        for (from, to) in [(8000, 16000), (16000, 8000), (24000, 8000), (8000, 24000)] {
            let mut rs = Resampler::new(from, to).unwrap();
            let input = sine(200.0, from, 1000, 0.8);
            let out = run_frames(&mut rs, &input, from as usize / 50);
            let frame_out = to as usize / 50;
            let steady = &out[rs.delay_samples() + frame_out..];
            // A 200 Hz sine of peak A moves at most A * 2π * 200 / rate per sample.
            let bound = 0.8 * 32767.0 * 2.0 * std::f64::consts::PI * 200.0 / f64::from(to);
            let jump = max_jump(steady);
            assert!(
                f64::from(jump) < bound * 1.05,
                "{from}→{to}: jump {jump} > {bound}"
            );
            // Jumps across frame edges look like the ones inside frames.
            let edge_jump = steady
                .chunks(frame_out)
                .zip(steady.chunks(frame_out).skip(1))
                .map(|(a, b)| (i32::from(b[0]) - i32::from(*a.last().unwrap())).abs())
                .max()
                .unwrap();
            assert!(edge_jump <= jump, "{from}→{to}: edge {edge_jump} vs {jump}");
        }
    }

    #[test]
    fn flush_emits_the_tail_and_resets() {
        let mut rs = Resampler::new(8000, 16000).unwrap();
        let input = sine(300.0, 8000, 50, 0.5); // 400 samples: 2.5 frames
        let mut out = Vec::new();
        rs.process(&input, &mut out);
        assert_eq!(out.len(), 640);
        rs.flush(&mut out);
        assert_eq!(out.len(), 800 + rs.delay_samples());
        // The flushed tail is the end of the signal, in place after the delay.
        let d = rs.delay_samples();
        let ideal = sine(300.0, 16000, 50, 0.5);
        let err = out[d + 600..]
            .iter()
            .zip(&ideal[600..])
            .map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs())
            .max()
            .unwrap();
        assert!(err < 500, "max error in the flushed tail {err}");
        // A second stream through the same resampler matches a fresh one.
        let mut again = Vec::new();
        rs.process(&input, &mut again);
        rs.flush(&mut again);
        assert_eq!(again, out);
        // Flushing with nothing pending emits nothing.
        let mut empty = Vec::new();
        rs.flush(&mut empty);
        assert!(empty.is_empty());
    }
}
