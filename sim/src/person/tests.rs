use super::*;
use crate::speech;
use domain::CallStatus;
use voice::mulaw;

/// Feeds `audio` to the listener in 20 ms frames from `start_ms`; returns the end time.
fn play(listener: &mut Listener, start_ms: u64, audio: &[u8], out: &mut Vec<Heard>) -> u64 {
    let mut t = start_ms;
    for frame in audio.chunks(FRAME) {
        out.extend(listener.push(t, frame));
        t += FRAME_MS;
    }
    t
}

#[test]
fn builder_makes_the_script() {
    let s = PersonScript::human()
        .answer_after(2000)
        .say("Hi")
        .wait_quiet()
        .digits("1#")
        .pause(500)
        .hang_up();
    assert_eq!(s.answer, Answer::Human);
    assert_eq!(s.answer_after_ms, 2000);
    assert_eq!(
        s.actions,
        vec![
            Action::Say("Hi".into()),
            Action::WaitForQuiet {
                quiet_ms: DEFAULT_QUIET_MS,
                timeout_ms: DEFAULT_WAIT_TIMEOUT_MS
            },
            Action::Digits("1#".into()),
            Action::Pause(500),
            Action::HangUp,
        ]
    );
    assert!(s.validate().is_ok());
    assert!(PersonScript::human().digits("1x").validate().is_err());
    assert_eq!(
        PersonScript::machine(3000).answer,
        Answer::Machine { greeting_ms: 3000 }
    );
    assert_eq!(
        PersonScript::busy().answer.refusal_status(),
        Some(CallStatus::Busy)
    );
    assert_eq!(
        PersonScript::fail().answer.refusal_status(),
        Some(CallStatus::Failed)
    );
    assert_eq!(
        PersonScript::no_answer().answer.refusal_status(),
        Some(CallStatus::NoAnswer)
    );
    assert!(Answer::Machine { greeting_ms: 1 }.answers());
    assert_eq!(Answer::Human.answered_by(), Some("human"));
}

#[test]
fn script_json_round_trip_and_shape() {
    let s = PersonScript::machine(2500)
        .say("leave it")
        .say_audio("beep", vec![1, 2, 255])
        .wait_quiet_for(500, 4000)
        .hang_up();
    let json = s.to_json();
    assert_eq!(PersonScript::from_json(&json).unwrap(), s);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["answer"],
        serde_json::json!({"type": "machine", "greeting_ms": 2500})
    );
    assert_eq!(v["actions"][0], serde_json::json!({"say": "leave it"}));
    assert_eq!(
        v["actions"][1],
        serde_json::json!({"say_audio": {"label": "beep", "mulaw": "AQL/"}})
    );
    assert_eq!(
        v["actions"][2],
        serde_json::json!({"wait_for_quiet": {"quiet_ms": 500, "timeout_ms": 4000}})
    );
    assert_eq!(v["actions"][3], serde_json::json!("hang_up"));
    // Hand-written JSON with defaults.
    let s = PersonScript::from_json(r#"{"answer": {"type": "busy"}}"#).unwrap();
    assert_eq!(s, PersonScript::busy());
}

#[test]
fn machine_greeting_is_greeting_then_beep() {
    let g = machine_greeting(2000);
    assert_eq!(g.len(), (2000 + 300 + speech::BEEP_MS as usize) * 8);
    assert!(g.ends_with(&speech::beep()));
}

#[test]
fn action_audio() {
    assert_eq!(
        Action::Say("hello".into()).audio().unwrap().len(),
        5 * 65 * 8
    );
    assert_eq!(
        Action::SayAudio {
            label: "x".into(),
            mulaw: vec![7; 3]
        }
        .audio(),
        Some(vec![7; 3])
    );
    assert_eq!(Action::HangUp.audio(), None);
}

