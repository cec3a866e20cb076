//! A client for OpenAI-compatible chat completions (`POST {base_url}/chat/completions`).
//!
//! The same wire format is served by OpenAI, Groq, Together, vLLM, llama.cpp's server and Ollama
//! (`http://localhost:11434/v1`), so one client covers them; only `base_url`, `api_key` and
//! `model` change. Messages are mapped to and from [`domain::conversation::ChatMessage`]:
//! assistant tool calls travel as `tool_calls: [{id, type: "function", function: {name,
//! arguments}}]` and tool results as `role: "tool"` messages with `tool_call_id`.
//!
//! Errors say whether a retry can help ([`LlmError::is_retryable`]): rate limits (429), server
//! errors (5xx), timeouts and transport failures can; other 4xx and malformed responses cannot.

use std::time::Duration;

use domain::{
    Secret,
    conversation::{ChatMessage, ChatRole, ChatToolCall, ToolSpec},
};
use serde::Deserialize;
use serde_json::{Value, json};

/// OpenAI's API root, the default `base_url`.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Where the model lives and how to ask it.
#[derive(Clone, Debug)]
pub struct LlmConfig {
    /// API root without the trailing `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// Bearer token; `None` for local servers that need none.
    pub api_key: Option<Secret<String>>,
    /// Default model, overridable per call.
    pub model: String,
    pub temperature: Option<f32>,
    /// Whole-request timeout.
    pub timeout: Duration,
}

impl LlmConfig {
    /// Whether a model can be reached with this configuration: a key, or a base URL other than
    /// OpenAI's (local servers such as Ollama or llama.cpp need no key).
    pub fn is_configured(&self) -> bool {
        let has_key = self
            .api_key
            .as_ref()
            .is_some_and(|k| !k.expose().trim().is_empty());
        has_key || self.base_url.trim_end_matches('/') != OPENAI_BASE_URL
    }

    /// OpenAI's endpoint with a 30 s timeout and the model's default temperature.
    pub fn openai(api_key: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: OPENAI_BASE_URL.into(),
            api_key: Some(Secret::new(api_key.into())),
            model: model.into(),
            temperature: None,
            timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The server answered with an error status.
    #[error("LLM request failed: HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("LLM request timed out")]
    Timeout,
    /// Connection refused/reset, TLS, DNS …
    #[error("LLM transport error: {0}")]
    Transport(String),
    /// A 2xx answer we cannot use.
    #[error("malformed LLM response: {0}")]
    Malformed(String),
    /// The client could not be built or the request not encoded.
    #[error("LLM client misconfigured: {0}")]
    Config(String),
}

impl LlmError {
    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Status { status, .. } => {
                matches!(status, 408 | 409 | 429) || (500..=599).contains(status)
            }
            LlmError::Timeout | LlmError::Transport(_) => true,
            LlmError::Malformed(_) | LlmError::Config(_) => false,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            LlmError::Timeout
        } else if e.is_decode() {
            LlmError::Malformed(e.to_string())
        } else if e.is_builder() {
            LlmError::Config(e.to_string())
        } else {
            LlmError::Transport(e.to_string())
        }
    }
}

/// Chat completions over HTTP. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    config: LlmConfig,
    endpoint: String,
}

impl LlmClient {
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| LlmError::Config(e.to_string()))?;
        let endpoint = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(Self {
            http,
            config,
            endpoint,
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// One completion: the assistant's next message (text, tool calls, or both).
    pub async fn chat(
        &self,
        model_override: Option<&str>,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
    ) -> Result<ChatMessage, LlmError> {
        let model = model_override.unwrap_or(&self.config.model);
        let body = request_body(model, self.config.temperature, messages, tools);
        let mut request = self.http.post(&self.endpoint).json(&body);
        if let Some(key) = self
            .config
            .api_key
            .as_ref()
            .map(Secret::expose)
            .filter(|k| !k.is_empty())
        {
            request = request.bearer_auth(key);
        }
        let started = std::time::Instant::now();
        let response = request.send().await.map_err(LlmError::from_reqwest)?;
        let status = response.status();
        let text = response.text().await.map_err(LlmError::from_reqwest)?;
        if !status.is_success() {
            return Err(LlmError::Status {
                status: status.as_u16(),
                message: error_message(&text),
            });
        }
        let message = parse_response(&text)?;
        tracing::debug!(
            %model,
            elapsed_ms = started.elapsed().as_millis() as u64,
            tool_calls = message.tool_calls.len(),
            "llm: completion"
        );
        Ok(message)
    }
}

/// The JSON body of a chat completions request.
pub fn request_body(
    model: &str,
    temperature: Option<f32>,
    messages: &[ChatMessage],
    tools: &[ToolSpec],
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": messages.iter().map(wire_message).collect::<Vec<_>>(),
    });
    if let Some(t) = temperature {
        body["temperature"] = json!(t);
    }
    if !tools.is_empty() {
        body["tools"] = tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    }
                })
            })
            .collect();
        body["tool_choice"] = json!("auto");
    }
    body
}

