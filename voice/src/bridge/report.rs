//! [`BridgeReport`]: the counters of one bridged stream, and why it ended.

/// Counters of one bridged stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeReport {
    pub frames_in: u64,
    pub frames_out: u64,
    /// Caller frames dropped because the engine was not keeping up.
    pub frames_dropped: u64,
    pub malformed_frames: u64,
    pub marks_sent: u64,
    pub marks_heard: u64,
    pub barge_ins: u64,
    pub tool_calls: u64,
    pub user_turns: u64,
    pub dtmf_digits: u64,
    /// Voice-to-voice latency of each reply (ms), from the caller's last voiced frame to the
    /// reply's first frame sent.
    pub reply_latencies_ms: Vec<u32>,
    /// Why the bridge stopped.
    pub ended_by: EndedBy,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EndedBy {
    /// The transport sent `stop`.
    #[default]
    Stop,
    /// The socket closed without `stop`.
    SocketClosed,
    /// The engine failed or closed.
    Engine,
}
