//! Offline text-to-speech with the `espeak-ng` binary (Debian package `espeak-ng`): no
//! network, no model download, intelligible if robotic speech, fine for telephone audio.
//!
//! Each synthesis runs `espeak-ng --stdout -v <voice> -s <words per minute>` with the text on
//! its stdin. espeak-ng writes a 22 050 Hz mono 16-bit WAV to stdout clause by clause, with
//! placeholder chunk sizes (it cannot seek a pipe); we read it as it comes, resample to 8 kHz
//! with [`crate::pcm::SincResampler`], encode μ-law and send [`EspeakTtsConfig::chunk_ms`]
//! chunks, so the first clause is on its way while the rest is still being synthesized.
//! Dropping the [`TtsStream`] kills the process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::mpsc;
use tracing::debug;

use super::{TtsError, TtsProvider, TtsStream};
use crate::mulaw;
use crate::pcm::SincResampler;
use crate::wav::{StreamedWavHeader, parse_streamed_wav_header};

/// The binary looked up on `PATH`.
pub const ESPEAK_PROGRAM: &str = "espeak-ng";
const TARGET_HZ: u32 = 8_000;
/// Chunks buffered between the process and the consumer.
const STREAM_CAPACITY: usize = 64;
/// Most of espeak-ng's stderr kept for an error message.
const MAX_STDERR: usize = 2_000;

#[derive(Debug, Clone)]
pub struct EspeakTtsConfig {
    /// The binary: a name looked up on `PATH` or a path. Default [`ESPEAK_PROGRAM`].
    pub program: String,
    /// Default voice (`espeak-ng --voices` lists them), e.g. `en-us`, `en-gb`, `fr`.
    pub voice: String,
    /// Speaking rate in words per minute (espeak-ng's `-s`; its own default is 175).
    pub rate_wpm: u32,
    /// Audio per chunk sent on the stream, in milliseconds (the last one may be shorter).
    pub chunk_ms: u32,
    /// Time allowed for the process to start producing audio, and between two reads.
    pub stall_timeout: Duration,
}

impl Default for EspeakTtsConfig {
    fn default() -> Self {
        Self {
            program: ESPEAK_PROGRAM.into(),
            voice: "en-us".into(),
            rate_wpm: 165,
            chunk_ms: 100,
            stall_timeout: Duration::from_secs(10),
        }
    }
}

/// [`TtsProvider`] running the local `espeak-ng` binary.
#[derive(Debug, Clone, Default)]
pub struct EspeakTts {
    config: EspeakTtsConfig,
}

impl EspeakTts {
    pub fn new(config: EspeakTtsConfig) -> Self {
        Self { config }
    }

    /// Whether `espeak-ng` is on `PATH`.
    pub fn available() -> bool {
        find_program(ESPEAK_PROGRAM).is_some()
    }

    pub fn config(&self) -> &EspeakTtsConfig {
        &self.config
    }
}

/// `program` itself if it names a file by path, else the first executable of that name on `PATH`.
fn find_program(program: &str) -> Option<PathBuf> {
    fn is_executable(path: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable(&path).then_some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|path| is_executable(path))
}

