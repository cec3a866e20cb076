//! What an agent and the workflow say to each other during a call: tool calls, user turns of
//! cascaded engines, and the chat messages the LLM activity sees.
//!
//! Tools are declared once here ([`ToolName`], [`tool_specs`] for inbound calls,
//! [`campaign_tool_specs`] for outbound campaign calls) so every engine offers the model the
//! same functions and the workflow validates calls against the same list.

use serde::{Deserialize, Serialize};

/// What a campaign's call adds before its `Campaign script:` line.
pub const CAMPAIGN_GUIDANCE: &str = "This is an outbound call the business placed. Follow the \
    campaign script below: confirm you are speaking with the recipient, state the goal, offer \
    the listed slots, and book with book_appointment once a time is agreed. If they ask not to \
    be called again, call do_not_call at once and end the call politely. If they want a call \
    at another time, call request_callback.";

/// The functions a model may call during a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolName {
    /// Say goodbye, then hang up.
    EndCall,
    /// Search the tenant's knowledge base.
    LookupKnowledge,
    /// Store a message for someone at the business.
    TakeMessage,
    /// Warm-transfer the caller to a person or department (a `TransferWorkflow`).
    TransferCall,
    /// Search the company directory for a person or department.
    FindPersonOrDepartment,
    /// Whether a person or department is available now, and if not when.
    CheckAvailability,
    /// Book the appointment a campaign call agreed on (outbound campaigns only).
    BookAppointment,
    /// Note that the person called asked to be called back (outbound campaigns only).
    RequestCallback,
    /// Put the person called on the do-not-call list (outbound campaigns only).
    DoNotCall,
}

impl ToolName {
    pub const ALL: [ToolName; 9] = [
        ToolName::EndCall,
        ToolName::LookupKnowledge,
        ToolName::TakeMessage,
        ToolName::TransferCall,
        ToolName::FindPersonOrDepartment,
        ToolName::CheckAvailability,
        ToolName::BookAppointment,
        ToolName::RequestCallback,
        ToolName::DoNotCall,
    ];

    /// What an inbound (receptionist) call offers: [`tool_specs`].
    pub const RECEPTIONIST: [ToolName; 6] = [
        ToolName::EndCall,
        ToolName::LookupKnowledge,
        ToolName::TakeMessage,
        ToolName::TransferCall,
        ToolName::FindPersonOrDepartment,
        ToolName::CheckAvailability,
    ];

    /// What an outbound campaign call offers: [`campaign_tool_specs`]. No messages or
    /// transfers: the person called did not ask to reach anyone.
    pub const CAMPAIGN: [ToolName; 5] = [
        ToolName::EndCall,
        ToolName::LookupKnowledge,
        ToolName::BookAppointment,
        ToolName::RequestCallback,
        ToolName::DoNotCall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::EndCall => "end_call",
            ToolName::LookupKnowledge => "lookup_knowledge",
            ToolName::TakeMessage => "take_message",
            ToolName::TransferCall => "transfer_call",
            ToolName::FindPersonOrDepartment => "find_person_or_department",
            ToolName::CheckAvailability => "check_availability",
            ToolName::BookAppointment => "book_appointment",
            ToolName::RequestCallback => "request_callback",
            ToolName::DoNotCall => "do_not_call",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for ToolName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A function offered to the model: name, description and JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON Schema (an `object`) of the arguments.
    pub parameters: serde_json::Value,
}

/// The tools an inbound call offers, in [`ToolName::RECEPTIONIST`]'s order.
pub fn tool_specs() -> Vec<ToolSpec> {
    agent_tool_specs(None)
}

/// The receptionist tools an agent offers: those named in `enabled` when the agent chose, all
/// otherwise; `end_call` always (a call must be able to end). In [`ToolName::RECEPTIONIST`]'s
/// order.
pub fn enabled_tools(enabled: Option<&[String]>) -> Vec<ToolName> {
    ToolName::RECEPTIONIST
        .into_iter()
        .filter(|tool| {
            *tool == ToolName::EndCall
                || enabled.is_none_or(|names| names.iter().any(|n| n == tool.as_str()))
        })
        .collect()
}

/// What the model is offered of [`enabled_tools`].
pub fn agent_tool_specs(enabled: Option<&[String]>) -> Vec<ToolSpec> {
    enabled_tools(enabled)
        .into_iter()
        .map(ToolName::spec)
        .collect()
}

/// The tools an outbound campaign call offers, in [`ToolName::CAMPAIGN`]'s order.
pub fn campaign_tool_specs() -> Vec<ToolSpec> {
    ToolName::CAMPAIGN.into_iter().map(ToolName::spec).collect()
}

impl ToolName {
    /// What the model is offered for this tool.
    pub fn spec(self) -> ToolSpec {
        ToolSpec {
            name: self.as_str().into(),
            description: self.description().into(),
            parameters: self.parameters(),
        }
    }

