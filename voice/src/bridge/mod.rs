//! The call bridge: pumps one media stream to and from one voice engine.
//!
//! Transport-agnostic: the bridge reads typed [`TransportEvent`]s from any `Stream` and writes
//! [`TransportCommand`]s to an [`Outbound`] sink (the socket itself, framed on the way), so the
//! API's Twilio Media Streams adapter, a browser transport, the tests and the benchmark all
//! drive the same code. What it does:
//!
//! - caller audio goes to the engine as it arrives; a full engine drops the frame (counted)
//!   rather than stall the socket;
//! - agent audio is queued and **paced** at real time, one 160-byte μ-law frame per 20 ms;
//!   after the last frame of each utterance a mark is sent, and the transport's echo of it says
//!   the caller heard the whole utterance ([`playout`]);
//! - **barge-in**: when the engine (or the bridge's own detector) hears the caller start
//!   speaking while agent audio is queued or playing, the bridge sends `clear` at once, drops
//!   what is queued, tells the engine how much of the utterance was heard
//!   ([`EngineInput::Interrupt`](crate::engine::EngineInput::Interrupt)), and records the
//!   agent's transcript segment as interrupted at that point ([`barge_in`], [`transcript`]);
//! - tool calls and cascaded user turns go to the call workflow as Updates ([`CallControl`]),
//!   concurrently, and their results go back to the engine ([`updates`]); DTMF, transcript
//!   batches, stream start/stop and "the goodbye was heard" go to the workflow as Signals, in
//!   order ([`signals`]);
//! - a malformed frame is logged and skipped; it never ends the call.
//!
//! [`run_bridge`] is the event loop; each event is handled by one method of
//! [`stream::BridgedStream`], and the no-I/O [`state::BridgeState`] under it is what the unit
//! tests drive frame by frame.

mod barge_in;
mod control;
mod latency;
mod playout;
mod report;
mod signals;
mod start;
mod state;
mod stream;
mod transcript;
mod transport;
mod updates;

pub use control::{CallControl, ControlError};
pub use report::{BridgeReport, EndedBy};
pub use start::{StartError, await_start};
pub use transport::{
    FRAME_BYTES, FRAME_MS, Outbound, StreamStart, TransportClosed, TransportCommand,
    TransportEvent, channel_outbound,
};

use crate::{
    engine::EngineSession,
    recording::{CallRecorder, Recording},
};
use futures::{Stream, StreamExt};
use std::{ops::ControlFlow, sync::Arc, time::Duration};
use stream::{BridgedStream, Channels};
use tokio::{sync::mpsc, time::Instant};

/// Runs the bridge until the stream stops, the transport closes or the engine ends.
pub async fn run_bridge<S>(
    start: StreamStart,
    engine: EngineSession,
    control: Arc<dyn CallControl>,
    inbound: S,
    outbound: Outbound,
) -> BridgeReport
where
    S: Stream<Item = TransportEvent> + Unpin,
{
    let ends = BridgeEnds { inbound, outbound };
    run_recorded_bridge(start, engine, control, ends, None)
        .await
        .0
}

/// The transport's two directions.
pub struct BridgeEnds<S> {
    pub inbound: S,
    pub outbound: Outbound,
}

/// [`run_bridge`], recording both sides of the call when given a recorder: what the caller
/// said as it arrived, and what the agent said as it was sent (a barge-in cuts it).
pub async fn run_recorded_bridge<S>(
    start: StreamStart,
    engine: EngineSession,
    control: Arc<dyn CallControl>,
    ends: BridgeEnds<S>,
    recorder: Option<CallRecorder>,
) -> (BridgeReport, Option<Recording>)
where
    S: Stream<Item = TransportEvent> + Unpin,
{
    let BridgeEnds {
        mut inbound,
        outbound,
    } = ends;
    let EngineSession {
        input: engine_input,
        events: mut engine_events,
        local_barge_in,
    } = engine;
    let (answers, mut answers_rx) = mpsc::channel(16);
    let channels = Channels {
        engine_input,
        outbound,
        answers,
    };
    let mut stream = BridgedStream::start(&start, channels, local_barge_in, control, recorder);
    // The pacer: armed for the next moment the stream must act by itself, disarmed while idle.
    let pacer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(pacer);
    let (mut armed_for, mut last_tick) = (None, Instant::now());

    let ended_by = loop {
        let due = stream.next_wake(last_tick);
        if due != armed_for {
            if let Some(at) = due {
                pacer.as_mut().reset(at);
            }
            armed_for = due;
        }
        let step = tokio::select! {
            event = inbound.next() => stream.on_transport(event).await,
            event = engine_events.recv() => stream.on_engine(event).await,
            Some(answer) = answers_rx.recv() => stream.on_answer(answer).await,
            _ = &mut pacer, if armed_for.is_some() => {
                (armed_for, last_tick) = (None, Instant::now());
                stream.on_tick().await
            }
        };
        if let ControlFlow::Break(ended_by) = step {
            break ended_by;
        }
    };
    stream.finish(ended_by).await
}

#[cfg(test)]
mod tests;
