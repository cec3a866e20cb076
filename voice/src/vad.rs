//! Energy-based voice activity detection on 20 ms frames of 8 kHz PCM (160 samples).
//!
//! Each frame's RMS level (dBFS) is compared with an adaptive noise floor: a frame is speech
//! when it is at least [`VadConfig::threshold_db`] above the floor and louder than
//! [`VadConfig::min_speech_dbfs`]. Speech starts after [`VadConfig::start_frames`] consecutive
//! speech frames and ends after [`VadConfig::end_frames`] consecutive non-speech frames (the
//! hangover); while speaking the threshold drops by [`VadConfig::hysteresis_db`] so trailing
//! syllables do not cut out.
//!
//! The floor follows quieter frames quickly and louder ones slowly (and very slowly during
//! speech), so it tracks the line noise, not the talker. It is seeded from the first frame,
//! capped at [`VadConfig::max_initial_floor_dbfs`] so that a caller who talks straight away is
//! still detected.

use crate::pcm::rms_dbfs;

/// What the detector decides for a frame, when it changes state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    SpeechStarted,
    SpeechEnded,
}

/// Tuning of a [`Vad`]. Frame counts are in pushed frames (20 ms each at 160 samples/8 kHz).
#[derive(Debug, Clone, PartialEq)]
pub struct VadConfig {
    /// Consecutive speech frames before [`VadEvent::SpeechStarted`] (3 = 60 ms).
    pub start_frames: u32,
    /// Consecutive non-speech frames before [`VadEvent::SpeechEnded`] (20 = 400 ms).
    pub end_frames: u32,
    /// How far above the noise floor a frame must be to count as speech, in dB.
    pub threshold_db: f32,
    /// While speaking, the threshold is lowered by this much (hysteresis), in dB.
    pub hysteresis_db: f32,
    /// Frames quieter than this never count as speech, whatever the floor.
    pub min_speech_dbfs: f32,
    /// The first frame seeds the noise floor, but never above this level.
    pub max_initial_floor_dbfs: f32,
    /// Fraction of the gap closed per frame when a frame is quieter than the floor.
    pub floor_fall: f32,
    /// Fraction of the gap closed per frame when a non-speech frame is louder than the floor.
    pub floor_rise: f32,
    /// Maximum rise of the floor per speech frame, in dB (lets a persistent loud noise become
    /// the new floor eventually without letting the talker's voice raise it noticeably).
    pub floor_rise_in_speech_db: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            start_frames: 3,
            end_frames: 20,
            threshold_db: 12.0,
            hysteresis_db: 3.0,
            min_speech_dbfs: -50.0,
            max_initial_floor_dbfs: -45.0,
            floor_fall: 0.3,
            floor_rise: 0.05,
            floor_rise_in_speech_db: 0.02,
        }
    }
}

/// Level given to digital silence, so the floor arithmetic stays finite.
const SILENCE_DBFS: f32 = -100.0;

/// Voice activity detector; feed it every frame with [`Vad::push`].
#[derive(Debug, Clone)]
pub struct Vad {
    config: VadConfig,
    /// `None` until the first frame.
    floor_dbfs: Option<f32>,
    speaking: bool,
    /// Consecutive frames that argue for a state change (speech while silent, or silence
    /// while speaking).
    run: u32,
}

impl Vad {
    pub fn new(config: VadConfig) -> Self {
        Self {
            config,
            floor_dbfs: None,
            speaking: false,
            run: 0,
        }
    }