    /// When and how the model should use the tool.
    fn description(self) -> &'static str {
        match self {
            ToolName::EndCall => {
                "End the call. Call this once the caller has nothing more to ask; then \
                 say a short goodbye and the line is hung up after it."
            }
            ToolName::LookupKnowledge => {
                "Search the business's knowledge base (hours, services, prices, \
                 policies, locations). Use it before answering factual questions; never \
                 guess."
            }
            ToolName::TakeMessage => {
                "Take a message for someone at the business, then read the details back \
                 to the caller. If the caller corrects a message already taken in this \
                 call, call this again with `replaces` set to its `message_id`."
            }
            ToolName::TransferCall => {
                "Warm-transfer the caller to a person or department in the company directory. \
                 The caller is put on hold, the person is rung and told who is calling; if \
                 they do not take the call, the caller comes back to you with the reason and \
                 you offer to take a message. Outside the person's hours nobody is rung: the \
                 result says when they are next available."
            }
            ToolName::FindPersonOrDepartment => {
                "Search the company directory by name, department or role (\"Dr. Smith\", \
                 \"someone in billing\", \"the manager\"). Returns the best matches and whether \
                 each is available now."
            }
            ToolName::CheckAvailability => {
                "Whether a person or department is available now, in the business's time \
                 zone; if not, when they are next available (\"tomorrow at 9 am\")."
            }
            ToolName::BookAppointment => {
                "Book the appointment the person agreed to, at a local date and time in their \
                 time zone. Call it only once they have said yes to a specific day and time; \
                 if it fails, offer another time. Then confirm the booking and end the call."
            }
            ToolName::RequestCallback => {
                "The person asked to be called back another time: note when (if they said) \
                 and why, then thank them and end the call."
            }
            ToolName::DoNotCall => {
                "The person asked not to be called again (\"stop calling\", \"take me off your \
                 list\"). Call it at once, whatever else is under way, then confirm politely \
                 and end the call. Never argue or try to keep them on the line."
            }
        }
    }

    /// The JSON Schema of the tool's arguments.
    fn parameters(self) -> serde_json::Value {
        use serde_json::json;
        match self {
            ToolName::EndCall => json!({
                "type": "object",
                "properties": {
                    "reason": {"type": "string", "description": "Why the call ends."}
                },
                "required": []
            }),
            ToolName::LookupKnowledge => json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What the caller wants to know."}
                },
                "required": ["query"]
            }),
            ToolName::TakeMessage => json!({
                "type": "object",
                "properties": {
                    "for_whom": {"type": "string", "description": "Person or department the message is for."},
                    "caller_name": {"type": "string"},
                    "callback_number": {"type": "string", "description": "Number to call back, as the caller said it."},
                    "message": {"type": "string", "description": "The message itself."},
                    "replaces": {"type": "string", "description": "The message_id of a message taken earlier in this call that this corrected one replaces."}
                },
                "required": ["caller_name", "message"]
            }),
            ToolName::TransferCall => json!({
                "type": "object",
                "properties": {
                    "target": {"type": "string", "description": "Person or department, as the caller named them."},
                    "reason": {"type": "string", "description": "What the caller wants, in a few words: told to the person before they accept."}
                },
                "required": ["target"]
            }),
            ToolName::FindPersonOrDepartment => json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "A name, department or role."}
                },
                "required": ["query"]
            }),
            ToolName::CheckAvailability => json!({
                "type": "object",
                "properties": {
                    "target": {"type": "string", "description": "Person or department."}
                },
                "required": ["target"]
            }),
            ToolName::BookAppointment => book_appointment_parameters(),
            ToolName::RequestCallback => request_callback_parameters(),
            ToolName::DoNotCall => do_not_call_parameters(),
        }
    }
}