#[test]
fn listener_tracks_talk_and_quiet() {
    let mut l = Listener::new();
    let mut events = Vec::new();
    let t = play(&mut l, 0, &speech::silence(500), &mut events);
    assert!(events.is_empty());
    assert!(!l.is_talking());
    let utterance = speech::synthesize("Thanks for calling, how can I help you today");
    let utterance_ms = utterance.len() as u64 / 8;
    let t_end = play(&mut l, t, &utterance, &mut events);
    assert!(l.is_talking());
    assert_eq!(l.quiet_for_ms(t_end), 0);
    assert_eq!(events.len(), 1);
    let Heard::SpeechStarted { at_ms } = events[0] else {
        panic!("{events:?}")
    };
    assert!(at_ms.abs_diff(500) <= 40, "started at {at_ms}");
    // The other side stops sending: time passes in silence.
    events.extend(l.tick(t_end + 1000));
    assert!(!l.is_talking());
    let Heard::SpeechEnded { at_ms } = events[1] else {
        panic!("{events:?}")
    };
    assert!(at_ms.abs_diff(500 + utterance_ms) <= 60, "ended at {at_ms}");
    assert!(l.is_quiet_for(t_end + 1000, 900));
    assert!(!l.is_quiet_for(t_end + 1000, 1200));
    assert_eq!(l.utterances(), 1);
}

#[test]
fn listener_treats_gaps_between_frames_as_silence() {
    let mut l = Listener::new();
    let mut events = Vec::new();
    let end = play(&mut l, 0, &speech::synthesize("hello there"), &mut events);
    // Next audio arrives two seconds later: the gap closed the first utterance.
    events.extend(l.push(end + 2000, &speech::silence(20)));
    assert!(
        matches!(events.as_slice(), [Heard::SpeechStarted { .. }, Heard::SpeechEnded { at_ms }] if at_ms.abs_diff(end) <= 60),
        "{events:?}"
    );
}

#[test]
fn quiet_wait_needs_talk_then_quiet_or_times_out() {
    let mut l = Listener::new();
    let wait = QuietWait::begin(&l, 0, 600, 10_000);
    // Silence alone does not satisfy the wait...
    l.tick(3000);
    assert_eq!(wait.poll(&l, 3000), None);
    // ...talk followed by enough quiet does.
    let mut events = Vec::new();
    let end = play(
        &mut l,
        3000,
        &speech::synthesize("one moment please"),
        &mut events,
    );
    assert_eq!(wait.poll(&l, end), None);
    l.tick(end + 300);
    assert_eq!(wait.poll(&l, end + 300), None);
    l.tick(end + 700);
    assert_eq!(wait.poll(&l, end + 700), Some(WaitOutcome::Quiet));
    // A new wait with nobody talking times out.
    let wait = QuietWait::begin(&l, end + 700, 600, 2000);
    l.tick(end + 2699);
    assert_eq!(wait.poll(&l, end + 2699), None);
    l.tick(end + 2700);
    assert_eq!(wait.poll(&l, end + 2700), Some(WaitOutcome::TimedOut));
}

