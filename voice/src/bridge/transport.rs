//! What the bridge exchanges with a media transport, as typed events and commands.
//!
//! A transport adapter (the API's Twilio Media Streams framing, a browser socket, a test)
//! turns its wire frames into [`TransportEvent`]s and writes each [`TransportCommand`] back in
//! its own format. The bridge never sees a wire format, so it needs no telephony crate.

use futures::Sink;
use std::{collections::BTreeMap, pin::Pin};
use tokio::sync::mpsc;

/// Bytes of one 20 ms frame of 8 kHz μ-law audio.
pub const FRAME_BYTES: usize = 160;
/// Duration of one frame.
pub const FRAME_MS: u64 = 20;

/// A stream whose start has arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStart {
    /// The transport's id of this stream (Twilio's `streamSid`).
    pub stream_sid: String,
    /// The call the stream belongs to, as the transport names it.
    pub call_sid: String,
    /// Parameters the stream was opened with (`<Parameter>`s of Twilio's `<Stream>`).
    pub custom_parameters: BTreeMap<String, String>,
}

/// From the transport to the bridge: one per wire frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEvent {
    /// The stream started.
    Start(StreamStart),
    /// Caller audio: μ-law 8 kHz, normally one 20 ms frame.
    Media(Vec<u8>),
    /// The transport played everything sent before the mark of this name.
    Mark(String),
    /// The caller pressed a key.
    Dtmf(char),
    /// The transport ended the stream.
    Stop,
    /// A frame that could not be read; the bridge logs it, counts it and goes on.
    Malformed(String),
    /// A well-formed frame the bridge has no use for (a greeting, another track, a new event).
    Ignored,
}

/// From the bridge to the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportCommand {
    /// Agent audio to play: one μ-law 8 kHz frame.
    Media(Vec<u8>),
    /// Echo this name back once everything sent before it has been played.
    Mark(String),
    /// Drop all audio not yet played (barge-in).
    Clear,
}

/// The transport is closed: nothing more can be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportClosed;

/// Where the bridge writes its commands. For a socket, the socket itself with each command
/// framed on the way: the bridge writes every frame from its own task, no task or channel
/// between it and the socket. The bridge closes it when it ends.
pub type Outbound = Pin<Box<dyn Sink<TransportCommand, Error = TransportClosed> + Send>>;

/// An [`Outbound`] that is a channel's sending end (the tests read the other end).
pub fn channel_outbound(sender: mpsc::Sender<TransportCommand>) -> Outbound {
    Box::pin(futures::sink::unfold(
        sender,
        |sender, command| async move {
            sender.send(command).await.map_err(|_| TransportClosed)?;
            Ok(sender)
        },
    ))
}
