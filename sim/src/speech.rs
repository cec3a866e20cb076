//! What the simulated network and people "say": 8 kHz μ-law audio, ready for a Media Stream.
//!
//! [`synthesize`] makes deterministic speech-like sound whose duration follows the text
//! ([`MS_PER_CHAR`] per letter or digit, short gaps at spaces and longer ones at punctuation):
//! a voiced source at 115–195 Hz with a few harmonics shaped by a per-letter "vowel" formant,
//! amplitude-modulated at syllable rate. Energy-based voice activity detectors (ours included)
//! see it as speech. It is not intelligible; [`synthesize_with_espeak`] is, when the
//! `espeak-ng` binary is installed. [`speak`] — what simulated callers say — uses espeak-ng
//! when it is installed and the synthetic signal otherwise; `SIM_VOICE=synthetic`
//! ([`VOICE_ENV`]) forces the synthetic one (deterministic durations). WAV decoding and
//! resampling live in [`voice::wav`] / [`voice::pcm`].
//!
//! [`tone`], [`beep`] and [`silence`] make the other sounds of a phone network.

use voice::mulaw;
use voice::tts::{EspeakTts, TtsProvider};

/// Sample rate of everything produced here (Twilio Media Streams: 8 kHz μ-law).
pub const SAMPLE_RATE: u32 = 8000;
/// Duration of each letter or digit in [`synthesize`].
pub const MS_PER_CHAR: u32 = 65;
/// Gap for a run of whitespace between words.
pub const WORD_GAP_MS: u32 = 70;
/// Gap for `,` `;` `:`.
pub const COMMA_GAP_MS: u32 = 200;
/// Gap for `.` `!` `?`.
pub const SENTENCE_GAP_MS: u32 = 300;
/// Frequency of [`beep`], like the beep of Twilio's `<Record>` and conference entry.
pub const BEEP_HZ: f32 = 1000.0;
/// Duration of [`beep`].
pub const BEEP_MS: u32 = 500;

/// Peak level of synthesized speech as a fraction of full scale.
const SPEECH_PEAK: f64 = 0.35;
/// Level of [`tone`] and [`beep`].
const TONE_AMPLITUDE: f32 = 0.3;
/// Edge fade of each word, in samples (8 ms), so words start and end without clicks.
const FADE_SAMPLES: usize = 64;
/// "Vowel" first formants chosen per character, in Hz.
const FORMANTS: [f64; 5] = [300.0, 500.0, 700.0, 400.0, 600.0];
const HARMONICS: usize = 6;

fn samples_for_ms(ms: u32) -> usize {
    (u64::from(ms) * u64::from(SAMPLE_RATE) / 1000) as usize
}

/// `ms` milliseconds of μ-law silence.
pub use voice::mulaw::silence;

/// A sine tone of `freq_hz` for `ms` milliseconds, μ-law, at the level of the network's
/// tones.
pub fn tone(freq_hz: f32, ms: u32) -> Vec<u8> {
    mulaw::tone(freq_hz, ms, TONE_AMPLITUDE)
}

/// The beep of a voicemail or a conference entry: [`BEEP_HZ`] for [`BEEP_MS`].
pub fn beep() -> Vec<u8> {
    tone(BEEP_HZ, BEEP_MS)
}

/// One piece of the text: voiced characters or a gap.
enum Segment {
    Voiced(Vec<char>),
    Gap(u32),
}

fn gap_ms(c: char) -> Option<u32> {
    match c {
        '.' | '!' | '?' => Some(SENTENCE_GAP_MS),
        ',' | ';' | ':' => Some(COMMA_GAP_MS),
        c if c.is_whitespace() => Some(WORD_GAP_MS),
        _ => None,
    }
}

