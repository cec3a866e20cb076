use super::{playout::Paced, state::BridgeState, *};
use crate::{
    engine::{EngineEvent, EngineInput},
    mulaw::SILENCE,
};
use domain::{
    Speaker, TranscriptSegment,
    conversation::{ToolCallRequest, ToolCallResult, TurnReply, UserTurn},
};
use tokio::time::Instant;

fn state() -> BridgeState {
    BridgeState::new(Instant::now())
}

fn frames(out: &[Paced]) -> usize {
    out.iter().filter(|p| matches!(p, Paced::Frame(_))).count()
}

#[tokio::test(start_paused = true)]
async fn audio_leaves_in_160_byte_frames_then_a_mark() {
    let mut s = state();
    s.queue_audio("a", &[1u8; 400]);
    s.queue_mark("a");
    let first = s.next_frame();
    assert_eq!(first, vec![Paced::Frame(vec![1u8; 160])]);
    assert!(
        s.next_frame().is_empty(),
        "the next frame waits for its 20 ms"
    );
    tokio::time::advance(Duration::from_millis(20)).await;
    assert_eq!(frames(&s.next_frame()), 1);
    tokio::time::advance(Duration::from_millis(20)).await;
    let last = s.next_frame();
    let Paced::Frame(frame) = &last[0] else {
        panic!()
    };
    assert_eq!(&frame[..80], &[1u8; 80][..]);
    assert_eq!(
        &frame[80..],
        &[SILENCE; 80][..],
        "last frame padded with silence"
    );
    assert!(matches!(&last[1], Paced::Mark(name) if name.ends_with(":a")));
    assert!(s.next_frame().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_late_tick_is_caught_up_not_carried_as_delay() {
    let mut s = state();
    s.queue_audio("a", &[1u8; 160 * 20]);
    assert_eq!(frames(&s.next_frame()), 1);
    // The task was not scheduled for 100 ms: the five frames due go out together.
    tokio::time::advance(Duration::from_millis(100)).await;
    assert_eq!(frames(&s.next_frame()), 5);
    tokio::time::advance(Duration::from_millis(20)).await;
    assert_eq!(frames(&s.next_frame()), 1);
}

#[tokio::test(start_paused = true)]
async fn a_reply_after_a_quiet_spell_is_paced_from_its_arrival() {
    let mut s = state();
    s.queue_audio("a", &[1u8; 320]);
    s.queue_mark("a");
    assert_eq!(frames(&s.next_frame()), 1);
    tokio::time::advance(Duration::from_millis(20)).await;
    assert_eq!(frames(&s.next_frame()), 1);
    assert_eq!(s.next_playout(), None, "nothing queued: the pacer sleeps");
    tokio::time::advance(Duration::from_secs(2)).await;
    s.queue_audio("b", &[2u8; 160 * 10]);
    assert_eq!(
        frames(&s.next_frame()),
        1,
        "one frame now, not the whole reply"
    );
    // Then one frame ahead of the clock, as at the start of any run.
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(frames(&s.next_frame()), 1);
    tokio::time::advance(Duration::from_millis(19)).await;
    assert!(s.next_frame().is_empty());
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(frames(&s.next_frame()), 1);
}

#[tokio::test(start_paused = true)]
async fn audio_arriving_while_the_last_frame_plays_keeps_the_grid() {
    let mut s = state();
    s.queue_audio("a", &[1u8; 160]);
    assert_eq!(frames(&s.next_frame()), 1);
    tokio::time::advance(Duration::from_millis(5)).await;
    s.queue_audio("a", &[1u8; 320]);
    assert_eq!(
        frames(&s.next_frame()),
        1,
        "the second frame was due at once"
    );
    tokio::time::advance(Duration::from_millis(15)).await;
    assert!(s.next_frame().is_empty());
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(frames(&s.next_frame()), 1, "the third on the 20 ms grid");
}

#[tokio::test(start_paused = true)]
async fn barge_in_reports_heard_position_and_drops_the_rest() {
    let mut s = state();
    s.agent_text("a", "Our opening hours are nine to five".into());
    s.queue_audio("a", &[1u8; 160 * 50]);
    s.queue_mark("a");
    for _ in 0..10 {
        s.next_frame();
        tokio::time::advance(Duration::from_millis(20)).await;
    }
    let (item, heard) = s.barge_in().expect("agent audio was playing");
    assert_eq!(item, "a");
    assert_eq!(heard, 200);
    assert!(s.next_frame().is_empty(), "nothing more is sent");
    // Late audio of the cut utterance is dropped.
    s.queue_audio("a", &[1u8; 160]);
    assert!(s.next_frame().is_empty());
    let segments = s.take_segments();
    assert_eq!(segments.len(), 1);
    assert!(segments[0].interrupted);
    assert_eq!(segments[0].end_ms - segments[0].start_ms, 200);
    assert_eq!(s.barge_in(), None, "nothing left to interrupt");
}

#[tokio::test(start_paused = true)]
async fn a_heard_utterance_is_not_interrupted_and_the_goodbye_is_detected() {
    let mut s = state();
    s.queue_audio("a", &[1u8; 160]);
    s.queue_mark("a");
    let out = s.next_frame();
    let Paced::Mark(name) = &out[1] else { panic!() };
    tokio::time::advance(Duration::from_millis(20)).await;
    s.end_after_next_utterance();
    assert_eq!(s.mark_heard(name).as_deref(), Some("a"));
    assert!(
        !s.goodbye_heard("a"),
        "utterance before end_call is not the goodbye"
    );
    assert_eq!(s.barge_in(), None);
    s.agent_text("a", "Hello".into());
    s.queue_audio("bye", &[1u8; 160]);
    s.queue_mark("bye");
    let out = s.next_frame();
    let Paced::Mark(name) = &out[1] else { panic!() };
    assert_eq!(s.mark_heard(name).as_deref(), Some("bye"));
    assert!(s.goodbye_heard("bye"));
    assert!(!s.goodbye_heard("bye"), "signalled once");
    let segments = s.take_segments();
    assert_eq!(segments.len(), 1);
    assert!(!segments[0].interrupted);
}

/// Records what the workflow would be told.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl CallControl for Recorder {
    async fn stream_started(&self, sid: &str) -> Result<(), ControlError> {
        self.0.lock().unwrap().push(format!("started {sid}"));
        Ok(())
    }
    async fn transcript(&self, s: Vec<TranscriptSegment>) -> Result<(), ControlError> {
        self.0
            .lock()
            .unwrap()
            .push(format!("transcript {}", s.len()));
        Ok(())
    }
    async fn dtmf(&self, digit: char) -> Result<(), ControlError> {
        self.0.lock().unwrap().push(format!("dtmf {digit}"));
        Ok(())
    }
    async fn tool_call(&self, _: ToolCallRequest) -> Result<ToolCallResult, ControlError> {
        Err(ControlError("no tools here".into()))
    }
    async fn user_turn(&self, _: UserTurn) -> Result<TurnReply, ControlError> {
        Err(ControlError("no turns here".into()))
    }
    async fn goodbye_played(&self) -> Result<(), ControlError> {
        self.0.lock().unwrap().push("goodbye".into());
        Ok(())
    }
    async fn stream_stopped(&self) -> Result<(), ControlError> {
        self.0.lock().unwrap().push("stopped".into());
        Ok(())
    }
}

#[tokio::test]
async fn malformed_frames_are_skipped_and_the_stream_goes_on() {
    use crate::{
        echo::EchoEngine,
        engine::{EngineCall, VoiceEngine},
    };
    let start = test_start();
    let engine = EchoEngine
        .start(EngineCall {
            call_sid: "CA1".into(),
            instructions: String::new(),
            greeting: String::new(),
            settings: serde_json::Value::Null,
            tools: Vec::new(),
        })
        .await
        .unwrap();
    let (inbound_tx, inbound) = futures::channel::mpsc::unbounded::<TransportEvent>();
    let (outbound, mut sent) = mpsc::channel(64);
    let control = Arc::new(Recorder::default());
    let bridge = tokio::spawn(run_bridge(
        start,
        engine,
        control.clone(),
        inbound,
        channel_outbound(outbound),
    ));

    let frame = vec![0x42u8; FRAME_BYTES];
    for garbage in [
        TransportEvent::Malformed("not json".into()),
        TransportEvent::Malformed("media without media".into()),
        TransportEvent::Malformed("media payload is not base64".into()),
        TransportEvent::Ignored,
    ] {
        inbound_tx.unbounded_send(garbage).unwrap();
    }
    inbound_tx
        .unbounded_send(TransportEvent::Media(frame.clone()))
        .unwrap();
    inbound_tx
        .unbounded_send(TransportEvent::Dtmf('7'))
        .unwrap();

    // The echo of the one good frame comes back, whole.
    let echoed = tokio::time::timeout(Duration::from_secs(5), sent.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(echoed, TransportCommand::Media(frame));

    inbound_tx.unbounded_send(TransportEvent::Stop).unwrap();
    let report = bridge.await.unwrap();
    assert_eq!(report.malformed_frames, 3, "{report:?}");
    assert_eq!(report.frames_in, 1);
    assert_eq!(report.frames_out, 1);
    assert_eq!(report.dtmf_digits, 1);
    assert_eq!(report.ended_by, EndedBy::Stop);
    assert_eq!(
        *control.0.lock().unwrap(),
        ["started MZ1", "dtmf 7", "stopped"]
    );
}

fn test_start() -> StreamStart {
    StreamStart {
        stream_sid: "MZ1".into(),
        call_sid: "CA1".into(),
        custom_parameters: Default::default(),
    }
}

#[tokio::test]
async fn with_local_barge_in_the_bridge_hears_the_caller_itself() {
    let (mut session, mut engine_inputs, engine_events) = EngineSession::channels(64);
    session.local_barge_in = true;
    let (inbound_tx, inbound) = futures::channel::mpsc::unbounded::<TransportEvent>();
    let (outbound, mut sent) = mpsc::channel(512);
    let control = Arc::new(Recorder::default());
    let bridge = tokio::spawn(run_bridge(
        test_start(),
        session,
        control,
        inbound,
        channel_outbound(outbound),
    ));

    // The engine has finished generating 3 s of audio; it says nothing when the caller talks.
    engine_events
        .send(EngineEvent::AgentAudio {
            item_id: "a1".into(),
            mulaw: vec![0x55; 8 * 3000],
        })
        .await
        .unwrap();
    engine_events
        .send(EngineEvent::AgentAudioDone {
            item_id: "a1".into(),
        })
        .await
        .unwrap();
    for _ in 0..10 {
        inbound_tx
            .unbounded_send(TransportEvent::Media(vec![0xFF; FRAME_BYTES]))
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tone = Vec::new();
    crate::mulaw::encode(&crate::pcm::sine(440.0, 8000, 20, 0.3), &mut tone);
    for _ in 0..5 {
        inbound_tx
            .unbounded_send(TransportEvent::Media(tone.clone()))
            .unwrap();
    }
    let interrupt = loop {
        match tokio::time::timeout(Duration::from_secs(5), engine_inputs.recv()).await {
            Ok(Some(EngineInput::Interrupt { item_id, heard_ms })) => {
                break (item_id, heard_ms);
            }
            Ok(Some(_)) => continue,
            other => panic!("no interrupt: {other:?}"),
        }
    };
    assert_eq!(interrupt.0, "a1");
    assert!(interrupt.1 < 3000);
    let mut cleared = false;
    while let Ok(message) = sent.try_recv() {
        cleared |= message == TransportCommand::Clear;
    }
    assert!(cleared, "the transport was told to clear");
    drop(inbound_tx);
    let report = bridge.await.unwrap();
    assert_eq!(report.barge_ins, 1);
}

#[tokio::test(start_paused = true)]
async fn caller_segments_span_speech_start_to_transcript() {
    let mut s = state();
    tokio::time::advance(Duration::from_millis(1000)).await;
    s.caller_started();
    tokio::time::advance(Duration::from_millis(1500)).await;
    s.caller_text("I'd like to leave a message".into());
    let seg = &s.take_segments()[0];
    assert_eq!((seg.start_ms, seg.end_ms), (1000, 2500));
    assert_eq!(seg.speaker, Speaker::Caller);
}
