//! The cascaded engine: a streaming speech-to-text session listens, the call workflow's LLM
//! answers (outside the engine), and a text-to-speech provider speaks.
//!
//! Session behaviour:
//! - caller audio goes straight to the STT session; its `SpeechStarted` becomes
//!   [`EngineEvent::CallerSpeechStarted`] (barge-in), and every finished turn becomes
//!   [`EngineEvent::CallerTranscript`] followed by [`EngineEvent::UserTurn`];
//! - the greeting is spoken at once as item `agent-1`; every [`EngineInput::Say`] becomes the
//!   next item (`agent-2`, `agent-3`, …). An item is split into sentences which are synthesized
//!   one after the other, the next sentence's request running while the current one's audio is
//!   forwarded, so the first audio leaves after one sentence's latency. Items play in order;
//!   a `Say` that arrives while another item is speaking waits for it;
//! - a text said in full before (the greeting, above all) is said again from memory, not
//!   synthesized again ([`CachedTts`]);
//! - per item: [`EngineEvent::AgentAudio`] chunks as the TTS produces them, then
//!   [`EngineEvent::AgentTranscript`] with the text, then [`EngineEvent::AgentAudioDone`];
//! - [`EngineInput::Interrupt`] for the speaking item cancels its synthesis at once (the TTS
//!   streams are dropped, which drops the HTTP bodies); nothing more is emitted for that item,
//!   not even `AgentAudioDone` (the bridge already knows it cut it off). An interrupt for a
//!   queued item removes it; for a finished or unknown item it is ignored;
//! - [`EngineInput::Dtmf`] keys become one `UserTurn { text: "[caller pressed 4155550100#]" }`
//!   so the LLM sees key presses in the conversation (no `CallerTranscript`: nothing was said).
//!   Keys are gathered as a keypad IVR does: the turn goes at `#`, or [`KEYS_GAP`] after the
//!   last key. One turn per entry, not one per key: Updates sent 120 ms apart could reach the
//!   workflow out of order, and a number must not;
//! - [`EngineInput::ToolResult`] is not used (the workflow runs tools around the LLM).
//!
//! Settings read from [`EngineCall::settings`]: `voice` (TTS voice), `language` and
//! `stt_model` (STT options).
//!
//! The session ends when the bridge drops its input sender, when the bridge drops the event
//! receiver, or with [`EngineEvent::Failed`] when the STT session fails or the TTS rejects the
//! credentials or configuration (HTTP 401/403/404). Other TTS errors lose that utterance only:
//! they are logged and the item is closed with whatever it produced.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, trace, warn};

use crate::engine::{
    EngineCall, EngineError, EngineEvent, EngineInput, EngineName, EngineSession, VoiceEngine,
};
use crate::stt::{SttEvent, SttOptions, SttProvider};
use crate::tts::{CachedTts, TtsError, TtsProvider, TtsStream};

/// Capacity of the bridge ↔ engine channels.
const CHANNEL_CAPACITY: usize = 256;

/// Keys pressed less than this apart are one entry (a menu choice, a phone number).
pub const KEYS_GAP: std::time::Duration = std::time::Duration::from_millis(1500);

/// Speech-to-text + text-to-speech as a [`VoiceEngine`].
#[derive(Clone)]
pub struct Cascaded {
    stt: Arc<dyn SttProvider>,
    tts: Arc<dyn TtsProvider>,
}

impl std::fmt::Debug for Cascaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cascaded")
            .field("stt", &self.stt.name())
            .field("tts", &self.tts.name())
            .finish()
    }
}

impl Cascaded {
    /// What `tts` has said in full is kept and said again without synthesizing it
    /// ([`CachedTts`]): the greeting, the lines a receptionist repeats.
    pub fn new(stt: Arc<dyn SttProvider>, tts: Arc<dyn TtsProvider>) -> Self {
        Self {
            stt,
            tts: Arc::new(CachedTts::new(tts)),
        }
    }
}

#[async_trait::async_trait]
impl VoiceEngine for Cascaded {
    fn name(&self) -> EngineName {
        EngineName::Cascaded
    }

