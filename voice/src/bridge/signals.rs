//! Signals to the call workflow, delivered in order by one task ([`SignalQueue`]).

use super::control::CallControl;
use domain::TranscriptSegment;
use std::{sync::Arc, time::Duration};
use tokio::sync::mpsc;

/// Signals to the workflow, delivered in order by one task so a transcript batch never
/// overtakes `stream_started` or follows `stream_stopped`.
pub(super) enum Signal {
    StreamStarted(String),
    Transcript(Vec<TranscriptSegment>),
    Dtmf(char),
    GoodbyePlayed,
    StreamStopped,
}

pub(super) struct SignalQueue {
    tx: mpsc::UnboundedSender<Signal>,
    task: tokio::task::JoinHandle<()>,
}

impl SignalQueue {
    pub(super) fn spawn(control: Arc<dyn CallControl>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Signal>();
        let task = tokio::spawn(async move {
            while let Some(signal) = rx.recv().await {
                deliver(control.as_ref(), signal).await;
            }
        });
        Self { tx, task }
    }

    pub(super) fn send(&self, signal: Signal) {
        // The task only ends after `finish`, so this cannot fail before then.
        let _ = self.tx.send(signal);
    }

    pub(super) async fn finish(self) {
        drop(self.tx);
        if tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .is_err()
        {
            tracing::warn!("gave up delivering the last signals of a media stream");
        }
    }
}

async fn deliver(control: &dyn CallControl, signal: Signal) {
    let (what, result) = match signal {
        Signal::StreamStarted(sid) => ("stream_started", control.stream_started(&sid).await),
        Signal::Transcript(segments) => ("transcript", control.transcript(segments).await),
        Signal::Dtmf(digit) => ("dtmf", control.dtmf(digit).await),
        Signal::GoodbyePlayed => ("goodbye_played", control.goodbye_played().await),
        Signal::StreamStopped => ("stream_stopped", control.stream_stopped().await),
    };
    if let Err(e) = result {
        tracing::warn!(signal = what, error = %e, "could not signal the call workflow");
    }
}