#[async_trait::async_trait]
impl TtsProvider for EspeakTts {
    fn name(&self) -> &'static str {
        "espeak"
    }

    async fn synthesize(&self, text: &str, voice: Option<&str>) -> Result<TtsStream, TtsError> {
        let program = find_program(&self.config.program).ok_or_else(|| {
            TtsError::NotConfigured(format!(
                "`{}` not found on PATH (install the espeak-ng package, e.g. \
                 `apt-get install espeak-ng`)",
                self.config.program
            ))
        })?;
        let (tx, stream) = TtsStream::channel(STREAM_CAPACITY);
        if text.trim().is_empty() {
            return Ok(stream); // `tx` dropped: an empty, complete stream
        }
        let voice = voice.unwrap_or(&self.config.voice);
        let stall = self.config.stall_timeout;
        let mut process = EspeakProcess::spawn(&program, voice, self.config.rate_wpm, text)?;
        // Wait for the WAV header (it comes with the first clause's audio), so that a bad voice
        // or a broken binary fails here rather than in the stream.
        let mut buf = Vec::with_capacity(8192);
        let Some(header) = process.read_header(&mut buf, stall, voice).await? else {
            return Ok(stream); // the text had nothing to say
        };
        let chunk_len = (TARGET_HZ * self.config.chunk_ms.max(1) / 1000) as usize;
        let decoder = WavDecoder::new(header, chunk_len);
        let pending = buf.split_off(header.data_offset);
        let chars = text.chars().count();
        tokio::spawn(async move {
            let Some(total) = process.stream_audio(decoder, pending, &tx, stall).await else {
                return;
            };
            if let Err(e) = process.exit_status(stall).await {
                let _ = tx.send(Err(e)).await;
                return;
            }
            debug!(
                chars,
                audio_ms = total / 8,
                "espeak tts: synthesis complete"
            );
        });
        Ok(stream)
    }
}

/// One running `espeak-ng`: its audio on `stdout`, its stderr collected by a task. Dropping it
/// kills the process.
struct EspeakProcess {
    child: tokio::process::Child,
    stdout: tokio::process::ChildStdout,
    stderr: tokio::task::JoinHandle<String>,
}

impl EspeakProcess {
    /// Starts `espeak-ng` with `text` on its stdin.
    fn spawn(program: &Path, voice: &str, rate_wpm: u32, text: &str) -> Result<Self, TtsError> {
        let mut child = Command::new(program)
            .arg("--stdout")
            .arg("-v")
            .arg(voice)
            .arg("-s")
            .arg(rate_wpm.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                TtsError::NotConfigured(format!("cannot run {}: {e}", program.display()))
            })?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(TtsError::Transport("espeak-ng pipes unavailable".into()));
        };
        // Write from a task: espeak-ng may produce audio before it has read all the text.
        let text_bytes = text.as_bytes().to_vec();
        tokio::spawn(async move {
            let _ = stdin.write_all(&text_bytes).await;
            // Dropping stdin closes it: end of text.
        });
        let stderr = tokio::spawn(read_stderr(stderr));
        Ok(Self {
            child,
            stdout,
            stderr,
        })
    }

    /// Reads into `buf` until the WAV header is complete. `None`: espeak-ng exited cleanly
    /// without audio (the text had nothing to say).
    async fn read_header(
        &mut self,
        buf: &mut Vec<u8>,
        stall: Duration,
        voice: &str,
    ) -> Result<Option<StreamedWavHeader>, TtsError> {
        loop {
            match parse_streamed_wav_header(buf) {
                Ok(Some(header)) => return Ok(Some(header)),
                Ok(None) => {}
                Err(e) => {
                    return Err(TtsError::Transport(format!(
                        "espeak-ng wrote unexpected audio: {e}"
                    )));
                }
            }
            if read_some(&mut self.stdout, buf, stall).await? == 0 {
                // No audio at all: espeak-ng failed (e.g. an unknown voice), or the text had
                // nothing to say.
                return self.exit_without_audio(stall, voice).await.map(|()| None);
            }
        }
    }

    async fn exit_without_audio(&mut self, stall: Duration, voice: &str) -> Result<(), TtsError> {
        let status = tokio::time::timeout(stall, self.child.wait())
            .await
            .map_err(|_| TtsError::Transport("espeak-ng did not exit".into()))?
            .map_err(|e| TtsError::Transport(e.to_string()))?;
        if status.success() {
            return Ok(());
        }
        let message = (&mut self.stderr).await.unwrap_or_default();
        Err(TtsError::NotConfigured(format!(
            "espeak-ng (voice `{voice}`) failed with {status}: {}",
            message.trim()
        )))
    }

    /// Decodes the audio as it comes and sends it in chunks. `Some(samples sent)` at the end
    /// of the audio; `None` when the stream was dropped or a read failed (already reported).
    async fn stream_audio(
        &mut self,
        mut decoder: WavDecoder,
        mut pending: Vec<u8>,
        tx: &mpsc::Sender<Result<Vec<u8>, TtsError>>,
        stall: Duration,
    ) -> Option<usize> {
        let mut total = 0usize;
        loop {
            for chunk in decoder.push(&pending) {
                total += chunk.len();
                if tx.send(Ok(chunk)).await.is_err() {
                    debug!("espeak tts: stream dropped; killing espeak-ng");
                    return None; // dropping the process kills it
                }
            }
            pending.clear();
            let read = tokio::select! {
                read = read_some(&mut self.stdout, &mut pending, stall) => read,
                _ = tx.closed() => {
                    debug!("espeak tts: stream dropped; killing espeak-ng");
                    return None;
                }
            };
            match read {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return None;
                }
            }
        }
        let tail = decoder.finish();
        total += tail.len();
        if !tail.is_empty() && tx.send(Ok(tail)).await.is_err() {
            return None;
        }
        Some(total)
    }

    /// Waits for espeak-ng to exit after its audio; an error if it failed.
    async fn exit_status(mut self, stall: Duration) -> Result<(), TtsError> {
        match tokio::time::timeout(stall, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => {
                let message = self.stderr.await.unwrap_or_default();
                Err(TtsError::Transport(format!(
                    "espeak-ng failed with {status}: {}",
                    message.trim()
                )))
            }
            Ok(Err(e)) => Err(TtsError::Transport(e.to_string())),
            Err(_) => Err(TtsError::Transport("espeak-ng did not exit".into())),
        }
    }
}