fn book_appointment_parameters() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "starts_at_local": {"type": "string", "description": "Local start, YYYY-MM-DDTHH:MM (e.g. 2026-12-08T10:00), in time_zone."},
            "time_zone": {"type": "string", "description": "IANA time zone of the person called (e.g. America/New_York)."},
            "notes": {"type": "string", "description": "What was agreed, in a sentence, for the staff."}
        },
        "required": ["starts_at_local", "time_zone"]
    })
}

fn request_callback_parameters() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "when_local": {"type": "string", "description": "When to call back, local: YYYY-MM-DDTHH:MM, or YYYY-MM-DD for a day. Leave out if they did not say."},
            "notes": {"type": "string", "description": "What the person said about calling back."}
        },
        "required": []
    })
}

fn do_not_call_parameters() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "reason": {"type": "string", "description": "The person's words, or a short summary of them."}
        },
        "required": ["reason"]
    })
}

/// A model's request to run a tool, as the bridge forwards it to the call workflow (an Update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRequest {
    /// The engine's id for this call (OpenAI `call_id`, Gemini function call `id`).
    pub call_id: String,
    pub name: String,
    /// The arguments as the model produced them: a JSON object, as text.
    pub arguments: String,
}

/// What a tool returned: the JSON text given back to the model, and whether the call should end
/// once the agent's next utterance has been heard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallResult {
    pub output: String,
    pub end_call: bool,
}

/// A finished caller utterance from a cascaded engine: one Update, one LLM turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserTurn {
    pub text: String,
    /// Milliseconds since the stream started.
    pub at_ms: u64,
}

/// The agent's answer to a [`UserTurn`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnReply {
    pub text: String,
    /// Hang up after this reply has been heard.
    pub end_call: bool,
}

impl TurnReply {
    /// Nothing to say, and the stream ends (the caller is being transferred).
    pub fn quiet_until_the_stream_ends() -> Self {
        Self {
            text: String::new(),
            end_call: true,
        }
    }
}

/// One chat message in the OpenAI-compatible format the LLM activity speaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ChatToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    pub fn system(text: impl Into<String>) -> Self {
        Self::text(ChatRole::System, text)
    }
    pub fn user(text: impl Into<String>) -> Self {
        Self::text(ChatRole::User, text)
    }
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text(ChatRole::Assistant, text)
    }
    pub fn tool_result(tool_call_id: impl Into<String>, output: impl Into<String>) -> Self {
        Self {
            role: ChatRole::Tool,
            content: Some(output.into()),
            tool_calls: Vec::new(),
            tool_call_id: Some(tool_call_id.into()),
        }
    }
    fn text(role: ChatRole, text: impl Into<String>) -> Self {
        Self {
            role,
            content: Some(text.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
    Tool,
}

/// A tool call inside an assistant message (`tool_calls[]` of chat completions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatToolCall {
    pub id: String,
    pub name: String,
    /// JSON object as text.
    pub arguments: String,
}

/// Input of the LLM activity: the conversation so far (without the system prompt, which the
/// activity builds from the agent) and the tools on offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmTurnInput {
    pub tenant_id: crate::TenantId,
    pub agent_id: crate::AgentId,
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolSpec>,
    /// The person on the line's caller ID (the system prompt tells the model, so it can offer
    /// it as the callback number); `None` in histories from before it was passed.
    #[serde(default)]
    pub caller_id: Option<crate::CallerId>,
    /// How many messages of the call precede `messages` (slid out of the window; see
    /// [`crate::memory`]): 0 in histories from before the window.
    #[serde(default)]
    pub earlier_messages: u32,
    /// A campaign call's `Campaign script: {…}` line, added to the system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_line: Option<String>,
}

/// The assistant message the LLM produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmTurnOutput {
    pub message: ChatMessage,
}