    async fn start(&self, call: EngineCall) -> Result<EngineSession, EngineError> {
        let setting = |key: &str| {
            call.settings
                .get(key)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let opts = SttOptions {
            language: setting("language"),
            model: setting("stt_model"),
        };
        let stt = self.stt.start(opts).await.map_err(|e| match e {
            crate::stt::SttError::NotConfigured(m) => EngineError::NotConfigured(m),
            other => EngineError::Connect(other.to_string()),
        })?;
        info!(
            call_sid = %call.call_sid,
            stt = self.stt.name(),
            tts = self.tts.name(),
            "cascaded engine started"
        );
        let (session, input, events) = EngineSession::channels(CHANNEL_CAPACITY);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let mut run = Run {
            call_sid: call.call_sid,
            tts: self.tts.clone(),
            voice: setting("voice"),
            events,
            next_item: 0,
            queue: VecDeque::new(),
            current: None,
            done_tx,
        };
        if !call.greeting.trim().is_empty() {
            run.enqueue(call.greeting);
        }
        tokio::spawn(run.run(input, stt.audio, stt.events, done_rx));
        Ok(session)
    }
}

/// How a speaking task ended.
type SpeakOutcome = Result<(), TtsError>;

/// The state of one session, owned by its task.
struct Run {
    call_sid: String,
    tts: Arc<dyn TtsProvider>,
    voice: Option<String>,
    events: mpsc::Sender<EngineEvent>,
    next_item: u64,
    /// Items waiting to be spoken: (item id, text).
    queue: VecDeque<(String, String)>,
    /// The item being spoken and its task.
    current: Option<(String, JoinHandle<()>)>,
    done_tx: mpsc::UnboundedSender<(String, SpeakOutcome)>,
}

/// Caller input on its way to speech-to-text, and keys pressed but not yet sent as a turn.
struct CallerInput {
    /// `None` once the speech-to-text stream has closed.
    stt_audio: Option<mpsc::Sender<Vec<u8>>>,
    dropped_frames: u64,
    /// Keys pressed and not yet sent as a turn, and when they go without a `#`.
    keys: String,
    keys_due: Option<tokio::time::Instant>,
}

/// Go on, or end the session.
type Step = ControlFlow<()>;

fn step(result: Result<(), ()>) -> Step {
    match result {
        Ok(()) => ControlFlow::Continue(()),
        Err(()) => ControlFlow::Break(()),
    }
}

impl Run {
    async fn run(
        mut self,
        mut input: mpsc::Receiver<EngineInput>,
        stt_audio: mpsc::Sender<Vec<u8>>,
        mut stt_events: mpsc::Receiver<SttEvent>,
        mut done: mpsc::UnboundedReceiver<(String, SpeakOutcome)>,
    ) {
        let mut caller = CallerInput {
            stt_audio: Some(stt_audio),
            dropped_frames: 0,
            keys: String::new(),
            keys_due: None,
        };
        self.start_next();
        loop {
            let step = tokio::select! {
                _ = async { tokio::time::sleep_until(caller.keys_due.unwrap_or_else(tokio::time::Instant::now)).await }, if caller.keys_due.is_some() => {
                    caller.keys_due = None;
                    step(self.send_keys(&mut caller.keys).await)
                }
                message = input.recv() => self.on_input(message, &mut caller).await,
                event = stt_events.recv() => self.on_stt(event).await,
                Some((item_id, outcome)) = done.recv() => self.on_spoken(item_id, outcome).await,
            };
            if step.is_break() {
                break;
            }
        }
        if let Some((_, task)) = self.current.take() {
            task.abort();
        }
        // Dropping `caller.stt_audio` finishes the STT stream; dropping `self.events` closes ours.
    }

