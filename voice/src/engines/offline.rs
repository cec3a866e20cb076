//! The offline engine, the embedded default: the cascaded engine with local parts only —
//! speech-to-text from the supervised Whisper sidecar ([`SttSidecar`], spoken to over the same
//! Deepgram protocol as the cloud), text-to-speech from flite (or espeak-ng), and whatever
//! answers the workflow's `llm_turn` activity (the rule-based dialog when no LLM is configured).

use crate::{
    engine::{EngineCall, EngineError, EngineName, EngineSession, VoiceEngine},
    engines::cascaded::Cascaded,
    stt::{DeepgramStt, SttSidecar},
    tts::{EspeakTts, EspeakTtsConfig, FliteTts, TtsProvider},
};
use std::sync::Arc;

pub struct OfflineEngine {
    cascaded: Cascaded,
    /// Keeps the sidecar running as long as the engine is offered.
    _sidecar: Arc<SttSidecar>,
}

impl OfflineEngine {
    pub fn new(sidecar: Arc<SttSidecar>, tts: Arc<dyn TtsProvider>) -> Self {
        let stt = Arc::new(DeepgramStt::new(sidecar.deepgram_config()));
        Self {
            cascaded: Cascaded::new(stt, tts),
            _sidecar: sidecar,
        }
    }

    /// The best offline text-to-speech installed: flite, else espeak-ng.
    pub fn local_tts() -> Option<Arc<dyn TtsProvider>> {
        if FliteTts::available() {
            Some(Arc::new(FliteTts::default()))
        } else if EspeakTts::available() {
            Some(Arc::new(EspeakTts::new(EspeakTtsConfig::default())))
        } else {
            None
        }
    }
}

#[async_trait::async_trait]
impl VoiceEngine for OfflineEngine {
    fn name(&self) -> EngineName {
        EngineName::Offline
    }

    async fn start(&self, call: EngineCall) -> Result<EngineSession, EngineError> {
        self.cascaded.start(call).await
    }
}
