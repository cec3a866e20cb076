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
            let mut frame_no: u64 = 0;
            while let Some(message) = input.recv().await {
                if let EngineInput::Audio(mulaw) = message {
                    frame_no += 1;
                    let item_id = format!("echo-{frame_no}");
                    if events
                        .send(EngineEvent::AgentAudio { item_id, mulaw })
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        });
        Ok(session)
    }
}