    async fn on_input(&mut self, message: Option<EngineInput>, caller: &mut CallerInput) -> Step {
        let Some(message) = message else {
            debug!(call_sid = %self.call_sid, "cascaded: input closed; ending session");
            return ControlFlow::Break(());
        };
        match message {
            EngineInput::Audio(frame) => self.forward_audio(frame, caller),
            EngineInput::Say { text } => {
                if text.trim().is_empty() {
                    debug!(call_sid = %self.call_sid, "cascaded: ignoring empty Say");
                } else {
                    self.enqueue(text);
                    self.start_next();
                }
            }
            EngineInput::Interrupt { item_id, heard_ms } => {
                self.interrupt(&item_id, heard_ms);
            }
            EngineInput::Dtmf(digit) => {
                caller.keys.push(digit);
                if digit == '#' {
                    caller.keys_due = None;
                    return step(self.send_keys(&mut caller.keys).await);
                }
                caller.keys_due = Some(tokio::time::Instant::now() + KEYS_GAP);
            }
            EngineInput::ToolResult { call_id, name, .. } => {
                debug!(call_sid = %self.call_sid, %call_id, %name, "cascaded: tool results are not used by this engine");
            }
        }
        ControlFlow::Continue(())
    }

    /// Caller audio to speech-to-text; dropped (and counted) when it is behind.
    fn forward_audio(&self, frame: Vec<u8>, caller: &mut CallerInput) {
        let Some(tx) = &caller.stt_audio else {
            return;
        };
        match tx.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                caller.dropped_frames += 1;
                let dropped_frames = caller.dropped_frames;
                if dropped_frames.is_power_of_two() {
                    warn!(call_sid = %self.call_sid, dropped_frames, "cascaded: speech-to-text is behind; dropping caller audio");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => caller.stt_audio = None,
        }
    }

    async fn on_stt(&mut self, event: Option<SttEvent>) -> Step {
        let Some(event) = event else {
            let _ = self
                .emit(EngineEvent::Failed {
                    message: "speech-to-text stream ended".into(),
                })
                .await;
            return ControlFlow::Break(());
        };
        let forwarded = match event {
            SttEvent::SpeechStarted => self.emit(EngineEvent::CallerSpeechStarted).await,
            SttEvent::Interim(text) => {
                trace!(call_sid = %self.call_sid, %text, "cascaded: interim");
                Ok(())
            }
            SttEvent::Final {
                text,
                end_of_turn: false,
            } => {
                trace!(call_sid = %self.call_sid, %text, "cascaded: final piece");
                Ok(())
            }
            SttEvent::Final {
                text,
                end_of_turn: true,
            } => match self
                .emit(EngineEvent::CallerTranscript { text: text.clone() })
                .await
            {
                Ok(()) => self.emit(EngineEvent::UserTurn { text }).await,
                Err(e) => Err(e),
            },
            SttEvent::Failed(message) => {
                let _ = self
                    .emit(EngineEvent::Failed {
                        message: format!("speech-to-text failed: {message}"),
                    })
                    .await;
                return ControlFlow::Break(());
            }
        };
        step(forwarded)
    }

    /// A speaking task ended: a fatal text-to-speech error ends the session, else the next
    /// queued item is spoken.
    async fn on_spoken(&mut self, item_id: String, outcome: SpeakOutcome) -> Step {
        if self.current.as_ref().is_some_and(|(id, _)| *id == item_id) {
            self.current = None;
        }
        if let Err(e) = outcome {
            if is_fatal(&e) {
                let _ = self
                    .emit(EngineEvent::Failed {
                        message: format!("text-to-speech failed: {e}"),
                    })
                    .await;
                return ControlFlow::Break(());
            }
            warn!(call_sid = %self.call_sid, %item_id, error = %e, "cascaded: utterance lost");
        }
        self.start_next();
        ControlFlow::Continue(())
    }

    fn enqueue(&mut self, text: String) -> String {
        self.next_item += 1;
        let item_id = format!("agent-{}", self.next_item);
        self.queue.push_back((item_id.clone(), text));
        item_id
    }

    /// Start speaking the next queued item unless one is being spoken.
    fn start_next(&mut self) {
        if self.current.is_some() {
            return;
        }
        let Some((item_id, text)) = self.queue.pop_front() else {
            return;
        };
        debug!(call_sid = %self.call_sid, %item_id, "cascaded: speaking");
        let speaker = Speaker {
            tts: self.tts.clone(),
            voice: self.voice.clone(),
            events: self.events.clone(),
            item_id: item_id.clone(),
        };
        let done = self.done_tx.clone();
        let task = tokio::spawn(async move {
            let outcome = speaker.speak(text).await;
            let _ = done.send((speaker.item_id, outcome));
        });
        self.current = Some((item_id, task));
    }