/// Input of the `take_message` activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakeMessageInput {
    pub tenant_id: crate::TenantId,
    pub call_sid: crate::CallSid,
    pub for_whom: Option<String>,
    pub caller_name: String,
    pub callback_number: Option<String>,
    pub message: String,
    /// A message taken earlier in the same call that this one corrects (its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// Who the message is for, as the company directory had them when it was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<crate::message::MessageRecipient>,
}

/// Input of the `lookup_knowledge` activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeQuery {
    pub tenant_id: crate::TenantId,
    /// The call's agent: its own entries are searched with the tenant's shared ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<crate::AgentId>,
    pub query: String,
    pub limit: u32,
}

/// How well a knowledge entry answers a caller's words: each word of the query (see
/// [`keywords`]) found in the entry's question counts 2, found in its category or answer 1.
/// Zero: the entry does not answer it. The knowledge search ranks by this, and the agent
/// builder's tests check their answer key with it.
pub fn knowledge_score(
    wanted: &std::collections::HashSet<String>,
    category: &str,
    question: &str,
    answer: &str,
) -> usize {
    let question = keywords(question);
    // `business_information` counts as the words `business` and `information`.
    let rest = keywords(&format!("{category} {answer}"));
    wanted
        .iter()
        .map(|w| 2 * usize::from(question.contains(w)) + usize::from(rest.contains(w)))
        .sum()
}

/// Lower-cased words of three letters or more, minus common filler, crudely singularised.
pub fn keywords(text: &str) -> std::collections::HashSet<String> {
    const STOP: &[&str] = &[
        "the", "and", "are", "you", "your", "what", "when", "where", "which", "who", "how", "can",
        "for", "with", "have", "has", "does", "did", "was", "were", "will", "would", "could",
        "about", "this", "that", "there", "their", "from", "any", "our", "not", "but", "like",
        "want", "need", "please", "tell", "know",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.len() >= 3 && !STOP.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() >= 3 && !w.ends_with("ss") => stem.to_owned(),
            _ => w,
        })
        .collect()
}

/// One knowledge base entry returned to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeHit {
    pub category: String,
    pub question: String,
    pub answer: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_drop_filler_and_plurals() {
        let k = keywords("What are your opening hours on Saturdays?");
        assert!(k.contains("opening") && k.contains("hour") && k.contains("saturday"));
        assert!(!k.contains("what") && !k.contains("your") && !k.contains("on"));
        assert!(keywords("business").contains("business"));
    }

    #[test]
    fn a_word_of_the_question_counts_double() {
        let wanted = keywords("opening hours");
        assert_eq!(
            knowledge_score(&wanted, "business_information", "Opening hours?", "9 to 5"),
            4
        );
        assert_eq!(
            knowledge_score(&wanted, "policies", "Refunds?", "Within opening hours"),
            2
        );
        assert_eq!(
            knowledge_score(&wanted, "policies", "Refunds?", "Within 30 days"),
            0
        );
    }

    #[test]
    fn every_tool_has_a_spec_with_an_object_schema() {
        for tool in ToolName::ALL {
            let spec = tool.spec();
            assert_eq!(spec.parameters["type"], "object");
            assert_eq!(ToolName::parse(&spec.name), Some(tool));
        }
        assert_eq!(ToolName::parse("rm_rf"), None);
    }

    #[test]
    fn inbound_calls_are_not_offered_the_campaign_tools() {
        let inbound: Vec<String> = tool_specs().into_iter().map(|s| s.name).collect();
        assert_eq!(
            inbound,
            [
                "end_call",
                "lookup_knowledge",
                "take_message",
                "transfer_call",
                "find_person_or_department",
                "check_availability"
            ]
        );
        let campaign: Vec<String> = campaign_tool_specs().into_iter().map(|s| s.name).collect();
        assert_eq!(
            campaign,
            [
                "end_call",
                "lookup_knowledge",
                "book_appointment",
                "request_callback",
                "do_not_call"
            ]
        );
    }

    #[test]
    fn chat_messages_serialize_like_openai() {
        let m = ChatMessage::tool_result("call_1", "{\"ok\":true}");
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["role"], "tool");
        assert_eq!(v["tool_call_id"], "call_1");
        assert!(v.get("tool_calls").is_none());
    }
}
