//! [`await_start`]: the wait for a stream's start, before the bridge runs.

use super::transport::{StreamStart, TransportEvent};
use futures::{Stream, StreamExt};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the media stream closed before `start`")]
    ClosedBeforeStart,
    #[error("no `start` within {0:?}")]
    Timeout(Duration),
}

/// Reads events until the stream's start, skipping everything else (malformed frames logged).
pub async fn await_start<S>(inbound: &mut S, timeout: Duration) -> Result<StreamStart, StartError>
where
    S: Stream<Item = TransportEvent> + Unpin,
{
    let wait = async {
        while let Some(event) = inbound.next().await {
            match event {
                TransportEvent::Start(start) => return Ok(start),
                TransportEvent::Malformed(e) => {
                    tracing::warn!(error = %e, "skipping malformed frame before start")
                }
                _ => {}
            }
        }
        Err(StartError::ClosedBeforeStart)
    };
    tokio::time::timeout(timeout, wait)
        .await
        .unwrap_or(Err(StartError::Timeout(timeout)))
}