    fn interrupt(&mut self, item_id: &str, heard_ms: u64) {
        if self.current.as_ref().is_some_and(|(id, _)| id == item_id) {
            if let Some((_, task)) = self.current.take() {
                task.abort();
            }
            debug!(call_sid = %self.call_sid, %item_id, heard_ms, "cascaded: interrupted");
            self.start_next();
        } else if let Some(pos) = self.queue.iter().position(|(id, _)| id == item_id) {
            self.queue.remove(pos);
            debug!(call_sid = %self.call_sid, %item_id, "cascaded: dropped a queued item");
        } else {
            debug!(call_sid = %self.call_sid, %item_id, "cascaded: interrupt for an item no longer speaking");
        }
    }

    /// The keys gathered so far as one user turn.
    async fn send_keys(&self, keys: &mut String) -> Result<(), ()> {
        if keys.is_empty() {
            return Ok(());
        }
        let text = format!("[caller pressed {}]", std::mem::take(keys));
        self.emit(EngineEvent::UserTurn { text }).await
    }

    async fn emit(&self, event: EngineEvent) -> Result<(), ()> {
        self.events.send(event).await.map_err(|_| {
            debug!(call_sid = %self.call_sid, "cascaded: event receiver dropped; ending session");
        })
    }
}

/// Errors that will not go away by themselves: bad key, no access, unknown model or endpoint.
fn is_fatal(e: &TtsError) -> bool {
    match e {
        TtsError::Status { status, .. } => matches!(status, 401 | 403 | 404),
        TtsError::NotConfigured(_) => true,
        TtsError::Transport(_) => false,
    }
}

/// Speaks one item.
struct Speaker {
    tts: Arc<dyn TtsProvider>,
    voice: Option<String>,
    events: mpsc::Sender<EngineEvent>,
    item_id: String,
}

impl Speaker {
    async fn speak(&self, text: String) -> SpeakOutcome {
        let sentences = speech_chunks(&text);
        let mut spoken = 0usize;
        let result = self.speak_sentences(&sentences, &mut spoken).await;
        let transcript = match &result {
            Ok(()) => text,
            Err(_) => sentences[..spoken].join(" "),
        };
        if !transcript.is_empty() {
            self.send(EngineEvent::AgentTranscript {
                item_id: self.item_id.clone(),
                text: transcript,
            })
            .await;
        }
        self.send(EngineEvent::AgentAudioDone {
            item_id: self.item_id.clone(),
        })
        .await;
        result
    }

    /// Synthesizes sentence `i + 1` while forwarding the audio of sentence `i`.
    async fn speak_sentences(&self, sentences: &[String], spoken: &mut usize) -> SpeakOutcome {
        let Some(first) = sentences.first() else {
            return Ok(());
        };
        let mut next = Some(self.synthesize(first).await);
        for i in 0..sentences.len() {
            let Some(stream) = next.take() else { break };
            let mut stream = stream?;
            let following = sentences.get(i + 1);
            let (forwarded, prefetched) = tokio::join!(self.forward(&mut stream), async {
                match following {
                    Some(sentence) => Some(self.synthesize(sentence).await),
                    None => None,
                }
            });
            forwarded?;
            *spoken = i + 1;
            next = prefetched;
        }
        Ok(())
    }

    async fn synthesize(&self, sentence: &str) -> Result<TtsStream, TtsError> {
        self.tts.synthesize(sentence, self.voice.as_deref()).await
    }

    async fn forward(&self, stream: &mut TtsStream) -> SpeakOutcome {
        while let Some(chunk) = stream.next().await {
            let mulaw = chunk?;
            if mulaw.is_empty() {
                continue;
            }
            let sent = self
                .events
                .send(EngineEvent::AgentAudio {
                    item_id: self.item_id.clone(),
                    mulaw,
                })
                .await;
            if sent.is_err() {
                return Ok(()); // the session is gone; nobody listens
            }
        }
        Ok(())
    }