fn segments(text: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            match out.last_mut() {
                Some(Segment::Voiced(chars)) => chars.push(c),
                _ => out.push(Segment::Voiced(vec![c])),
            }
        } else if let Some(ms) = gap_ms(c) {
            // A run of gap characters ("., " or "  ") makes one gap, the longest of them.
            match out.last_mut() {
                Some(Segment::Gap(g)) => *g = (*g).max(ms),
                _ => out.push(Segment::Gap(ms)),
            }
        }
        // Other characters (quotes, apostrophes, symbols) take no time.
    }
    // No leading gap: speech starts at once.
    if matches!(out.first(), Some(Segment::Gap(_))) {
        out.remove(0);
    }
    out
}

/// Speech-like μ-law audio for `text`, deterministic, [`MS_PER_CHAR`] per letter or digit.
/// Empty (or punctuation-only) text gives no audio.
pub fn synthesize(text: &str) -> Vec<u8> {
    let segs = segments(text);
    if !segs.iter().any(|s| matches!(s, Segment::Voiced(_))) {
        return Vec::new();
    }
    let mut pcm: Vec<i16> = Vec::new();
    let mut phase = 0.0f64; // of the fundamental, in cycles
    let sr = f64::from(SAMPLE_RATE);
    let char_len = samples_for_ms(MS_PER_CHAR);
    for seg in &segs {
        match seg {
            Segment::Gap(ms) => pcm.resize(pcm.len() + samples_for_ms(*ms), 0),
            Segment::Voiced(chars) => {
                let n = chars.len() * char_len;
                let syllables = chars.len().div_ceil(3).max(1);
                let syllable_len = n as f64 / syllables as f64;
                for i in 0..n {
                    let t = pcm.len() as f64 / sr; // global time: intonation runs on
                    let f0 = (155.0
                        + 30.0 * (2.0 * std::f64::consts::PI * 0.6 * t).sin()
                        + 10.0 * (2.0 * std::f64::consts::PI * 2.3 * t).sin())
                    .clamp(120.0, 200.0);
                    phase = (phase + f0 / sr).fract();
                    let c = chars[i / char_len];
                    let formant = FORMANTS[(c as usize) % FORMANTS.len()];
                    let mut sample = 0.0;
                    let mut norm = 0.0;
                    for k in 1..=HARMONICS {
                        let kf = k as f64;
                        let bump = (-((kf * f0 - formant) / 180.0).powi(2)).exp();
                        let weight = (1.0 / kf) * (0.4 + bump);
                        sample += weight * (2.0 * std::f64::consts::PI * kf * phase).sin();
                        norm += weight;
                    }
                    sample /= norm;
                    // Syllable-rate envelope: rises and falls within each syllable.
                    let within = (i as f64 % syllable_len) / syllable_len;
                    let mut env = 0.3 + 0.7 * (std::f64::consts::PI * within).sin();
                    let edge = i.min(n - 1 - i);
                    if edge < FADE_SAMPLES {
                        env *= edge as f64 / FADE_SAMPLES as f64;
                    }
                    pcm.push((sample * env * SPEECH_PEAK * f64::from(i16::MAX)).round() as i16);
                }
            }
        }
    }
    let mut out = Vec::with_capacity(pcm.len());
    mulaw::encode(&pcm, &mut out);
    out
}

/// Which speech [`speak`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    /// [`synthesize`]: deterministic speech-like sound, [`MS_PER_CHAR`] per letter.
    Synthetic,
    /// Intelligible speech from `espeak-ng` ([`voice::tts::EspeakTts`], the same text-to-speech
    /// the product can use), falling back to [`Voice::Synthetic`] when espeak-ng is not
    /// installed or fails.
    Espeak,
    /// CMU Flite's `slt` voice ([`voice::tts::FliteTts`]): the clearest offline voice for
    /// telephone audio; falls back to espeak-ng, then synthetic.
    Flite,
}

/// The environment variable choosing the simulated callers' voice: `synthetic`, `espeak`,
/// `flite`, or unset / `auto`: flite when installed, else espeak-ng, else synthetic.
pub const VOICE_ENV: &str = "SIM_VOICE";

