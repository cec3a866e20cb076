//! The policy: [`RuleDialog::reply`] replays the conversation through the state machine and
//! answers its last turn.

use crate::action::Action;
use crate::campaign;
use crate::hints::{AgentHints, CallerHint};
use crate::history::find_call;
use crate::phrases::HOW_CAN_I_HELP;
use crate::state::{Pending, State};
use crate::tools::step_tool;
use crate::turn::step_user;
use domain::conversation::{ChatMessage, ChatRole, ChatToolCall};
use domain::transfer::parse_transfer_result_note;

/// The rule-based dialog policy. Stateless: everything it knows comes from the history.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleDialog;

impl RuleDialog {
    pub fn new() -> Self {
        Self
    }

    /// The assistant's next message: text to speak, or one tool call.
    ///
    /// `messages` is the system prompt (the agent's instructions, the only system message read
    /// for hints), perhaps a summary of earlier turns, and a window of the conversation that
    /// starts at a user turn; `earlier` is how many messages of the conversation come before
    /// the window. A tool call's id is `rules_{earlier + messages.len()}`: it grows with the
    /// conversation, so ids stay unique within the call when the window slides (as long as the
    /// summary, once there, stays), and a retried activity gets the same one.
    pub fn reply(&self, messages: &[ChatMessage], earlier: usize) -> ChatMessage {
        let agent = AgentHints::parse(messages);
        let action = match &agent.campaign {
            Some(script) => campaign::replay(script, messages),
            None => replay(&agent, messages),
        };
        match action {
            Some(Action::Say(text)) => ChatMessage::assistant(text),
            Some(Action::Silent) => ChatMessage::assistant(""),
            Some(Action::Repeat) => ChatMessage::assistant(last_said(messages, &agent)),
            Some(Action::Call(tool, args)) => ChatMessage {
                role: ChatRole::Assistant,
                content: None,
                tool_calls: vec![ChatToolCall {
                    id: format!("rules_{}", earlier + messages.len()),
                    name: tool.as_str().into(),
                    arguments: args.to_string(),
                }],
                tool_call_id: None,
            },
            None => ChatMessage::assistant(
                agent
                    .greeting
                    .clone()
                    .unwrap_or_else(|| HOW_CAN_I_HELP.into()),
            ),
        }
    }
}

/// Every user turn and tool result through the state machine, in order: what the last one
/// calls for (`None` when the conversation does not end with one).
fn replay(agent: &AgentHints, messages: &[ChatMessage]) -> Option<Action> {
    let mut state = State {
        caller_number: match &agent.caller_id {
            CallerHint::Number(n) => Some(n.clone()),
            CallerHint::Withheld | CallerHint::Unknown => None,
        },
        caller_withheld: agent.caller_id == CallerHint::Withheld,
        ..State::default()
    };
    let mut action = None;
    for (i, m) in messages.iter().enumerate() {
        let content = m.content.as_deref().unwrap_or("");
        match m.role {
            ChatRole::User => action = Some(step_user(agent, &mut state, content)),
            ChatRole::Tool => {
                let call = m
                    .tool_call_id
                    .as_deref()
                    .and_then(|id| find_call(&messages[..i], id));
                action = Some(match call {
                    Some(call) => step_tool(&mut state, call, content),
                    None => Action::Say(HOW_CAN_I_HELP.into()),
                });
            }
            ChatRole::System => {
                // The caller is back from a transfer that did not connect: the agent has
                // offered a message for the person.
                if let Some((_, target)) = parse_transfer_result_note(content) {
                    state.close_draft();
                    state.pending = Pending::OfferMessage(Some(target));
                }
                action = None;
            }
            ChatRole::Assistant => action = None,
        }
    }
    action
}

/// The last thing the agent said, for "say that again".
fn last_said(messages: &[ChatMessage], agent: &AgentHints) -> String {
    messages
        .iter()
        .rev()
        .filter(|m| m.role == ChatRole::Assistant)
        .find_map(|m| {
            m.content
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
        })
        .map(str::to_owned)
        .or_else(|| agent.greeting.clone())
        .unwrap_or_else(|| HOW_CAN_I_HELP.into())
}

#[cfg(test)]
mod tests;