#[test]
fn recording_fills_gaps_and_writes_wav_and_events() {
    let mut r = Recording::new();
    r.event(0, EventKind::Answered);
    r.hear(100, &speech::tone(440.0, 100));
    r.hear(500, &speech::tone(440.0, 100));
    // Overlapping audio goes after what is there.
    r.hear(550, &[0x00; 8]);
    r.speak(50, &speech::synthesize("hi"));
    r.event(50, EventKind::Said { text: "hi".into() });
    r.heard_events([
        Heard::SpeechStarted { at_ms: 100 },
        Heard::SpeechEnded { at_ms: 600 },
    ]);
    r.event(700, EventKind::Digits { digits: "1".into() });
    r.event(800, EventKind::HungUp);
    let heard = r.heard_pcm();
    assert_eq!(heard.len(), 600 * 8 + 8);
    assert!(heard[..800].iter().all(|&s| s == 0));
    assert!(heard[200 * 8..500 * 8].iter().all(|&s| s == 0));
    assert!(voice::pcm::rms_dbfs(&heard[800..1600]) > -20.0);
    assert_eq!(r.duration_ms(), 601);
    assert_eq!(r.mixed_pcm().len(), heard.len());

    let dir = std::env::temp_dir().join(format!("sim-person-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    r.save(&dir, "call").unwrap();
    let (rate, samples) = voice::wav::read_wav(dir.join("call.wav")).unwrap();
    assert_eq!((rate, samples), (8000, heard));
    let (_, mixed) = voice::wav::read_wav(dir.join("call.mixed.wav")).unwrap();
    assert_eq!(mixed, r.mixed_pcm());
    let json = std::fs::read_to_string(dir.join("call.events.json")).unwrap();
    let events: Vec<RecordingEvent> = serde_json::from_str(&json).unwrap();
    assert_eq!(events, r.events());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0], serde_json::json!({"at_ms": 0, "event": "answered"}));
    assert_eq!(
        v[1],
        serde_json::json!({"at_ms": 50, "event": "said", "text": "hi"})
    );
    assert_eq!(
        v[2],
        serde_json::json!({"at_ms": 100, "event": "heard_speech_started"})
    );
    assert_eq!(
        v[4],
        serde_json::json!({"at_ms": 700, "event": "digits", "digits": "1"})
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Line noise at about -63 dBFS, the way comfort noise sounds: never voiced.
fn comfort_noise(ms: u32) -> Vec<u8> {
    let pcm = voice::pcm::sine(150.0, 8000, ms, 0.001);
    let mut out = Vec::new();
    mulaw::encode(&pcm, &mut out);
    out
}

#[test]
fn voiced_frames_and_spans() {
    assert!(is_voiced(&speech::tone(440.0, 20)));
    assert!(!is_voiced(&speech::silence(20)));
    assert!(!is_voiced(&[0x7F; 160]));
    assert!(!is_voiced(&comfort_noise(20)));
    let mut audio = speech::silence(100);
    audio.extend(speech::tone(440.0, 1000));
    audio.extend(speech::silence(200));
    assert_eq!(voiced_span(&audio), Some((800, 8800)));
    assert_eq!(voiced_span(&speech::silence(500)), None);
    assert_eq!(voiced_span(&comfort_noise(500)), None);
}

#[test]
fn voice_turns_answered_unanswered_overlapped() {
    let mut t = VoiceTurns::new();
    // Heard before any utterance: no turn.
    t.heard(0, &speech::tone(440.0, 20));
    t.said(500, 1500);
    // Silence, 0x7F and comfort noise after the caller stopped do not answer...
    t.heard(1500, &speech::silence(20));
    t.heard(1520, &[0x7F; 160]);
    t.heard(1540, &comfort_noise(20));
    assert!(t.take().is_empty());
    // ...the first voiced frame does: 1980 - 1500.
    t.heard(1980, &speech::tone(440.0, 20));
    t.heard(2000, &speech::tone(440.0, 20));
    // Turn 2: nothing voiced before the caller's next utterance.
    t.said(3000, 3800);
    t.heard(3900, &speech::silence(20));
    t.utterance_started(4500);
    // Agent speech while the caller talks does not answer; it is still playing when the
    // caller stops at 5000: overlapped.
    t.heard(4960, &speech::tone(440.0, 20));
    t.utterance_ended(5000);
    // Turn 4 gets no answer before the call ends.
    t.said(6000, 7000);
    t.heard(6500, &speech::tone(440.0, 20));
    t.finish();
    let turns = t.take();
    let outcomes: Vec<(usize, u64, TurnOutcome)> = turns
        .iter()
        .map(|t| (t.turn, t.said_end_ms, t.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (1, 1500, TurnOutcome::Answered { after_ms: 480 }),
            (2, 3800, TurnOutcome::Unanswered),
            (3, 5000, TurnOutcome::Overlapped),
            (4, 7000, TurnOutcome::Unanswered),
        ]
    );
    assert_eq!(turns[0].after_ms(), Some(480));
    assert_eq!(turns[1].after_ms(), None);
    assert_eq!(
        serde_json::to_value(turns[0]).unwrap(),
        serde_json::json!({"turn": 1, "said_end_ms": 1500, "outcome": {"outcome": "answered", "after_ms": 480}})
    );
}