impl Voice {
    /// The voice [`VOICE_ENV`] asks for: [`Voice::Synthetic`] for `synthetic`, otherwise
    /// (unset, `espeak`, `auto`) [`Voice::Espeak`].
    pub fn from_env() -> Self {
        match std::env::var(VOICE_ENV).map(|v| v.trim().to_ascii_lowercase()) {
            Ok(v) if v == "synthetic" => Voice::Synthetic,
            Ok(v) if v == "espeak" => Voice::Espeak,
            _ => Voice::Flite,
        }
    }

    /// μ-law 8 kHz audio of `text` in this voice. Empty (or punctuation-only) text gives none.
    pub async fn speak(self, text: &str) -> Vec<u8> {
        match self {
            Voice::Synthetic => synthesize(text),
            Voice::Flite if voice::tts::FliteTts::available() => {
                let spoken = async { flite().synthesize(text, None).await?.collect().await };
                match spoken.await {
                    Ok(audio) if !audio.is_empty() => audio,
                    _ => Box::pin(Voice::Espeak.speak(text)).await,
                }
            }
            Voice::Flite | Voice::Espeak => match synthesize_with_espeak(text).await {
                Some(audio) if !audio.is_empty() || synthesize(text).is_empty() => audio,
                _ => synthesize(text),
            },
        }
    }
}

/// The callers' flite, kept across calls: a load of many callers saying the same line
/// synthesizes it once, so the load generator takes less of the CPU the product under test
/// shares with it.
fn flite() -> &'static voice::tts::CachedTts {
    static FLITE: std::sync::OnceLock<voice::tts::CachedTts> = std::sync::OnceLock::new();
    FLITE.get_or_init(|| {
        voice::tts::CachedTts::new(std::sync::Arc::new(voice::tts::FliteTts::default()))
    })
}

/// What a simulated caller says: `text` in the voice [`VOICE_ENV`] chooses ([`Voice::from_env`]),
/// i.e. espeak-ng speech when it is installed, else the synthetic speech-like signal.
pub async fn speak(text: &str) -> Vec<u8> {
    Voice::from_env().speak(text).await
}

