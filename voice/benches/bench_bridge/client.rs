//! The load driver's streams: a lean Twilio-like WebSocket client, so the driver costs far less
//! than the server it measures. Its own HTTP upgrade, frames masked as RFC 6455 requires of a
//! client, one pre-sized buffer per stream, and a reader that takes only the sequence number out
//! of each echoed frame.

use super::driver::Totals;
use super::*;
use tokio::{
    io::AsyncReadExt as _,
    net::tcp::{OwnedReadHalf, OwnedWriteHalf},
};

/// Where the streams go: our bridge (spawned) or any WebSocket URL.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) host: String,
    pub(crate) path: String,
}

impl Target {
    /// `ws://host:port/path` (loopback or any address; no TLS).
    pub(crate) fn parse(url: &str) -> Result<Self, BoxError> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("{url:?}: only ws:// URLs are supported"))?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let addr = std::net::ToSocketAddrs::to_socket_addrs(host)?
            .next()
            .ok_or_else(|| format!("{host:?} resolves to no address"))?;
        Ok(Target {
            addr,
            host: host.to_owned(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
        })
    }
}

/// What the sender and the receiver of one stream share.
pub(crate) struct Shared {
    /// Per frame: microseconds since the level's t0 at which it was handed to the socket, plus
    /// one (0: not sent).
    pub(crate) sent_at_us: Vec<AtomicU64>,
    pub(crate) received: AtomicU64,
}

impl Shared {
    pub(crate) fn new(frames: u64) -> Arc<Self> {
        Arc::new(Shared {
            sent_at_us: (0..frames).map(|_| AtomicU64::new(0)).collect(),
            received: AtomicU64::new(0),
        })
    }
}

/// Opens a stream: TCP (no Nagle, as Twilio's edge), then the WebSocket upgrade. Returns the
/// halves and any bytes read past the upgrade response.
pub(crate) async fn connect(
    target: &Target,
) -> Result<(OwnedReadHalf, OwnedWriteHalf, Vec<u8>), BoxError> {
    let mut tcp = TcpStream::connect(target.addr).await?;
    tcp.set_nodelay(true)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        target.path, target.host
    );
    tokio::io::AsyncWriteExt::write_all(&mut tcp, request.as_bytes()).await?;
    let mut response = Vec::with_capacity(512);
    let end = loop {
        if tcp.read_buf(&mut response).await? == 0 {
            return Err("the server closed the connection during the upgrade".into());
        }
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if response.len() > 16 * 1024 {
            return Err("no end to the upgrade response's headers".into());
        }
    };
    let status = String::from_utf8_lossy(&response[..end.min(64)]).into_owned();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(format!("upgrade refused: {}", status.lines().next().unwrap_or("")).into());
    }
    let leftover = response.split_off(end);
    let (read, write) = tcp.into_split();
    Ok((read, write, leftover))
}

/// Appends a masked client text frame carrying `payload`.
pub(crate) fn text_frame(out: &mut Vec<u8>, payload: &[u8], mask: [u8; 4]) {
    out.push(0x81);
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

/// One frame the server sent: its opcode and payload, and how many bytes it took.
fn next_frame(buf: &[u8]) -> Option<(u8, std::ops::Range<usize>, bool)> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7F {
        126 => (
            usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        n => (usize::from(n), 2),
    };
    if masked {
        at += 4;
    }
    (buf.len() >= at + len).then_some((b0 & 0x0F, at..at + len, masked))
}

/// The sequence number the client wrote into the first bytes of a `media` frame's audio.
fn echoed_sequence(text: &[u8]) -> Result<Option<u64>, ()> {
    const PAYLOAD: &[u8] = b"\"payload\":\"";
    let Some(at) = text.windows(PAYLOAD.len()).position(|w| w == PAYLOAD) else {
        return Ok(None);
    };
    let b64 = text
        .get(at + PAYLOAD.len()..at + PAYLOAD.len() + 12)
        .ok_or(())?;
    let mut bytes = [0u8; 9];
    STANDARD.decode_slice(b64, &mut bytes).map_err(|_| ())?;
    Ok(Some(u64::from_be_bytes(
        bytes[..SEQ_BYTES].try_into().expect("8 bytes"),
    )))
}

/// What a stream's receiving half saw.
#[derive(Default)]
pub(crate) struct Received {
    pub(crate) latencies: Vec<u32>,
    pub(crate) first_second: Vec<u32>,
    pub(crate) last_second: Vec<u32>,
    pub(crate) unmatched: u64,
    pub(crate) marks: u64,
    pub(crate) clears: u64,
    /// The server closed the stream (after `stop`).
    pub(crate) closed: bool,
}

/// Reads the server's frames until it closes the stream, timing each echoed media frame.
pub(crate) async fn receive(
    mut read: OwnedReadHalf,
    mut buf: Vec<u8>,
    shared: Arc<Shared>,
    t0: Instant,
    totals: Arc<Totals>,
) -> Received {
    let frames = shared.sent_at_us.len() as u64;
    let second = 1000 / FRAME_MS;
    let mut seen = vec![false; frames as usize];
    let mut r = Received {
        latencies: Vec::with_capacity(frames as usize),
        ..Received::default()
    };
    buf.reserve(4096);
    'read: loop {
        let mut start = 0;
        while let Some((opcode, payload, masked)) = next_frame(&buf[start..]) {
            let frame = &buf[start + payload.start..start + payload.end];
            start += payload.end;
            match opcode {
                0x8 => {
                    r.closed = true;
                    break 'read;
                }
                0x1 if !masked => {}
                _ => continue,
            }
            if frame.windows(14).any(|w| w == b"\"event\":\"mark\"") {
                r.marks += 1;
                continue;
            }
            if frame.windows(15).any(|w| w == b"\"event\":\"clear\"") {
                r.clears += 1;
                continue;
            }
            let now_us = t0.elapsed().as_micros() as u64;
            let sent = match echoed_sequence(frame) {
                Ok(Some(seq))
                    if seq < frames && !std::mem::replace(&mut seen[seq as usize], true) =>
                {
                    Some((seq, shared.sent_at_us[seq as usize].load(Ordering::Relaxed)))
                }
                _ => None,
            };
            match sent {
                Some((seq, at)) if at > 0 => {
                    let us = now_us.saturating_sub(at - 1).min(u64::from(u32::MAX)) as u32;
                    r.latencies.push(us);
                    if seq < second {
                        r.first_second.push(us);
                    } else if seq >= frames.saturating_sub(second) {
                        r.last_second.push(us);
                    }
                    shared.received.fetch_add(1, Ordering::Relaxed);
                    totals.received.fetch_add(1, Ordering::Relaxed);
                }
                _ => r.unmatched += 1,
            }
        }
        buf.drain(..start);
        match read.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    r
}

/// Where a stream's sending half is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Phase {
    Waiting,
    Sending,
    Draining { until_ms: u64 },
    Done,
}

