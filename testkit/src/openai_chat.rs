//! A fake OpenAI chat completions endpoint (`POST /v1/chat/completions`).
//!
//! Each request gets the next [`ScriptedReply`] in OpenAI's response shape (`id`, `object:
//! "chat.completion"`, `created`, `model`, `choices[0].message` with `role`, `content`,
//! `tool_calls`, `finish_reason` `"stop"` or `"tool_calls"`, `usage`). Once the script is
//! exhausted it answers the text `(no more scripted replies)`. [`FakeOpenAiChat::fail_next`]
//! makes the next requests fail with a status and OpenAI's error JSON. Requests without `model`
//! or with no `messages` get a 400. Every request body is recorded, failed ones too.
//! [`FakeOpenAiChat::model_spans`]: from each answered request's arrival to its answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::http_server::LocalServer;
use crate::timing::{ModelSpan, ModelSpans};

/// What the fake answers to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptedReply {
    /// An assistant message with this content.
    Text(String),
    /// An assistant message calling these tools: `(name, arguments)`.
    ToolCalls(Vec<(String, Value)>),
}

/// Text answered once the script is exhausted.
pub const NO_MORE_REPLIES: &str = "(no more scripted replies)";

#[derive(Debug, Default)]
struct Shared {
    script: Mutex<VecDeque<ScriptedReply>>,
    requests: Mutex<Vec<Value>>,
    /// `(status, how many more requests fail)`.
    failures: Mutex<Option<(u16, usize)>>,
    counter: Mutex<u64>,
    spans: ModelSpans,
}

/// See the module documentation.
#[derive(Debug)]
pub struct FakeOpenAiChat {
    server: LocalServer,
    shared: Arc<Shared>,
}

impl FakeOpenAiChat {
    pub async fn start(responses: Vec<ScriptedReply>) -> Self {
        let shared = Arc::new(Shared {
            script: Mutex::new(responses.into()),
            ..Shared::default()
        });
        let router = axum::Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(shared.clone());
        Self {
            server: LocalServer::start(router).await,
            shared,
        }
    }

    /// `http://127.0.0.1:PORT/v1`, for `LlmConfig::base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.server.addr)
    }

    /// When it did its own work; see the module documentation.
    pub fn model_spans(&self) -> Vec<ModelSpan> {
        self.shared.spans.all()
    }

    /// Every request body received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Append replies to the script.
    pub fn push(&self, reply: ScriptedReply) {
        self.shared.script.lock().unwrap().push_back(reply);
    }

    /// Fail the next `n` requests with `status` (e.g. 500, 429, 400) without consuming the script.
    pub fn fail_next(&self, status: u16, n: usize) {
        *self.shared.failures.lock().unwrap() = Some((status, n));
    }
}

fn openai_error(status: StatusCode, message: &str, kind: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    (status, axum::Json(body)).into_response()
}

async fn completions(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let heard = std::time::Instant::now();
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    shared.requests.lock().unwrap().push(request.clone());

    let failure = {
        let mut failures = shared.failures.lock().unwrap();
        match failures.as_mut() {
            Some((status, n)) if *n > 0 => {
                *n -= 1;
                Some(*status)
            }
            _ => None,
        }
    };
    if let Some(status) = failure {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (message, kind) = match status.as_u16() {
            429 => ("Rate limit reached for requests", "requests"),
            s if s >= 500 => (
                "The server had an error while processing your request.",
                "server_error",
            ),
            _ => (
                "Invalid request (scripted failure).",
                "invalid_request_error",
            ),
        };
        return openai_error(status, message, kind);
    }

    let Some(model) = request["model"].as_str().filter(|m| !m.is_empty()) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
            "invalid_request_error",
        );
    };
    if request["messages"].as_array().is_none_or(Vec::is_empty) {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "[] is too short - 'messages'",
            "invalid_request_error",
        );
    }

    let n = {
        let mut counter = shared.counter.lock().unwrap();
        *counter += 1;
        *counter
    };
    let reply = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| ScriptedReply::Text(NO_MORE_REPLIES.into()));
    let (message, finish_reason, completion_tokens) = match reply {
        ScriptedReply::Text(text) => {
            let tokens = text.split_whitespace().count();
            (
                json!({"role": "assistant", "content": text, "refusal": null, "annotations": []}),
                "stop",
                tokens,
            )
        }
        ScriptedReply::ToolCalls(calls) => {
            let tool_calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| {
                    json!({
                        "id": format!("call_fake_{n}_{i}"),
                        "type": "function",
                        "function": {"name": name, "arguments": args.to_string()},
                    })
                })
                .collect();
            let tokens = 10 * tool_calls.len();
            (
                json!({"role": "assistant", "content": null, "tool_calls": tool_calls, "refusal": null, "annotations": []}),
                "tool_calls",
                tokens,
            )
        }
    };
    let prompt_tokens = body.len() / 4;
    let response = axum::Json(json!({
        "id": format!("chatcmpl-fake{n}"),
        "object": "chat.completion",
        "created": 1_735_689_600 + n,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "service_tier": "default",
        "system_fingerprint": null,
    }))
    .into_response();
    shared.spans.answered_now(heard);
    response
}