/// Intelligible speech from `espeak-ng` (voice `en-us`) via [`voice::tts::EspeakTts`], 8 kHz
/// μ-law. `None` when the binary is missing or fails.
pub async fn synthesize_with_espeak(text: &str) -> Option<Vec<u8>> {
    if !EspeakTts::available() {
        return None;
    }
    let stream = EspeakTts::default().synthesize(text, None).await.ok()?;
    stream.collect().await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use voice::pcm::{goertzel_power, rms_dbfs};
    use voice::vad::{Vad, VadConfig, VadEvent};

    fn pcm(mulaw_bytes: &[u8]) -> Vec<i16> {
        let mut out = Vec::new();
        mulaw::decode(mulaw_bytes, &mut out);
        out
    }

    fn vad_events(audio: &[i16]) -> Vec<(usize, VadEvent)> {
        let mut vad = Vad::new(VadConfig::default());
        let mut events = Vec::new();
        // Lead-in silence, as a real call has before anyone talks.
        for _ in 0..10 {
            vad.push(&[0i16; 160]);
        }
        for (i, frame) in audio.chunks(160).enumerate() {
            if let Some(e) = vad.push(frame) {
                events.push((i, e));
            }
        }
        for i in 0..40 {
            if let Some(e) = vad.push(&[0i16; 160]) {
                events.push((audio.len() / 160 + i, e));
            }
        }
        events
    }

    #[test]
    fn duration_follows_the_text() {
        assert_eq!(synthesize("hello").len(), 5 * 65 * 8);
        // 10 letters, one word gap, a sentence gap at the end.
        assert_eq!(
            synthesize("hello world.").len(),
            (10 * 65 + WORD_GAP_MS as usize + SENTENCE_GAP_MS as usize) * 8
        );
        // Runs of gap characters collapse to the longest; leading gaps are dropped.
        assert_eq!(
            synthesize("  hi,  there").len(),
            (7 * 65 + COMMA_GAP_MS as usize) * 8
        );
        assert!(synthesize("").is_empty());
        assert!(synthesize(" ... ").is_empty());
        let long = synthesize("I would like to book an appointment for tomorrow morning please");
        let ms = long.len() / 8;
        assert!((3000..5500).contains(&ms), "{ms} ms");
    }

    #[test]
    fn synthesis_is_deterministic() {
        assert_eq!(
            synthesize("Hi, this is Sam."),
            synthesize("Hi, this is Sam.")
        );
        assert_ne!(synthesize("aaaa"), synthesize("oooo"));
    }

    #[test]
    fn vad_hears_one_utterance() {
        let audio = pcm(&synthesize(
            "Hello, I am calling about my order, it has not arrived.",
        ));
        let events = vad_events(&audio);
        assert_eq!(
            events.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
            [VadEvent::SpeechStarted, VadEvent::SpeechEnded],
            "{events:?}"
        );
        // Starts within the first 100 ms, ends only after the audio does.
        assert!(events[0].0 <= 5, "{events:?}");
        assert!(events[1].0 >= audio.len() / 160, "{events:?}");
        let level = rms_dbfs(&audio);
        assert!((-30.0..-8.0).contains(&level), "{level} dBFS");
    }

    #[test]
    fn energy_is_voice_band_with_gaps_at_spaces() {
        let audio = pcm(&synthesize("abc def"));
        let low: f64 = [150.0f32, 300.0, 450.0]
            .iter()
            .map(|&f| goertzel_power(&audio, f, 8000))
            .sum();
        let high = goertzel_power(&audio, 3000.0, 8000);
        assert!(low > 100.0 * high, "low {low} high {high}");
        // The word gap (after 3 × 65 ms) is digital silence.
        let gap_start = 3 * 65 * 8;
        assert!(
            audio[gap_start + 8..gap_start + 60 * 8]
                .iter()
                .all(|&s| s == 0)
        );
        // Amplitude varies within a word (syllable modulation).
        let frames: Vec<f32> = audio[..gap_start].chunks(80).map(rms_dbfs).collect();
        let (min, max) = frames[1..frames.len() - 1]
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(max - min > 4.0, "{frames:?}");
    }

    #[test]
    fn tone_beep_and_silence() {
        let s = silence(100);
        assert_eq!(s.len(), 800);
        assert!(pcm(&s).iter().all(|&x| x == 0));
        let b = pcm(&beep());
        assert_eq!(b.len(), BEEP_MS as usize * 8);
        let at = goertzel_power(&b, 1000.0, 8000);
        assert!(at > 100.0 * goertzel_power(&b, 1300.0, 8000));
        let t = pcm(&tone(440.0, 200));
        assert_eq!(t.len(), 1600);
        assert!(goertzel_power(&t, 440.0, 8000) > 100.0 * goertzel_power(&t, 1000.0, 8000));
    }

    #[tokio::test]
    async fn espeak_when_installed() {
        match synthesize_with_espeak("Hello, this is a test.").await {
            None => assert!(
                !EspeakTts::available(),
                "espeak-ng is installed but produced nothing"
            ),
            Some(audio) => {
                let ms = audio.len() / 8;
                assert!((500..5000).contains(&ms), "{ms} ms");
                let events = vad_events(&pcm(&audio));
                assert_eq!(events.first().map(|e| e.1), Some(VadEvent::SpeechStarted));
            }
        }
    }

    #[tokio::test]
    async fn voices_speak() {
        let text = "Hi, I would like to book an appointment.";
        assert_eq!(Voice::Synthetic.speak(text).await, synthesize(text));
        let espeak = Voice::Espeak.speak(text).await;
        if EspeakTts::available() {
            assert_ne!(espeak, synthesize(text));
            let ms = espeak.len() / 8;
            assert!((1000..5000).contains(&ms), "{ms} ms");
        } else {
            assert_eq!(
                espeak,
                synthesize(text),
                "falls back to the synthetic voice"
            );
        }
        assert!(Voice::Espeak.speak("").await.is_empty());
        assert!(Voice::Synthetic.speak(" ... ").await.is_empty());
    }
}
