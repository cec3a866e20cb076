//! What the policy answers a turn with, before it becomes the assistant's message.

use domain::conversation::ToolName;
use serde_json::Value;

pub(crate) enum Action {
    Say(String),
    /// Say nothing (the caller is keying in digits).
    Silent,
    Repeat,
    Call(ToolName, Value),
}

pub(crate) fn say(text: impl Into<String>) -> Action {
    Action::Say(text.into())
}

/// `lead` before what `action` says; a tool call goes first and `lead` is dropped (the tool's
/// result brings its own words).
pub(crate) fn prefixed(lead: impl Into<String>, action: Action) -> Action {
    match action {
        Action::Say(text) => say(format!("{} {text}", lead.into())),
        other => other,
    }
}