    async fn send(&self, event: EngineEvent) {
        let _ = self.events.send(event).await;
    }
}

/// Words that end with a period without ending a sentence.
const ABBREVIATIONS: [&str; 12] = [
    "mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "etc", "e.g", "i.e",
];

/// Splits text into sentences for synthesis: after `.`, `!`, `?`, `…` followed by whitespace
/// (or the end), and at line breaks. A period after a common abbreviation ("Dr.") or between
/// digits ("3.5") does not split. Pieces are trimmed; empty pieces are dropped.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            push_sentence(&mut sentences, &mut current);
            continue;
        }
        current.push(c);
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        // Closing quotes/brackets stay with their sentence.
        while let Some(&n) = chars.peek() {
            if matches!(n, '"' | '\'' | ')' | '”' | '’') {
                current.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let at_boundary = chars.peek().is_none_or(|n| n.is_whitespace());
        let ends = at_boundary && (c != '.' || !ends_with_abbreviation(&current));
        if ends {
            push_sentence(&mut sentences, &mut current);
        }
    }
    push_sentence(&mut sentences, &mut current);
    sentences
}

/// A sentence longer than this is spoken in clauses.
const LONG_SENTENCE: usize = 60;
/// A clause shorter than this stays with the next one.
const MIN_CLAUSE: usize = 20;

/// What the engine synthesizes one request at a time: the sentences of `text`, with a long
/// sentence cut after its commas, semicolons and colons into clauses of at least
/// [`MIN_CLAUSE`] characters. Text-to-speech time grows with the text, so a long first sentence
/// ("Thanks Jordan, I've taken your message for …, callback number …") would hold back the
/// first audio; its first clause is ready in a fraction of that, and the rest is synthesized
/// while it plays.
pub fn speech_chunks(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    for sentence in split_sentences(text) {
        if sentence.chars().count() <= LONG_SENTENCE {
            chunks.push(sentence);
            continue;
        }
        let mut current = String::new();
        let mut rest = sentence.as_str();
        while let Some(cut) = rest.find([',', ';', ':']) {
            // Only a pause in speech: "1,000" has no space after its comma.
            let after = &rest[cut + 1..];
            let (piece, remaining) = rest.split_at(cut + 1);
            current.push_str(piece);
            rest = remaining;
            if after.starts_with(' ')
                && current.trim().chars().count() >= MIN_CLAUSE
                && rest.trim().chars().count() >= MIN_CLAUSE
            {
                chunks.push(current.trim().to_owned());
                current.clear();
            }
        }
        current.push_str(rest);
        let last = current.trim();
        if !last.is_empty() {
            chunks.push(last.to_owned());
        }
    }
    chunks
}

fn ends_with_abbreviation(current: &str) -> bool {
    let word = current
        .trim_end_matches(['.', '"', '\'', ')', '”', '’'])
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_lowercase();
    ABBREVIATIONS.contains(&word.as_str())
}

fn push_sentence(sentences: &mut Vec<String>, current: &mut String) {
    let trimmed = current.trim();
    if !trimmed.is_empty() {
        sentences.push(trimmed.to_owned());
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_terminators_only() {
        assert_eq!(
            split_sentences("Hello! We open at 9.30 today. Dr. Smith is in? Yes…  Bye"),
            vec![
                "Hello!",
                "We open at 9.30 today.",
                "Dr. Smith is in?",
                "Yes…",
                "Bye"
            ]
        );
        assert_eq!(
            split_sentences("He said \"stop.\" Then left.\nNext line"),
            vec!["He said \"stop.\"", "Then left.", "Next line"]
        );
        assert!(split_sentences("  \n ").is_empty());
    }

    #[test]
    fn long_sentences_are_spoken_in_clauses() {
        assert_eq!(
            speech_chunks(
                "Thanks Jordan, I've taken your message for the billing team, from Jordan, \
                 callback number 415 555 0100, saying: \"please call me back\". Is that correct?"
            ),
            vec![
                "Thanks Jordan, I've taken your message for the billing team,",
                "from Jordan, callback number 415 555 0100,",
                "saying: \"please call me back\".",
                "Is that correct?"
            ]
        );
        // Short sentences, and commas inside numbers, are left alone.
        assert_eq!(
            speech_chunks("Hello, Acme Dental. It costs 1,000 dollars, give or take, in total."),
            vec![
                "Hello, Acme Dental.",
                "It costs 1,000 dollars, give or take, in total."
            ]
        );
    }
}
