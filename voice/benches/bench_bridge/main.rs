//! How many Twilio media streams one server process bridges, with the echo engine, over loopback
//! WebSockets: latency caller frame → echoed agent frame, dropped frames, and server CPU.
//!
//!   scripts/bench-bridge.sh [--streams 100,500,1000,2000,4000] [--seconds 10] [--url ws://…@PID]
//!   bench-bridge serve --addr 127.0.0.1:0        (the server half; prints its address first)
//!
//! The driver starts `bench-bridge serve` as a child process (one per stream count, so each level
//! starts fresh and its CPU is attributable; pinned to its own CPU by default), then opens N
//! WebSocket streams that behave like Twilio: `connected`, `start`, one 160-byte μ-law `media`
//! frame every 20 ms for D seconds, a drain pause, then `stop`. A few sender tasks write every
//! stream's frames, so the driver costs less than the server it measures; `--url` puts another
//! server under the same load in the same run. The server does per connection what
//! `GET /twilio/media` does after its database and Temporal lookups: `await_start`, start the
//! engine, `run_bridge` writing to the socket with a `CallControl` that does nothing. It prints
//! numbers; it asserts nothing.

// The API's Twilio framing, compiled here as is (it uses only `voice` and `telephony`), so the
// server half runs the production adapter without linking the API crate. Its unit tests are
// compiled out here but their `use` is not, hence the allow.
extern crate switchboard_voice as voice;
#[allow(unused_imports)]
#[path = "../../../api/src/twilio_media.rs"]
pub mod twilio_media;

mod client;
mod driver;
mod options;
mod proc_stats;
mod server;
mod table;

use driver::drive;
use options::DriverOptions;
use server::serve;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use domain::TranscriptSegment;
use domain::conversation::{ToolCallRequest, ToolCallResult, TurnReply, UserTurn};
use futures::{SinkExt, StreamExt};
use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write as _},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use switchboard_voice::{
    bridge::{CallControl, ControlError, Outbound, TransportClosed, await_start, run_bridge},
    echo::EchoEngine,
    engine::{EngineCall, VoiceEngine},
};
use telephony::media_stream::{FRAME_BYTES, FRAME_MS, Inbound, StopPayload};
use tokio::{
    net::{TcpListener, TcpStream},
    time::{Instant, MissedTickBehavior},
};
use tokio_tungstenite::tungstenite::Message;

/// As in the API's media handler.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of each payload that carry the frame's sequence number (big-endian u64).
const SEQ_BYTES: usize = 8;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("serve") {
        args.next();
        let mut addr: SocketAddr = "127.0.0.1:0".parse()?;
        let mut nodelay = false;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--addr" => addr = args.next().ok_or("--addr needs a value")?.parse()?,
                "--nodelay" => nodelay = true,
                other => return Err(format!("unknown serve argument {other:?}").into()),
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(serve(addr, nodelay));
    }
    let options = DriverOptions::parse(args)?;
    if let Some(pinning) = &options.pinning {
        driver::pin_self(pinning)?;
    }
    let runtime = if options.driver_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.driver_threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(drive(options))
}
