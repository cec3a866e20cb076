//! The Media Streams WebSocket: signature on the upgrade, the bridge with the echo engine,
//! pacing and the Signals it sends to the call workflow.

use crate::helpers::*;
use sim::{MediaStreamClient, PhoneEventKind};
use std::time::Duration;
use workflows::CallWorkflow;

#[tokio::test]
async fn an_unsigned_or_tampered_upgrade_is_refused() {
    let app = spawn_app().await;
    let call_sid = app.start_inbound_call().await;
    let unsigned = MediaStreamClient::connect(app.stream_config(&call_sid, None)).await;
    assert_eq!(
        unsigned
            .err()
            .and_then(|e| e.http_status())
            .map(|s| s.as_u16()),
        Some(403)
    );
    let forged =
        MediaStreamClient::connect(app.stream_config(&call_sid, Some("not-the-auth-token"))).await;
    assert_eq!(
        forged
            .err()
            .and_then(|e| e.http_status())
            .map(|s| s.as_u16()),
        Some(403)
    );
}

#[tokio::test]
async fn the_echo_engine_answers_frame_for_frame_at_real_time_and_the_workflow_sees_the_stream() {
    let app = spawn_app().await;
    let call_sid = app.start_inbound_call().await;
    let phone = app.connect_phone(&call_sid).await;

    // One second of caller audio comes back as one second of agent audio, in 160-byte frames.
    phone.say_tone(440.0, 1000);
    let events = phone
        .wait_for(|o| o.heard_bytes >= 8000, Duration::from_secs(20))
        .await
        .expect("the echo is heard");
    let media: Vec<(u64, usize)> = events
        .iter()
        .filter_map(|e| match e.kind {
            PhoneEventKind::MediaReceived { bytes } => Some((e.at_ms, bytes)),
            _ => None,
        })
        .collect();
    assert!(
        media.iter().all(|(_, bytes)| *bytes == 160),
        "every frame is 20 ms of μ-law"
    );
    // Paced, not dumped: 50 frames of echo take about a second to arrive, not a burst.
    let tone_frames: Vec<u64> = media.iter().rev().take(50).map(|(at, _)| *at).collect();
    let spread = tone_frames.first().unwrap() - tone_frames.last().unwrap();
    assert!(
        spread >= 700,
        "50 frames arrived within {spread} ms: not paced"
    );

    // A DTMF digit reaches the workflow.
    phone.press('5').unwrap();
    phone.hang_up().await.unwrap();

    let handle = app
        .temporal
        .get_workflow_handle::<CallWorkflow>(format!("call-{call_sid}"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let progress = handle
            .query(CallWorkflow::progress, (), Default::default())
            .await
            .unwrap();
        if progress.dtmf == "5" && progress.phase == workflows::call::CallPhase::StreamEnded {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "progress: {progress:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.complete_call(&call_sid, 3).await;
    let summary = app.call_result(&call_sid).await;
    assert_eq!(summary.outcome, domain::CallOutcome::Completed);
}
