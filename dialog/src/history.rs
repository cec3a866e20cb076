//! Reading the conversation back: the tool call a result answers.

use domain::conversation::{ChatMessage, ChatRole, ChatToolCall};

/// The assistant's tool call with that id, the latest first.
pub(crate) fn find_call<'a>(messages: &'a [ChatMessage], id: &str) -> Option<&'a ChatToolCall> {
    messages
        .iter()
        .rev()
        .filter(|m| m.role == ChatRole::Assistant)
        .flat_map(|m| m.tool_calls.iter())
        .find(|c| c.id == id)
}
