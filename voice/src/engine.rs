//! The `VoiceEngine` trait: what the bridge needs from anything that listens and speaks.
//!
//! An engine is started once per call and then runs its own tasks; the bridge talks to it only
//! through two channels ([`EngineSession`]): [`EngineInput`] in, [`EngineEvent`] out. Dropping the
//! input sender ends the session (the engine closes its upstream connection and then its event
//! channel). All audio crossing this boundary is 8 kHz G.711 μ-law, Twilio's format, so the
//! bridge never transcodes; an engine whose model speaks another format converts inside.

use domain::conversation::ToolSpec;
use tokio::sync::mpsc;

/// Everything an engine needs to know about the call it serves.
#[derive(Debug, Clone)]
pub struct EngineCall {
    /// Twilio's call SID (for logs; never a phone number).
    pub call_sid: String,
    /// The agent's system instructions.
    pub instructions: String,
    /// What the agent says first. Speech-to-speech engines are asked to say it; the cascaded
    /// engine speaks it as is.
    pub greeting: String,
    /// The agent's engine settings (model, voice, language …) as stored on the agent.
    pub settings: serde_json::Value,
    /// Functions the model may call.
    pub tools: Vec<ToolSpec>,
}

/// From the bridge to the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineInput {
    /// Caller audio: μ-law 8 kHz, normally one 20 ms frame (160 bytes).
    Audio(Vec<u8>),
    /// A DTMF digit the caller pressed.
    Dtmf(char),
    /// The caller barged in: the agent's utterance `item_id` was heard up to `heard_ms`
    /// milliseconds of its audio. Stop producing it and truncate what the model remembers.
    Interrupt { item_id: String, heard_ms: u64 },
    /// The result of a [`EngineEvent::ToolCall`], as JSON text.
    ToolResult {
        call_id: String,
        name: String,
        output: String,
    },
    /// Speak this text (the answer to a [`EngineEvent::UserTurn`] of a cascaded engine).
    Say { text: String },
}

/// From the engine to the bridge.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// Agent audio of utterance `item_id`: μ-law 8 kHz, any length.
    AgentAudio { item_id: String, mulaw: Vec<u8> },
    /// All audio of `item_id` has been produced.
    AgentAudioDone { item_id: String },
    /// The words of agent utterance `item_id`.
    AgentTranscript { item_id: String, text: String },
    /// The caller started speaking (the engine's VAD); the bridge barges in if agent audio is
    /// still playing.
    CallerSpeechStarted,
    /// The words of one finished caller utterance.
    CallerTranscript { text: String },
    /// Cascaded engines: a finished caller turn that needs an answer. The bridge asks the call
    /// workflow (an Update running the LLM activity) and sends back [`EngineInput::Say`].
    UserTurn { text: String },
    /// The model asks for a tool; the bridge runs it as a workflow Update and answers with
    /// [`EngineInput::ToolResult`].
    ToolCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    /// The engine hit an error it could not recover from; the session is over.
    Failed { message: String },
}

/// A running engine session: send inputs, receive events.
#[derive(Debug)]
pub struct EngineSession {
    pub input: mpsc::Sender<EngineInput>,
    pub events: mpsc::Receiver<EngineEvent>,
    /// The bridge should detect barge-in itself (voice activity on the caller's audio) instead of
    /// waiting for [`EngineEvent::CallerSpeechStarted`]: for engines whose model only reports
    /// interruptions while it is still generating, not while its finished audio is playing.
    pub local_barge_in: bool,
}

impl EngineSession {
    /// Channels for an engine implementation: the session for the bridge, and the engine's ends.
    pub fn channels(
        capacity: usize,
    ) -> (
        EngineSession,
        mpsc::Receiver<EngineInput>,
        mpsc::Sender<EngineEvent>,
    ) {
        let (input_tx, input_rx) = mpsc::channel(capacity);
        let (event_tx, event_rx) = mpsc::channel(capacity);
        (
            EngineSession {
                input: input_tx,
                events: event_rx,
                local_barge_in: false,
            },
            input_rx,
            event_tx,
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("voice engine is not configured: {0}")]
    NotConfigured(String),
    #[error("could not connect to the voice engine: {0}")]
    Connect(String),
    #[error("voice engine protocol error: {0}")]
    Protocol(String),
}

/// The engines there are, by the stable name stored in `agents.engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EngineName {
    /// Says back what it hears ([`crate::echo::EchoEngine`]).
    Echo,
    OpenAiRealtime,
    GeminiLive,
    /// STT → workflow LLM → TTS with configured providers.
    Cascaded,
    /// Cascaded with local STT and TTS: no API key needed.
    Offline,
}

impl EngineName {
    pub const fn as_str(self) -> &'static str {
        match self {
            EngineName::Echo => "echo",
            EngineName::OpenAiRealtime => "openai_realtime",
            EngineName::GeminiLive => "gemini_live",
            EngineName::Cascaded => "cascaded",
            EngineName::Offline => "offline",
        }
    }
}

impl std::fmt::Display for EngineName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name no engine has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown voice engine {0:?}")]
pub struct UnknownEngine(pub String);

impl std::str::FromStr for EngineName {
    type Err = UnknownEngine;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [
            EngineName::Echo,
            EngineName::OpenAiRealtime,
            EngineName::GeminiLive,
            EngineName::Cascaded,
            EngineName::Offline,
        ]
        .into_iter()
        .find(|engine| engine.as_str() == name)
        .ok_or_else(|| UnknownEngine(name.to_owned()))
    }
}

/// Something that can serve calls. Implementations hold configuration (URLs, keys) and start one
/// session per call.
#[async_trait::async_trait]
pub trait VoiceEngine: Send + Sync {
    /// Stable name, as stored in `agents.engine`.
    fn name(&self) -> EngineName;

    /// Connect upstream and start serving `call`. Returns once the engine is ready for audio.
    async fn start(&self, call: EngineCall) -> Result<EngineSession, EngineError>;
}
