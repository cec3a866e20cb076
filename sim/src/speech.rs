//! What the simulated network and people "say": 8 kHz μ-law audio, ready for a Media Stream.
//!
//! [`synthesize`] makes deterministic speech-like sound whose duration follows the text
//! ([`MS_PER_CHAR`] per letter or digit, short gaps at spaces and longer ones at punctuation):
//! a voiced source at 115–195 Hz with a few harmonics shaped by a per-letter "vowel" formant,
//! amplitude-modulated at syllable rate. Energy-based voice activity detectors (ours included)
//! see it as speech. It is not intelligible; [`synthesize_with_espeak`] is, when the
//! `espeak-ng` binary is installed, and callers choose which one to use.
//!
//! [`tone`], [`beep`] and [`silence`] make the other sounds of a phone network.

use std::io::Write;
use std::process::{Command, Stdio};

use voice::mulaw;

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
pub fn silence(ms: u32) -> Vec<u8> {
    vec![mulaw::encode_sample(0); samples_for_ms(ms)]
}

/// A sine tone of `freq_hz` for `ms` milliseconds, μ-law.
pub fn tone(freq_hz: f32, ms: u32) -> Vec<u8> {
    let pcm = voice::pcm::sine(freq_hz, SAMPLE_RATE, ms, TONE_AMPLITUDE);
    let mut out = Vec::with_capacity(pcm.len());
    mulaw::encode(&pcm, &mut out);
    out
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

/// Intelligible speech from `espeak-ng --stdout -v en-us` (text on its stdin), resampled to
/// 8 kHz μ-law. `None` when the binary is missing or fails, or its output is not a WAV file.
pub fn synthesize_with_espeak(text: &str) -> Option<Vec<u8>> {
    let mut child = Command::new("espeak-ng")
        .args(["--stdout", "-v", "en-us"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let text = text.to_owned();
    // Write from another thread: espeak may start writing audio before it has read all text.
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let output = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    if !output.status.success() {
        return None;
    }
    let (rate, pcm) = parse_wav(&output.stdout)?;
    let pcm = resample(&pcm, rate, SAMPLE_RATE);
    let mut out = Vec::with_capacity(pcm.len());
    mulaw::encode(&pcm, &mut out);
    Some(out)
}

/// Reads a 16-bit PCM WAV leniently: `(sample_rate, mono samples)`. Unlike a strict reader it
/// accepts the placeholder chunk sizes of a WAV streamed to a pipe (as `espeak-ng --stdout`
/// writes), taking whatever data follows. Stereo is averaged to mono.
pub fn parse_wav(bytes: &[u8]) -> Option<(u32, Vec<i16>)> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut pos = 12;
    let mut format: Option<(u16, u32)> = None; // (channels, rate)
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(pos + 4) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len() || u16_at(body) != 1 || u16_at(body + 14) != 16 {
                return None;
            }
            format = Some((u16_at(body + 2).max(1), u32_at(body + 4)));
        } else if id == b"data" {
            let (channels, rate) = format?;
            let end = body.saturating_add(size).min(bytes.len());
            let samples = voice::pcm::i16_from_le_bytes(&bytes[body..end]);
            let mono = samples
                .chunks(usize::from(channels))
                .filter(|frame| frame.len() == usize::from(channels))
                .map(|frame| {
                    (frame.iter().map(|&s| i32::from(s)).sum::<i32>() / i32::from(channels)) as i16
                })
                .collect();
            return Some((rate, mono));
        }
        pos = body.saturating_add(size + (size & 1));
    }
    None
}

/// Resamples mono PCM between any two rates with a Hann-windowed sinc (low-pass at 95 % of the
/// lower Nyquist frequency, so downsampling does not alias). Offline quality, not real-time.
pub fn resample(input: &[i16], from_hz: u32, to_hz: u32) -> Vec<i16> {
    if from_hz == to_hz || input.is_empty() || from_hz == 0 || to_hz == 0 {
        return input.to_vec();
    }
    const ZERO_CROSSINGS: f64 = 16.0;
    let step = f64::from(from_hz) / f64::from(to_hz); // input samples per output sample
    let cutoff = (1.0 / step).min(1.0) * 0.95; // relative to the input Nyquist
    let half_width = ZERO_CROSSINGS / cutoff; // in input samples
    let out_len = (input.len() as u64 * u64::from(to_hz) / u64::from(from_hz)) as usize;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let t = n as f64 * step;
        let first = (t - half_width).ceil().max(0.0) as usize;
        let last = ((t + half_width).floor() as usize).min(input.len() - 1);
        let mut acc = 0.0;
        for (k, &x) in input.iter().enumerate().take(last + 1).skip(first) {
            let d = t - k as f64;
            let window = 0.5 * (1.0 + (std::f64::consts::PI * d / half_width).cos());
            let arg = std::f64::consts::PI * cutoff * d;
            let sinc = if arg.abs() < 1e-9 {
                1.0
            } else {
                arg.sin() / arg
            };
            acc += f64::from(x) * cutoff * sinc * window;
        }
        out.push(acc.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use voice::pcm::{goertzel_power, rms_dbfs, sine};
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

    #[test]
    fn resample_22050_to_8000_keeps_voice_band_and_removes_aliases() {
        let input = sine(1000.0, 22050, 500, 0.5);
        let out = resample(&input, 22050, 8000);
        assert_eq!(out.len(), 4000);
        let body = &out[200..3800];
        let level = rms_dbfs(body);
        assert!((level - rms_dbfs(&input)).abs() < 1.0, "{level}");
        assert!(goertzel_power(body, 1000.0, 8000) > 1000.0 * goertzel_power(body, 1500.0, 8000));
        // 6 kHz cannot exist at 8 kHz: it must be filtered out, not folded to 2 kHz.
        let high = resample(&sine(6000.0, 22050, 500, 0.5), 22050, 8000);
        assert!(
            rms_dbfs(&high[200..3800]) < -40.0,
            "{}",
            rms_dbfs(&high[200..3800])
        );
        assert_eq!(resample(&input, 8000, 8000), input);
    }

    #[test]
    fn parse_wav_reads_normal_and_streamed_headers() {
        let samples = sine(500.0, 22050, 100, 0.5);
        let bytes = voice::wav::wav_bytes(22050, &samples);
        assert_eq!(parse_wav(&bytes), Some((22050, samples.clone())));
        // A piped WAV carries placeholder sizes.
        let mut streamed = bytes.clone();
        streamed[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let data = streamed.windows(4).position(|w| w == b"data").unwrap();
        streamed[data + 4..data + 8].copy_from_slice(&0x7fff_f000u32.to_le_bytes());
        assert_eq!(parse_wav(&streamed), Some((22050, samples)));
        assert_eq!(parse_wav(b"not a wav file"), None);
    }

    #[test]
    fn espeak_when_installed() {
        let has_binary = Command::new("espeak-ng")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        match synthesize_with_espeak("Hello, this is a test.") {
            None => assert!(!has_binary, "espeak-ng is installed but produced nothing"),
            Some(audio) => {
                let ms = audio.len() / 8;
                assert!((500..5000).contains(&ms), "{ms} ms");
                let events = vad_events(&pcm(&audio));
                assert_eq!(events.first().map(|e| e.1), Some(VadEvent::SpeechStarted));
            }
        }
    }
}
