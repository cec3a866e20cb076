//! The echo engine: says back what the caller says, frame for frame. It has no model; it
//! exists to measure the bridge (the benchmark) and to check a phone line end to end.

use crate::engine::{
    EngineCall, EngineError, EngineEvent, EngineInput, EngineName, EngineSession, VoiceEngine,
};

#[derive(Debug, Default, Clone, Copy)]
pub struct EchoEngine;

#[async_trait::async_trait]
impl VoiceEngine for EchoEngine {
    fn name(&self) -> EngineName {
        EngineName::Echo
    }

    async fn start(&self, _call: EngineCall) -> Result<EngineSession, EngineError> {
        let (session, mut input, events) = EngineSession::channels(256);
        tokio::spawn(async move {
            // One utterance until the caller interrupts it, as a model's reply is one item.
            let mut utterance: u64 = 1;
            let mut item_id = format!("echo-{utterance}");
            while let Some(message) = input.recv().await {
                match message {
                    EngineInput::Audio(mulaw) => {
                        let audio = EngineEvent::AgentAudio {
                            item_id: item_id.clone(),
                            mulaw,
                        };
                        if events.send(audio).await.is_err() {
                            break;
                        }
                    }
                    EngineInput::Interrupt { .. } => {
                        utterance += 1;
                        item_id = format!("echo-{utterance}");
                    }
                    _ => {}
                }
            }
        });
        Ok(session)
    }
}
