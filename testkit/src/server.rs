//! Plumbing shared by the fakes: listener, writer task, upgrade rejection, finish flag.

use std::net::SocketAddr;
use std::time::Duration;

use futures::SinkExt;
use futures::stream::SplitSink;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::ErrorResponse;
use tokio_tungstenite::tungstenite::http::{Response, StatusCode, Uri};

pub(crate) type ServerSink = SplitSink<WebSocketStream<TcpStream>, Message>;
pub(crate) type Outgoing = mpsc::UnboundedSender<Message>;

/// What the connection reader hands to the script runner.
#[derive(Debug)]
pub(crate) enum FromClient {
    /// A client event (JSON).
    Event(serde_json::Value),
    /// Decoded caller audio as 16-bit PCM (already converted from the wire format).
    Audio(Vec<i16>),
}

pub(crate) async fn bind_local() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

/// A task that writes queued messages to `sink`, so every part of a fake can send without
/// holding the sink.
pub(crate) fn spawn_writer(mut sink: ServerSink) -> Outgoing {
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            if sink.send(message).await.is_err() {
                break;
            }
        }
    });
    tx
}

pub(crate) fn send_json(out: &Outgoing, value: serde_json::Value) {
    // A closed connection is not the script's problem: the runner notices when reading.
    let _ = out.send(Message::text(value.to_string()));
}

/// A rejected WebSocket upgrade.
pub(crate) fn reject(status: StatusCode, reason: &str) -> ErrorResponse {
    let mut response = Response::new(Some(reason.to_owned()));
    *response.status_mut() = status;
    response
}

/// The (percent-decoded) value of query parameter `name`.
pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits until the next client event matching `accept`; `None` if the client went away.
pub(crate) async fn wait_for_event(
    rx: &mut mpsc::UnboundedReceiver<FromClient>,
    mut accept: impl FnMut(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    while let Some(next) = rx.recv().await {
        if let FromClient::Event(event) = next
            && accept(&event)
        {
            return Some(event);
        }
    }
    None
}

pub(crate) async fn wait_finished(mut finished: watch::Receiver<bool>, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, finished.wait_for(|done| *done))
        .await
        .is_ok_and(|r| r.is_ok())
}
