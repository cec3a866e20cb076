//! The fake's connection modes, driven by a raw WebSocket client.
use futures::SinkExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::*;
use crate::script::Step;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(5);

async fn connect(fake: &FakeOpenAiRealtime) -> Client {
    let mut request = format!("{}?model=gpt-realtime", fake.url())
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer sk-test".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(next_event(&mut ws).await["type"], "session.created");
    ws
}

async fn send(ws: &mut Client, event: Value) {
    ws.send(Message::text(event.to_string())).await.unwrap();
}

async fn next_event(ws: &mut Client) -> Value {
    let message = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a server event in time")
        .expect("connection open")
        .unwrap();
    serde_json::from_str(message.to_text().unwrap()).unwrap()
}

fn session_update(instructions: &str) -> Value {
    json!({
        "type": "session.update",
        "session": {"type": "realtime", "instructions": instructions},
    })
}

/// The transcript of the next response, read up to its `response.done`.
async fn next_transcript(ws: &mut Client) -> String {
    let mut transcript = None;
    loop {
        let event = next_event(ws).await;
        match event["type"].as_str().unwrap_or("") {
            "response.output_audio_transcript.done" => {
                transcript = event["transcript"].as_str().map(str::to_owned);
            }
            "response.done" => return transcript.expect("a transcript before response.done"),
            _ => {}
        }
    }
}

/// What Switchboard's client does: `session.update`, wait for `session.updated`, then
/// `response.create` for the greeting; returns the greeting's transcript.
async fn greeting(ws: &mut Client, instructions: &str) -> String {
    send(ws, session_update(instructions)).await;
    assert_eq!(next_event(ws).await["type"], "session.updated");
    send(ws, json!({"type": "response.create"})).await;
    next_transcript(ws).await
}

fn says(text: &str) -> Script {
    Script(vec![Step::say(text, 200)])
}

fn keyed() -> Vec<(String, Script)> {
    vec![
        ("billing".to_owned(), says("Billing here.")),
        ("support".to_owned(), says("Support here.")),
    ]
}

#[tokio::test]
async fn keyed_scripts_follow_the_instructions_and_unmatched_get_the_fallback() {
    let fake = FakeOpenAiRealtime::start_keyed(keyed(), Some(says("Fallback here."))).await;
    // Open at once, in the opposite order of the keys: the connection order does not matter.
    let mut support = connect(&fake).await;
    let mut billing = connect(&fake).await;
    let mut other = connect(&fake).await;
    let mut billing_again = connect(&fake).await;

    let support_instructions = "You are the support line. Be kind.";
    let billing_instructions = "You answer billing questions.";
    let other_instructions = "You take messages.";
    assert_eq!(
        greeting(&mut support, support_instructions).await,
        "Support here."
    );
    assert!(fake.wait_until_finished(WAIT).await);
    assert_eq!(
        greeting(&mut billing, billing_instructions).await,
        "Billing here."
    );
    assert_eq!(
        greeting(&mut other, other_instructions).await,
        "Fallback here."
    );
    assert_eq!(
        greeting(&mut billing_again, billing_instructions).await,
        "Billing here.",
        "a pair serves any number of connections"
    );
    assert_eq!(fake.connections(), 4);
    assert_eq!(
        fake.instructions_seen(),
        [
            support_instructions,
            billing_instructions,
            other_instructions,
            billing_instructions,
        ]
    );
}

#[tokio::test]
async fn the_first_matching_key_wins_and_later_updates_do_not_rechoose() {
    let fake = FakeOpenAiRealtime::start_keyed(keyed(), None).await;
    let mut ws = connect(&fake).await;
    assert_eq!(
        greeting(&mut ws, "support for billing").await,
        "Billing here."
    );
    send(&mut ws, session_update("support only")).await;
    assert_eq!(next_event(&mut ws).await["type"], "session.updated");
    assert_eq!(
        fake.instructions_seen(),
        ["support for billing", "support only"]
    );
}

#[tokio::test]
async fn without_a_match_or_fallback_no_script_runs() {
    let fake = FakeOpenAiRealtime::start_keyed(keyed(), None).await;
    let mut ws = connect(&fake).await;
    // No instructions at all is "no match" too.
    send(&mut ws, json!({"type": "session.update", "session": {}})).await;
    assert_eq!(next_event(&mut ws).await["type"], "session.updated");
    send(&mut ws, json!({"type": "response.create"})).await;
    // The fake still answers the connection's own events, and nothing else comes.
    send(
        &mut ws,
        json!({"type": "conversation.item.create", "item": {"type": "message"}}),
    )
    .await;
    assert_eq!(next_event(&mut ws).await["type"], "conversation.item.added");
    let more = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
    assert!(more.is_err(), "unexpected server event: {more:?}");
    assert!(!fake.script_finished());
    assert!(fake.instructions_seen().is_empty());
}

#[tokio::test]
async fn events_before_the_first_session_update_reach_the_keyed_script_once() {
    let fake = FakeOpenAiRealtime::start_keyed(keyed(), None).await;
    let mut ws = connect(&fake).await;
    // A `response.create` sent before the script is chosen is queued for it, not lost...
    send(&mut ws, json!({"type": "response.create"})).await;
    send(&mut ws, session_update("billing")).await;
    assert_eq!(next_event(&mut ws).await["type"], "session.updated");
    assert_eq!(next_transcript(&mut ws).await, "Billing here.");
    assert!(fake.wait_until_finished(WAIT).await);
    // ...and delivered once: the script has finished, no second greeting follows.
    send(&mut ws, json!({"type": "response.create"})).await;
    let more = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
    assert!(more.is_err(), "unexpected server event: {more:?}");
}

#[tokio::test]
async fn start_many_still_takes_scripts_at_connect_in_order() {
    let fake = FakeOpenAiRealtime::start_many(vec![says("First."), says("Second.")]).await;
    let mut first = connect(&fake).await;
    let mut second = connect(&fake).await;
    let mut third = connect(&fake).await;
    // Instructions play no part: the order of connection does.
    assert_eq!(greeting(&mut second, "billing").await, "Second.");
    assert_eq!(greeting(&mut first, "support").await, "First.");
    send(&mut third, session_update("billing")).await;
    assert_eq!(next_event(&mut third).await["type"], "session.updated");
    send(&mut third, json!({"type": "response.create"})).await;
    let more = tokio::time::timeout(Duration::from_millis(300), third.next()).await;
    assert!(more.is_err(), "unexpected server event: {more:?}");
    assert_eq!(fake.instructions_seen(), ["billing", "support", "billing"]);
}