/// A stream's sending half: Twilio's `connected`, `start`, a `media` frame every 20 ms, then
/// (once every echo is back, or the drain time is up) `stop`.
pub(crate) struct Sender {
    index: usize,
    write: OwnedWriteHalf,
    shared: Arc<Shared>,
    /// Bytes a full socket did not take yet.
    pending: Vec<u8>,
    json: String,
    mask: [u8; 4],
    pub(crate) sent: u64,
    pub(crate) phase: Phase,
    pub(crate) error: Option<String>,
}

impl Sender {
    pub(crate) fn new(index: usize, write: OwnedWriteHalf, shared: Arc<Shared>) -> Self {
        let mask = (index as u32).wrapping_mul(0x9E37_79B9).to_be_bytes();
        Sender {
            index,
            write,
            shared,
            pending: Vec::with_capacity(512),
            json: String::with_capacity(512),
            mask,
            sent: 0,
            phase: Phase::Waiting,
            error: None,
        }
    }

    fn call_sid(&self) -> String {
        format!("CA{:032x}", self.index)
    }

    fn stream_sid(&self) -> String {
        format!("MZ{:032x}", self.index)
    }

    /// Queues one text message and writes what the socket takes now.
    fn send_text(&mut self, text: &str) {
        text_frame(&mut self.pending, text.as_bytes(), self.mask);
        self.flush();
    }

    /// Writes pending bytes without waiting; what the socket does not take stays pending.
    pub(crate) fn flush(&mut self) {
        while !self.pending.is_empty() && self.error.is_none() {
            match self.write.try_write(&self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    self.error = Some(format!("send: {e}"));
                    self.phase = Phase::Done;
                }
            }
        }
    }

    /// The stream's `connected` and `start`.
    pub(crate) fn begin(&mut self) {
        let (call_sid, stream_sid) = (self.call_sid(), self.stream_sid());
        let parameters = BTreeMap::from([
            ("callSid".to_owned(), call_sid.clone()),
            ("tenantId".to_owned(), "bench".to_owned()),
        ]);
        let [connected, start] = Inbound::opening(
            "AC00000000000000000000000000000000",
            &call_sid,
            &stream_sid,
            parameters,
        );
        self.send_text(&connected.to_json());
        self.send_text(&start.to_json());
        self.phase = Phase::Sending;
    }

    /// The next `media` frame, in Twilio's shape, its audio's first bytes its sequence number.
    pub(crate) fn media(&mut self, t0: Instant) {
        let seq = self.sent;
        let mut audio = [0xFFu8; FRAME_BYTES];
        audio[..SEQ_BYTES].copy_from_slice(&seq.to_be_bytes());
        let mut json = std::mem::take(&mut self.json);
        json.clear();
        use std::fmt::Write as _;
        let _ = write!(
            json,
            r#"{{"event":"media","sequenceNumber":"{}","media":{{"track":"inbound","chunk":"{}","timestamp":"{}","payload":""#,
            seq + 2,
            seq + 1,
            seq * FRAME_MS
        );
        STANDARD.encode_string(audio, &mut json);
        let _ = write!(json, r#""}},"streamSid":"MZ{:032x}"}}"#, self.index);
        self.shared.sent_at_us[seq as usize]
            .store(t0.elapsed().as_micros() as u64 + 1, Ordering::Relaxed);
        self.send_text(&json);
        self.json = json;
        self.sent += 1;
    }

    pub(crate) fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    /// `stop`, as Twilio sends when the caller hangs up.
    pub(crate) fn stop(&mut self) {
        let stop = Inbound::Stop {
            sequence_number: self.sent + 2,
            stream_sid: self.stream_sid(),
            stop: StopPayload {
                account_sid: "AC00000000000000000000000000000000".into(),
                call_sid: self.call_sid(),
            },
        };
        self.send_text(&stop.to_json());
        self.phase = Phase::Done;
    }

    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}
