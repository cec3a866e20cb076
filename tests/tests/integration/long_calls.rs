//! Long calls keep their history bounded: the conversation the LLM sees is a window plus notes,
//! and the call workflow continues as new, carrying the conversation and the transcript cursor.

use crate::{call_workflow::replay, helpers::*};
use api::control::TemporalCallControl;
use domain::{Speaker, TranscriptSegment, conversation::UserTurn};
use temporalio_client::{WorkflowFetchHistoryOptions, WorkflowHandle};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use testkit::openai_chat::{FakeOpenAiChat, NO_MORE_REPLIES};
use voice::bridge::CallControl;
use workflows::CallWorkflow;

/// A single run's history, as Temporal limits it.
const MAX_RUN_EVENTS: usize = 10_000;
const MAX_RUN_BYTES: usize = 4 * 1024 * 1024;

fn opening_turn() -> String {
    "Hi, this is Alice Quinn, I'm calling about invoice 4471 — it was charged twice.".into()
}

/// One history per run of `call-{call_sid}`, oldest first, found by following each run's
/// `continued_execution_run_id` back from the latest.
async fn run_histories(app: &TestApp, call_sid: &str) -> Vec<Vec<u8>> {
    let latest = app
        .temporal
        .get_workflow_handle::<CallWorkflow>(format!("call-{call_sid}"));
    let mut run_id: Option<String> = None;
    let mut histories = Vec::new();
    loop {
        let mut info = latest.info().clone();
        info.run_id = run_id.clone();
        let handle: WorkflowHandle<_, CallWorkflow> =
            WorkflowHandle::new(app.temporal.clone(), info);
        let events: Vec<_> = futures::TryStreamExt::try_collect(
            handle.fetch_history(WorkflowFetchHistoryOptions::default()),
        )
        .await
        .unwrap();
        let json = handle
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .to_json()
            .await
            .unwrap();
        histories.push(json);
        let previous = events.iter().find_map(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a))
                if !a.continued_execution_run_id.is_empty() =>
            {
                Some(a.continued_execution_run_id.clone())
            }
            _ => None,
        });
        match previous {
            Some(previous) => run_id = Some(previous),
            None => break,
        }
    }
    histories.reverse();
    histories
}

fn events_in(history: &[u8]) -> usize {
    let json: serde_json::Value = serde_json::from_slice(history).unwrap();
    json["events"].as_array().map_or(0, Vec::len)
}

/// Drives `turns` caller turns through the production `CallControl` (Temporal Updates and
/// Signals, as the bridge sends them), each with its transcript, then completes the call.
/// Returns the per-run (events, bytes).
async fn long_call(turns: usize) -> (TestApp, FakeOpenAiChat, String, Vec<(usize, usize)>) {
    let llm = FakeOpenAiChat::start(Vec::new()).await;
    let app = spawn_app_with(AppOptions {
        engine: "cascaded".into(),
        llm_base_url: llm.base_url(),
        ..AppOptions::default()
    })
    .await;
    let call_sid = app.start_inbound_call().await;
    let control = TemporalCallControl::new(
        app.temporal.clone(),
        format!("call-{call_sid}"),
        "MZ0123".into(),
        api::control::LiveTranscript {
            store: app.store.clone(),
            tenant: app.tenant,
            call_sid: domain::CallSid::parse(&call_sid).unwrap(),
        },
    );
    app.wait_for_call_row(&call_sid).await;
    control.stream_started("MZ0123").await.unwrap();
    for n in 0..turns {
        let text = if n == 0 {
            opening_turn()
        } else {
            format!("Question number {n}: could you check one more thing for me?")
        };
        let at_ms = 1_000 * (n as u64 + 1);
        let reply = control
            .user_turn(UserTurn {
                text: text.clone(),
                at_ms,
            })
            .await
            .unwrap_or_else(|e| panic!("turn {n}: {e}"));
        assert_eq!(reply.text, NO_MORE_REPLIES, "turn {n}");
        let segment = |speaker, text: &str, start_ms| TranscriptSegment {
            speaker,
            text: text.into(),
            start_ms,
            end_ms: start_ms + 400,
            interrupted: false,
        };
        control
            .transcript(vec![
                segment(Speaker::Caller, &text, at_ms),
                segment(Speaker::Agent, &reply.text, at_ms + 500),
            ])
            .await
            .unwrap();
    }
    control.stream_stopped().await.unwrap();
    app.complete_call(&call_sid, (turns as u32) + 1).await;
    let summary = app.call_result(&call_sid).await;
    assert_eq!(
        summary.turns as usize,
        2 * turns,
        "every transcript segment counted"
    );
    let sizes = run_histories(&app, &call_sid)
        .await
        .iter()
        .map(|h| (events_in(h), h.len()))
        .collect();
    (app, llm, call_sid, sizes)
}

#[tokio::test]
async fn three_hundred_turns_continue_as_new_and_keep_the_conversation() {
    let _cpu = sharing_the_cpu().await;
    let (app, llm, call_sid, runs) = long_call(300).await;
    eprintln!("300 turns: runs (events, bytes) = {runs:?}");
    assert!(runs.len() >= 2, "the call continued as new: {runs:?}");
    for (events, bytes) in &runs {
        assert!(*events <= MAX_RUN_EVENTS, "{runs:?}");
        assert!(*bytes <= MAX_RUN_BYTES, "{runs:?}");
    }

    // The last LLM request is bounded and still knows who called and why.
    let requests = llm.requests();
    assert_eq!(requests.len(), 300, "one model call per turn");
    let last = requests.last().unwrap();
    let messages = last["messages"].as_array().unwrap();
    assert!(
        messages.len() <= 2 + domain::memory::MAX_WINDOW,
        "{}",
        messages.len()
    );
    let notes = messages
        .iter()
        .filter(|m| m["role"] == "system")
        .filter_map(|m| m["content"].as_str())
        .find(|c| c.starts_with(domain::memory::NOTES_HEADING))
        .expect("the earlier turns are summed up in a system message");
    assert!(
        notes.contains("Alice Quinn") && notes.contains("4471"),
        "{notes}"
    );
    let last_user = messages.iter().rev().find(|m| m["role"] == "user").unwrap();
    assert!(
        last_user["content"]
            .as_str()
            .unwrap()
            .starts_with("Question number 299:")
    );
    assert!(
        serde_json::to_vec(last).unwrap().len() < 64 * 1024,
        "the request does not grow with the call"
    );

    // The transcript was saved across runs, in order, without gaps or repeats.
    let record = app.wait_for_call_row(&call_sid).await;
    let transcript = app.store.transcript(app.tenant, record.id).await.unwrap();
    assert_eq!(transcript.len(), 600);
    assert_eq!(transcript[0].text, opening_turn());
    assert!(transcript[598].text.starts_with("Question number 299:"));
    assert!(
        transcript.windows(2).all(|w| w[0].start_ms < w[1].start_ms),
        "segments in order"
    );

    // Every run replays.
    for history in run_histories(&app, &call_sid).await {
        replay(&history).await.expect("each run replays");
    }
}

/// The figure the issue asks to report: a 50-turn call's history, in one run.
#[tokio::test]
async fn fifty_turns_stay_in_one_run() {
    let _cpu = sharing_the_cpu().await;
    let (_app, _llm, _call_sid, runs) = long_call(50).await;
    eprintln!("50 turns: runs (events, bytes) = {runs:?}");
    assert_eq!(runs.len(), 1, "{runs:?}");
}