    /// Process one frame; returns an event when speech starts or ends on this frame.
    pub fn push(&mut self, frame: &[i16]) -> Option<VadEvent> {
        let level = rms_dbfs(frame).max(SILENCE_DBFS);
        let cfg = &self.config;
        let floor = *self
            .floor_dbfs
            .get_or_insert(level.min(cfg.max_initial_floor_dbfs));
        let threshold = if self.speaking {
            cfg.threshold_db - cfg.hysteresis_db
        } else {
            cfg.threshold_db
        };
        let is_speech = level >= cfg.min_speech_dbfs && level >= floor + threshold;

        let new_floor = if level < floor {
            floor + cfg.floor_fall * (level - floor)
        } else if is_speech {
            floor + (level - floor).min(cfg.floor_rise_in_speech_db)
        } else {
            floor + cfg.floor_rise * (level - floor)
        };
        self.floor_dbfs = Some(new_floor);

        if is_speech != self.speaking {
            self.run += 1;
        } else {
            self.run = 0;
        }
        if !self.speaking && self.run >= cfg.start_frames {
            self.speaking = true;
            self.run = 0;
            Some(VadEvent::SpeechStarted)
        } else if self.speaking && self.run >= cfg.end_frames {
            self.speaking = false;
            self.run = 0;
            Some(VadEvent::SpeechEnded)
        } else {
            None
        }
    }

    /// Whether speech has started and not yet ended.
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Current noise-floor estimate in dBFS (`None` before the first frame).
    pub fn noise_floor_dbfs(&self) -> Option<f32> {
        self.floor_dbfs
    }

    /// Forget the noise floor and any speech in progress (e.g. at a new call).
    pub fn reset(&mut self) {
        self.floor_dbfs = None;
        self.speaking = false;
        self.run = 0;
    }
}

