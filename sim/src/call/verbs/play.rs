//! `<Play>`: the WAV at `url` (a 1 s tone when it cannot be fetched or read), or `digits` as
//! tones, `loop` times.

use std::ops::ControlFlow;
use std::time::Duration;

use crate::call::person::Utterance;
use crate::call::{CallRun, Step};
use crate::speech;
use crate::state::{CallEventKind, Shared};
use crate::twiml::Play;

pub(crate) async fn run(
    call: &mut CallRun,
    play: &Play,
    barge_in: bool,
) -> Step<Option<Utterance>> {
    let audio = match (&play.url, &play.digits) {
        (Some(url), _) => {
            let url = call.resolve(url);
            fetch_audio(&call.shared, &url).await
        }
        (None, Some(d)) => digit_tones(d),
        (None, None) => Vec::new(),
    };
    let what = play
        .url
        .clone()
        .or_else(|| play.digits.as_ref().map(|d| format!("digits {d}")))
        .unwrap_or_default();
    for _ in 0..play.loop_count.clamp(1, 10) {
        call.event(CallEventKind::CallPlayed {
            what: what.clone(),
            ms: audio.len() as u64 / 8,
        });
        if let Some(u) = call.play(&audio, barge_in).await? {
            return ControlFlow::Continue(Some(u));
        }
    }
    ControlFlow::Continue(None)
}

/// `digits` as heard: a 100 ms tone and 100 ms of silence per key, 500 ms of silence per `w`.
fn digit_tones(digits: &str) -> Vec<u8> {
    let mut audio = Vec::new();
    for c in digits.chars() {
        if c == 'w' {
            audio.extend(speech::silence(500));
        } else {
            audio.extend(speech::tone(941.0, 100));
            audio.extend(speech::silence(100));
        }
    }
    audio
}

/// The WAV at `url` as 8 kHz μ-law, or a 1 s tone when it cannot be fetched or read.
async fn fetch_audio(shared: &Shared, url: &str) -> Vec<u8> {
    let fetched = async {
        let response = shared
            .http
            .get(url)
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let bytes = response.bytes().await.ok()?;
        let (rate, samples) = voice::wav::parse_streamed_wav(&bytes)?;
        let samples = voice::pcm::resample_any(&samples, rate, speech::SAMPLE_RATE);
        let mut out = Vec::with_capacity(samples.len());
        voice::mulaw::encode(&samples, &mut out);
        Some(out)
    };
    match fetched.await {
        Some(audio) => audio,
        None => speech::tone(440.0, 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_tones_and_w_waits() {
        let audio = digit_tones("1w2");
        assert_eq!(audio.len(), (200 + 500 + 200) * 8);
        assert_eq!(&audio[..800], &speech::tone(941.0, 100)[..]);
        assert!(audio[800..1600].iter().all(|&b| b == voice::mulaw::SILENCE));
        assert!(
            audio[1600..5600]
                .iter()
                .all(|&b| b == voice::mulaw::SILENCE)
        );
        assert_eq!(&audio[5600..6400], &speech::tone(941.0, 100)[..]);
    }
}
