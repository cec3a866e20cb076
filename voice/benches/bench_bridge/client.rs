//! One Twilio-like client stream and what it saw.

use super::driver::Totals;
use super::*;

/// What one client saw.
#[derive(Default)]
pub(crate) struct ClientResult {
    pub(crate) sent: u64,
    pub(crate) received: u64,
    /// Echoed frames whose sequence was unknown or already seen.
    pub(crate) unmatched: u64,
    pub(crate) marks: u64,
    pub(crate) clears: u64,
    pub(crate) latencies_us: Vec<u32>,
    /// Latencies of the stream's first and last second of frames.
    pub(crate) first_second_us: Vec<u32>,
    pub(crate) last_second_us: Vec<u32>,
    pub(crate) error: Option<String>,
    /// The server closed the socket after `stop` (the bridge ended cleanly).
    pub(crate) closed_cleanly: bool,
}

/// What a client's receiving half collected.
pub(crate) struct Received {
    pub(crate) latencies: Vec<u32>,
    pub(crate) first_second: Vec<u32>,
    pub(crate) last_second: Vec<u32>,
    pub(crate) unmatched: u64,
    pub(crate) marks: u64,
    pub(crate) clears: u64,
    pub(crate) closed: bool,
}

/// One Twilio-like stream: connect, `connected`, `start`, media every 20 ms, drain, `stop`, and
/// wait for the server to close.
pub(crate) async fn run_client(
    index: usize,
    addr: SocketAddr,
    frames: u64,
    drain: Duration,
    totals: &Totals,
) -> ClientResult {
    let mut result = ClientResult::default();
    let socket = async {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (socket, _) =
            tokio_tungstenite::client_async(format!("ws://{addr}/twilio/media"), tcp).await?;
        Ok::<_, BoxError>(socket)
    };
    let socket = match socket.await {
        Ok(socket) => socket,
        Err(e) => {
            result.error = Some(format!("connect: {e}"));
            return result;
        }
    };
    let (mut sink, mut stream) = socket.split();
    let call_sid = format!("CA{index:032x}");
    let stream_sid = format!("MZ{index:032x}");
    let sent_at: Mutex<Vec<Option<Instant>>> = Mutex::new(vec![None; frames as usize]);
    let received = AtomicU64::new(0);

    let sender = async {
        let connected = Inbound::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        };
        let start = Inbound::Start {
            sequence_number: 1,
            stream_sid: stream_sid.clone(),
            start: StartPayload {
                account_sid: "AC00000000000000000000000000000000".into(),
                stream_sid: stream_sid.clone(),
                call_sid: call_sid.clone(),
                tracks: vec!["inbound".into()],
                custom_parameters: BTreeMap::from([
                    ("callSid".to_owned(), call_sid.clone()),
                    ("tenantId".to_owned(), "bench".to_owned()),
                ]),
                media_format: MediaFormat::twilio_mulaw(),
            },
        };
        for message in [connected, start] {
            sink.send(Message::text(message.to_json())).await?;
        }
        let mut ticker = tokio::time::interval(Duration::from_millis(FRAME_MS));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut payload = [0xFFu8; FRAME_BYTES];
        let mut sent = 0u64;
        for seq in 0..frames {
            ticker.tick().await;
            payload[..SEQ_BYTES].copy_from_slice(&seq.to_be_bytes());
            let media = Inbound::Media {
                sequence_number: seq + 2,
                stream_sid: stream_sid.clone(),
                media: InboundMedia {
                    track: "inbound".into(),
                    chunk: seq + 1,
                    timestamp: seq * FRAME_MS,
                    payload: STANDARD.encode(payload),
                },
            };
            let text = media.to_json();
            sent_at.lock().expect("not poisoned")[seq as usize] = Some(Instant::now());
            sink.send(Message::text(text)).await?;
            sent += 1;
            totals.sent.fetch_add(1, Ordering::Relaxed);
        }
        // Listen until every echo is back or the drain time is up, like a caller who stops
        // talking and waits for the answer, then hang up.
        let drain_end = Instant::now() + drain;
        while received.load(Ordering::Relaxed) < sent && Instant::now() < drain_end {
            tokio::time::sleep(Duration::from_millis(FRAME_MS)).await;
        }
        let stop = Inbound::Stop {
            sequence_number: frames + 2,
            stream_sid: stream_sid.clone(),
            stop: StopPayload {
                account_sid: "AC00000000000000000000000000000000".into(),
                call_sid: call_sid.clone(),
            },
        };
        sink.send(Message::text(stop.to_json())).await?;
        Ok::<u64, BoxError>(sent)
    };

    let receiver = async {
        let mut seen = vec![false; frames as usize];
        let mut latencies = Vec::with_capacity(frames as usize);
        let (mut first_second, mut last_second) = (Vec::new(), Vec::new());
        let second = 1000 / FRAME_MS;
        let (mut unmatched, mut marks, mut clears, mut closed) = (0u64, 0u64, 0u64, false);
        while let Some(message) = stream.next().await {
            let text = match message {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(_)) => {
                    closed = true;
                    break;
                }
                Ok(_) => continue,
                Err(_) => break,
            };
            let now = Instant::now();
            match parse_outbound(text.as_str()) {
                Ok(Some(Outbound::Media { media, .. })) => {
                    let seq = STANDARD
                        .decode(media.payload.as_bytes())
                        .ok()
                        .filter(|bytes| bytes.len() >= SEQ_BYTES)
                        .map(|bytes| {
                            let mut b = [0u8; SEQ_BYTES];
                            b.copy_from_slice(&bytes[..SEQ_BYTES]);
                            u64::from_be_bytes(b) as usize
                        });
                    let at = seq.and_then(|s| {
                        let at = *sent_at.lock().expect("not poisoned").get(s)?;
                        (!std::mem::replace(&mut seen[s], true)).then_some((s as u64, at?))
                    });
                    match at {
                        Some((seq, at)) => {
                            let us = (now - at).as_micros().min(u128::from(u32::MAX)) as u32;
                            latencies.push(us);
                            if seq < second {
                                first_second.push(us);
                            } else if seq >= frames.saturating_sub(second) {
                                last_second.push(us);
                            }
                            received.fetch_add(1, Ordering::Relaxed);
                            totals.received.fetch_add(1, Ordering::Relaxed);
                        }
                        None => unmatched += 1,
                    }
                }
                Ok(Some(Outbound::Mark { .. })) => marks += 1,
                Ok(Some(Outbound::Clear { .. })) => clears += 1,
                Ok(None) | Err(_) => unmatched += 1,
            }
        }
        Received {
            latencies,
            first_second,
            last_second,
            unmatched,
            marks,
            clears,
            closed,
        }
    };

    // The receiver ends when the server closes the socket (after `stop`) or the socket fails.
    let receiver = tokio::time::timeout(
        Duration::from_millis(frames * FRAME_MS) + drain + Duration::from_secs(10),
        receiver,
    );
    let (sent, received_part) = tokio::join!(sender, receiver);
    match sent {
        Ok(sent) => result.sent = sent,
        Err(e) => {
            result.error = Some(format!("send: {e}"));
            result.sent = sent_at
                .lock()
                .expect("not poisoned")
                .iter()
                .filter(|s| s.is_some())
                .count() as u64;
        }
    }
    match received_part {
        Ok(r) => {
            result.received = r.latencies.len() as u64;
            result.latencies_us = r.latencies;
            result.first_second_us = r.first_second;
            result.last_second_us = r.last_second;
            result.unmatched = r.unmatched;
            result.marks = r.marks;
            result.clears = r.clears;
            result.closed_cleanly = r.closed;
        }
        Err(_) => {
            result.received = received.load(Ordering::Relaxed);
            result
                .error
                .get_or_insert("the server did not close the stream after stop".into());
        }
    }
    result
}