impl Default for Vad {
    fn default() -> Self {
        Self::new(VadConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mulaw;

    const FRAME: usize = 160;

    /// Deterministic white noise with the given RMS level in dBFS (xorshift, uniform).
    struct Noise(u64);

    impl Noise {
        fn frame(&mut self, dbfs: f32) -> Vec<i16> {
            // Uniform on [-a, a] has RMS a / sqrt(3).
            let a = 32768.0 * 10f64.powf(f64::from(dbfs) / 20.0) * 3f64.sqrt();
            (0..FRAME)
                .map(|_| {
                    self.0 ^= self.0 << 13;
                    self.0 ^= self.0 >> 7;
                    self.0 ^= self.0 << 17;
                    let unit = (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
                    (a * unit).round() as i16
                })
                .collect()
        }
    }

    /// Voiced-speech-like frame: 150 Hz fundamental with harmonics, amplitude modulated at
    /// 4 Hz (syllables), RMS around `dbfs` at the peaks of the modulation.
    fn voiced_frame(index: usize, dbfs: f32) -> Vec<i16> {
        let peak_rms = 32768.0 * 10f64.powf(f64::from(dbfs) / 20.0);
        // Harmonic amplitudes 1, 0.6, 0.4, 0.25 → RMS = sqrt(sum a²/2).
        let harmonics = [(1.0, 1.0), (2.0, 0.6), (3.0, 0.4), (5.0, 0.25)];
        let norm: f64 = harmonics
            .iter()
            .map(|(_, a)| a * a / 2.0)
            .sum::<f64>()
            .sqrt();
        (0..FRAME)
            .map(|i| {
                let t = (index * FRAME + i) as f64 / 8000.0;
                let envelope = 0.65 + 0.35 * (2.0 * std::f64::consts::PI * 4.0 * t).cos();
                let wave: f64 = harmonics
                    .iter()
                    .map(|(h, a)| a * (2.0 * std::f64::consts::PI * 150.0 * h * t).sin())
                    .sum();
                (peak_rms * envelope * wave / norm).round() as i16
            })
            .collect()
    }

    fn add(a: &[i16], b: &[i16]) -> Vec<i16> {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| x.saturating_add(y))
            .collect()
    }

    /// 1 s of −60 dBFS noise, 1 s of −20 dBFS speech on top of it, 1 s of noise again.
    fn noise_speech_noise() -> Vec<Vec<i16>> {
        let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
        (0..150)
            .map(|i| {
                let n = noise.frame(-60.0);
                if (50..100).contains(&i) {
                    add(&n, &voiced_frame(i, -20.0))
                } else {
                    n
                }
            })
            .collect()
    }

    fn events(vad: &mut Vad, frames: &[Vec<i16>]) -> Vec<(usize, VadEvent)> {
        frames
            .iter()
            .enumerate()
            .filter_map(|(i, f)| vad.push(f).map(|e| (i, e)))
            .collect()
    }

    #[test]
    fn silence_gives_no_events() {
        let mut vad = Vad::default();
        for _ in 0..500 {
            assert_eq!(vad.push(&[0; FRAME]), None);
        }
        assert!(!vad.is_speaking());
    }

    #[test]
    fn steady_noise_gives_no_events() {
        for dbfs in [-70.0, -60.0, -45.0, -35.0] {
            let mut noise = Noise(42);
            let mut vad = Vad::default();
            for i in 0..500 {
                assert_eq!(vad.push(&noise.frame(dbfs)), None, "{dbfs} dBFS, frame {i}");
            }
        }
    }

    #[test]
    fn speech_over_low_noise_starts_and_ends_after_hangover() {
        let frames = noise_speech_noise();
        let mut vad = Vad::default();
        let got = events(&mut vad, &frames);
        // Speech begins at frame 50: detected on its 3rd frame (60 ms).
        // Speech stops at frame 100: ends on the 20th quiet frame (400 ms hangover).
        assert_eq!(
            got,
            vec![(52, VadEvent::SpeechStarted), (119, VadEvent::SpeechEnded)]
        );
        assert!(!vad.is_speaking());
        let floor = vad.noise_floor_dbfs().unwrap();
        assert!((-65.0..-55.0).contains(&floor), "floor {floor}");
    }

    #[test]
    fn is_speaking_follows_events() {
        let frames = noise_speech_noise();
        let mut vad = Vad::default();
        for (i, f) in frames.iter().enumerate() {
            vad.push(f);
            assert_eq!(vad.is_speaking(), (52..119).contains(&i), "frame {i}");
        }
    }

    #[test]
    fn mulaw_round_trip_gives_the_same_events() {
        let frames = noise_speech_noise();
        let through_mulaw: Vec<Vec<i16>> = frames
            .iter()
            .map(|f| {
                let mut bytes = Vec::new();
                mulaw::encode(f, &mut bytes);
                let mut pcm = Vec::new();
                mulaw::decode(&bytes, &mut pcm);
                pcm
            })
            .collect();
        let direct = events(&mut Vad::default(), &frames);
        let coded = events(&mut Vad::default(), &through_mulaw);
        assert_eq!(direct, coded);
        assert_eq!(direct.len(), 2);
    }

    #[test]
    fn short_pause_does_not_end_speech() {
        let mut noise = Noise(7);
        let mut vad = Vad::default();
        let mut got = Vec::new();
        for i in 0..200 {
            let n = noise.frame(-60.0);
            // Speech 40..80, a 200 ms pause, speech 90..130.
            let speech = (40..80).contains(&i) || (90..130).contains(&i);
            let frame = if speech {
                add(&n, &voiced_frame(i, -25.0))
            } else {
                n
            };
            if let Some(e) = vad.push(&frame) {
                got.push((i, e));
            }
        }
        assert_eq!(
            got,
            vec![(42, VadEvent::SpeechStarted), (149, VadEvent::SpeechEnded)]
        );
    }

    #[test]
    fn a_click_does_not_start_speech() {
        let mut noise = Noise(11);
        let mut vad = Vad::default();
        for i in 0..100 {
            let n = noise.frame(-60.0);
            let frame = if i == 30 || i == 31 {
                add(&n, &voiced_frame(i, -10.0))
            } else {
                n
            };
            assert_eq!(vad.push(&frame), None, "frame {i}");
        }
    }

    #[test]
    fn speech_from_the_first_frame_is_detected() {
        let mut vad = Vad::default();
        let mut noise = Noise(3);
        let got: Vec<_> = (0..10)
            .filter_map(|i| {
                vad.push(&add(&noise.frame(-60.0), &voiced_frame(i, -20.0)))
                    .map(|e| (i, e))
            })
            .collect();
        assert_eq!(got, vec![(2, VadEvent::SpeechStarted)]);
    }

    #[test]
    fn reset_forgets_state() {
        let frames = noise_speech_noise();
        let mut vad = Vad::default();
        for f in &frames[..60] {
            vad.push(f);
        }
        assert!(vad.is_speaking());
        vad.reset();
        assert!(!vad.is_speaking());
        assert_eq!(vad.noise_floor_dbfs(), None);
    }
}