fn wire_message(m: &ChatMessage) -> Value {
    let role = match m.role {
        ChatRole::System => "system",
        ChatRole::User => "user",
        ChatRole::Assistant => "assistant",
        ChatRole::Tool => "tool",
    };
    let mut v = json!({ "role": role });
    match (&m.content, m.role) {
        (Some(text), _) => v["content"] = json!(text),
        // An assistant message that only calls tools has `content: null`; every other role
        // must carry a string.
        (None, ChatRole::Assistant) => v["content"] = Value::Null,
        (None, _) => v["content"] = json!(""),
    }
    if !m.tool_calls.is_empty() {
        v["tool_calls"] = m
            .tool_calls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "type": "function",
                    "function": { "name": c.name, "arguments": c.arguments },
                })
            })
            .collect();
    }
    if let Some(id) = &m.tool_call_id {
        v["tool_call_id"] = json!(id);
    }
    v
}

#[derive(Debug, Deserialize)]
struct CompletionResponse {
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: WireMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Debug, Deserialize)]
struct WireToolCall {
    id: String,
    function: WireFunction,
}

#[derive(Debug, Deserialize)]
struct WireFunction {
    name: String,
    /// A JSON object as text; some servers send an object instead.
    #[serde(default)]
    arguments: Value,
}

/// The assistant message of a chat completions response body.
pub fn parse_response(body: &str) -> Result<ChatMessage, LlmError> {
    let response: CompletionResponse = serde_json::from_str(body)
        .map_err(|e| LlmError::Malformed(format!("{e}: {}", truncate(body, 200))))?;
    let choice = response
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::Malformed("no choices".into()))?;
    if choice.finish_reason.as_deref() == Some("length") {
        tracing::warn!("llm: completion cut off at max tokens");
    }
    let tool_calls = choice
        .message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|c| ChatToolCall {
            id: c.id,
            name: c.function.name,
            arguments: match c.function.arguments {
                Value::String(s) => s,
                Value::Null => "{}".into(),
                other => other.to_string(),
            },
        })
        .collect::<Vec<_>>();
    let content = choice
        .message
        .content
        .filter(|c| !c.is_empty())
        .or(choice.message.refusal);
    if content.is_none() && tool_calls.is_empty() {
        return Err(LlmError::Malformed(
            "assistant message has neither content nor tool calls".into(),
        ));
    }
    Ok(ChatMessage {
        role: ChatRole::Assistant,
        content,
        tool_calls,
        tool_call_id: None,
    })
}

/// OpenAI's `{"error": {"message": …}}`, or the start of whatever else the body is.
fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            let e = v.get("error")?;
            e.get("message")
                .and_then(Value::as_str)
                .or_else(|| e.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| truncate(body, 300).to_owned())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_round_trip_messages_use_openai_shape() {
        let assistant = ChatMessage {
            role: ChatRole::Assistant,
            content: None,
            tool_calls: vec![ChatToolCall {
                id: "call_1".into(),
                name: "lookup_knowledge".into(),
                arguments: r#"{"query":"hours"}"#.into(),
            }],
            tool_call_id: None,
        };
        let body = request_body(
            "m",
            Some(0.2),
            &[
                ChatMessage::system("s"),
                ChatMessage::user("u"),
                assistant,
                ChatMessage::tool_result("call_1", "{}"),
            ],
            &[],
        );
        assert!(body.get("tools").is_none());
        assert!(body.get("tool_choice").is_none());
        let m = &body["messages"];
        assert_eq!(m[2]["content"], Value::Null);
        assert_eq!(m[2]["tool_calls"][0]["type"], "function");
        assert_eq!(
            m[2]["tool_calls"][0]["function"]["name"],
            "lookup_knowledge"
        );
        assert_eq!(m[3]["role"], "tool");
        assert_eq!(m[3]["tool_call_id"], "call_1");
    }

    #[test]
    fn debug_never_shows_the_api_key() {
        let config = LlmConfig::openai("sk-live-123", "gpt-4o-mini");
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-live-123"), "{shown}");
        assert!(
            shown.contains("<redacted>") && shown.contains("gpt-4o-mini"),
            "{shown}"
        );
    }

    #[test]
    fn retryable_classification() {
        let s = |status| LlmError::Status {
            status,
            message: String::new(),
        };
        assert!(s(429).is_retryable());
        assert!(s(500).is_retryable());
        assert!(s(503).is_retryable());
        assert!(!s(400).is_retryable());
        assert!(!s(401).is_retryable());
        assert!(LlmError::Timeout.is_retryable());
        assert!(!LlmError::Malformed(String::new()).is_retryable());
    }

    #[test]
    fn empty_answer_is_malformed() {
        let body = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"stop"}]}"#;
        assert!(matches!(parse_response(body), Err(LlmError::Malformed(_))));
        assert!(matches!(
            parse_response(r#"{"choices":[]}"#),
            Err(LlmError::Malformed(_))
        ));
    }

    #[test]
    fn error_message_is_extracted() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key","type":"invalid_request_error"}}"#),
            "bad key"
        );
        assert_eq!(error_message("upstream down"), "upstream down");
    }
}