/// Appends what one read of `reader` gives to `buf`; 0 at the end of the stream.
async fn read_some(
    reader: &mut (impl AsyncRead + Unpin),
    buf: &mut Vec<u8>,
    stall: Duration,
) -> Result<usize, TtsError> {
    let mut block = [0u8; 8192];
    let n = tokio::time::timeout(stall, reader.read(&mut block))
        .await
        .map_err(|_| TtsError::Transport("espeak-ng stalled".into()))?
        .map_err(|e| TtsError::Transport(format!("reading espeak-ng's audio: {e}")))?;
    buf.extend_from_slice(&block[..n]);
    Ok(n)
}

async fn read_stderr(mut stderr: impl AsyncRead + Unpin) -> String {
    let mut all = Vec::new();
    let mut block = [0u8; 1024];
    while let Ok(n) = stderr.read(&mut block).await {
        if n == 0 {
            break;
        }
        if all.len() < MAX_STDERR {
            all.extend_from_slice(&block[..n.min(MAX_STDERR - all.len())]);
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

/// The WAV's sample bytes in arbitrary splits → 8 kHz μ-law in chunks of `chunk_len`.
struct WavDecoder {
    channels: u16,
    /// Sample bytes still expected (the `data` size, usually a placeholder).
    remaining: usize,
    /// Bytes of a frame split across reads.
    carry: Vec<u8>,
    resampler: SincResampler,
    resampled: Vec<i16>,
    /// Encoded audio not yet sent (less than one chunk between pushes).
    encoded: Vec<u8>,
    chunk_len: usize,
}

impl WavDecoder {
    fn new(header: StreamedWavHeader, chunk_len: usize) -> Self {
        Self {
            channels: header.channels,
            remaining: header.data_len,
            carry: Vec::new(),
            resampler: SincResampler::new(header.sample_rate, TARGET_HZ),
            resampled: Vec::new(),
            encoded: Vec::new(),
            chunk_len,
        }
    }

    /// Decodes `bytes`; returns the whole chunks now ready.
    fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let bytes = &bytes[..bytes.len().min(self.remaining)];
        self.remaining -= bytes.len();
        self.carry.extend_from_slice(bytes);
        let frame = 2 * usize::from(self.channels);
        let whole = self.carry.len() / frame * frame;
        let samples = crate::pcm::i16_from_le_bytes(&self.carry[..whole]);
        self.carry.drain(..whole);
        let mono = crate::wav::downmix(&samples, self.channels);
        self.resampled.clear();
        self.resampler.process(&mono, &mut self.resampled);
        mulaw::encode(&self.resampled, &mut self.encoded);
        let ready = self.encoded.len() / self.chunk_len * self.chunk_len;
        let chunks = self.encoded[..ready]
            .chunks(self.chunk_len)
            .map(<[u8]>::to_vec)
            .collect();
        self.encoded.drain(..ready);
        chunks
    }

    /// End of the audio: everything not yet returned (a partial frame is dropped).
    fn finish(&mut self) -> Vec<u8> {
        self.carry.clear();
        self.resampled.clear();
        self.resampler.flush(&mut self.resampled);
        mulaw::encode(&self.resampled, &mut self.encoded);
        std::mem::take(&mut self.encoded)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::pcm::{goertzel_power, rms_dbfs};

    fn decode(mulaw_bytes: &[u8]) -> Vec<i16> {
        let mut out = Vec::new();
        mulaw::decode(mulaw_bytes, &mut out);
        out
    }

    /// Skips (with a note) when espeak-ng is not installed.
    fn espeak() -> Option<EspeakTts> {
        if EspeakTts::available() {
            Some(EspeakTts::default())
        } else {
            eprintln!("espeak-ng not installed; skipping");
            None
        }
    }

    /// Synthesizes `text`: (audio, time to the first chunk, total time, chunk count).
    async fn run(tts: &EspeakTts, text: &str) -> (Vec<u8>, Duration, Duration, usize) {
        let start = Instant::now();
        let mut stream = tts.synthesize(text, None).await.unwrap();
        let mut audio = Vec::new();
        let mut first = None;
        let mut chunks = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            first.get_or_insert_with(|| start.elapsed());
            chunks += 1;
            audio.extend(chunk);
        }
        (audio, first.unwrap_or_default(), start.elapsed(), chunks)
    }

    #[test]
    fn decoder_handles_odd_splits_and_stereo() {
        let samples = crate::pcm::sine(400.0, 22050, 500, 0.5);
        let bytes = crate::wav::wav_bytes(22050, &samples);
        let header = parse_streamed_wav_header(&bytes).unwrap().unwrap();
        let body = &bytes[header.data_offset..];

        let mut whole = WavDecoder::new(header, 800);
        let mut a: Vec<u8> = whole.push(body).concat();
        a.extend(whole.finish());
        let mut split = WavDecoder::new(header, 800);
        let mut b = Vec::new();
        for piece in body.chunks(333) {
            for chunk in split.push(piece) {
                assert_eq!(chunk.len(), 800);
                b.extend(chunk);
            }
        }
        b.extend(split.finish());
        assert_eq!(a, b);
        assert_eq!(a.len(), 4000, "500 ms at 8 kHz");

        // The same signal as stereo decodes to the same mono audio.
        let stereo: Vec<i16> = samples.iter().flat_map(|&s| [s, s]).collect();
        let stereo_header = StreamedWavHeader {
            channels: 2,
            data_len: stereo.len() * 2,
            ..header
        };
        let mut d = WavDecoder::new(stereo_header, 800);
        let mut c: Vec<u8> = d.push(&crate::pcm::i16_to_le_bytes(&stereo)).concat();
        c.extend(d.finish());
        assert_eq!(c, a);
    }

    #[tokio::test]
    async fn missing_binary_is_not_configured() {
        let tts = EspeakTts::new(EspeakTtsConfig {
            program: "espeak-ng-does-not-exist".into(),
            ..EspeakTtsConfig::default()
        });
        let err = tts.synthesize("hello", None).await.unwrap_err();
        assert!(
            matches!(&err, TtsError::NotConfigured(m) if m.contains("not found")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn unknown_voice_fails_at_synthesize() {
        let Some(tts) = espeak() else { return };
        let err = tts
            .synthesize("hello", Some("xx-no-such-voice"))
            .await
            .unwrap_err();
        assert!(matches!(err, TtsError::NotConfigured(_)), "{err}");
    }

    #[tokio::test]
    async fn empty_text_is_an_empty_stream() {
        let Some(tts) = espeak() else { return };
        let audio = tts.synthesize("  ", None).await.unwrap().collect().await;
        assert!(audio.unwrap().is_empty());
    }

    // Multi-threaded, so that the consumer takes chunks while the decoding task still runs
    // (as in the server) and the time to the first chunk is meaningful.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn speech_is_telephone_band_and_lasts_with_the_text() {
        let Some(tts) = espeak() else { return };
        let short = "Hello, thanks for calling.";
        let long = "Hello, thanks for calling. Your appointment is confirmed for Tuesday at \
                    ten thirty in the morning, and we will send you a text message reminder \
                    the day before.";
        let (short_audio, short_first, short_total, short_chunks) = run(&tts, short).await;
        let (long_audio, long_first, long_total, long_chunks) = run(&tts, long).await;
        let short_ms = short_audio.len() / 8;
        let long_ms = long_audio.len() / 8;
        println!(
            "espeak tts: {short_ms} ms of audio in {short_chunks} chunks, first after {:?}, \
             all after {short_total:?}",
            short_first
        );
        println!(
            "espeak tts: {long_ms} ms of audio in {long_chunks} chunks, first after {:?}, \
             all after {long_total:?}",
            long_first
        );
        // Roughly 165 words per minute: ~75 ms per character including pauses.
        for (text, ms) in [(short, short_ms), (long, long_ms)] {
            let per_char = ms as f64 / text.chars().count() as f64;
            assert!(
                (35.0..120.0).contains(&per_char),
                "{per_char} ms/char: {text}"
            );
        }
        let ratio = long_ms as f64 / short_ms as f64;
        let char_ratio = long.chars().count() as f64 / short.chars().count() as f64;
        assert!(
            (char_ratio * 0.6..char_ratio * 1.5).contains(&ratio),
            "duration ratio {ratio} vs text ratio {char_ratio}"
        );
        // Streamed in 100 ms chunks.
        assert!(long_chunks >= long_ms / 100, "{long_chunks} chunks");

        let pcm = decode(&long_audio);
        let level = rms_dbfs(&pcm);
        assert!((-35.0..-3.0).contains(&level), "{level} dBFS");
        // Voiced speech: most energy in 100–1000 Hz, little near the top of the band.
        let voice: f64 = [150.0f32, 250.0, 400.0, 600.0, 800.0]
            .iter()
            .map(|&f| goertzel_power(&pcm, f, 8000))
            .sum();
        let top: f64 = [3700.0f32, 3800.0, 3900.0]
            .iter()
            .map(|&f| goertzel_power(&pcm, f, 8000))
            .sum();
        assert!(voice > 10.0 * top, "voice band {voice} vs top {top}");
        // Not silent for long stretches: most 100 ms windows carry sound.
        let loud = pcm.chunks(800).filter(|w| rms_dbfs(w) > -50.0).count();
        assert!(
            loud * 10 >= pcm.len() / 800 * 6,
            "{loud} of {}",
            pcm.len() / 800
        );
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_synthesis() {
        let Some(tts) = espeak() else { return };
        let text = "This is a long sentence that would take a while to say. ".repeat(20);
        let mut stream = tts.synthesize(&text, None).await.unwrap();
        assert!(stream.next().await.unwrap().is_ok());
        drop(stream);
        // The task notices and kills espeak-ng; nothing to observe but no hang or panic.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
