//! The server half: what `GET /twilio/media` does per connection, minus the session and agent
//! lookups and metrics.

use super::*;

/// The call workflow, absent: signals succeed at once, Updates fail (echo never sends any).
pub(crate) struct NoWorkflow;

#[async_trait::async_trait]
impl CallControl for NoWorkflow {
    async fn stream_started(&self, _stream_sid: &str) -> Result<(), ControlError> {
        Ok(())
    }
    async fn transcript(&self, _segments: Vec<TranscriptSegment>) -> Result<(), ControlError> {
        Ok(())
    }
    async fn dtmf(&self, _digit: char) -> Result<(), ControlError> {
        Ok(())
    }
    async fn tool_call(&self, _request: ToolCallRequest) -> Result<ToolCallResult, ControlError> {
        Err(ControlError("bench-bridge has no call workflow".into()))
    }
    async fn user_turn(&self, _turn: UserTurn) -> Result<TurnReply, ControlError> {
        Err(ControlError("bench-bridge has no call workflow".into()))
    }
    async fn goodbye_played(&self) -> Result<(), ControlError> {
        Ok(())
    }
    async fn stream_stopped(&self) -> Result<(), ControlError> {
        Ok(())
    }
}

pub(crate) async fn serve(addr: SocketAddr, nodelay: bool) -> Result<(), BoxError> {
    let listener = TcpListener::bind(addr).await?;
    println!("{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    // The driver holds our stdin; when it goes away (even killed), so do we.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    loop {
        let (tcp, _) = listener.accept().await?;
        if nodelay {
            let _ = tcp.set_nodelay(true);
        }
        tokio::spawn(serve_stream(tcp));
    }
}

/// What `api::routes::media::serve_stream` does, minus the session/agent lookups and metrics.
pub(crate) async fn serve_stream(tcp: TcpStream) {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(telephony::media_stream::SOCKET_READ_BUFFER);
    let socket = match tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await {
        Ok(socket) => socket,
        Err(e) => {
            eprintln!("bench-bridge serve: handshake failed: {e}");
            return;
        }
    };
    let (sink, stream) = socket.split();
    let mut inbound = Box::pin(stream.filter_map(|message| async move {
        match message {
            Ok(Message::Text(text)) => Some(Some(twilio_media::inbound_event(&text))),
            Ok(Message::Close(_)) | Err(_) => Some(None),
            Ok(_) => None,
        }
    }))
    .take_while(|m| std::future::ready(m.is_some()))
    .filter_map(std::future::ready);

    let Ok(start) = await_start(&mut inbound, START_TIMEOUT).await else {
        return;
    };
    let call = EngineCall {
        call_sid: start.call_sid.clone(),
        instructions: String::new(),
        greeting: String::new(),
        settings: serde_json::Value::Null,
        tools: Vec::new(),
    };
    let Ok(session) = EchoEngine.start(call).await else {
        return;
    };
    // As the API's `socket_outbound`: the bridge writes each frame to the socket itself.
    let stream_sid = start.stream_sid.clone();
    let outbound: Outbound = Box::pin(
        sink.with(move |command| {
            let text = twilio_media::outbound_frame(&stream_sid, command);
            std::future::ready(Ok::<_, tokio_tungstenite::tungstenite::Error>(
                Message::text(text),
            ))
        })
        .sink_map_err(|_| TransportClosed),
    );
    let _report = run_bridge(start, session, Arc::new(NoWorkflow), inbound, outbound).await;
}
