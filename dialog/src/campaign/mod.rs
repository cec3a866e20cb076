//! Outbound campaign calls: the [`CampaignScript`] the agent's instructions carry, and the
//! rule policy that follows it when no model is configured.
//!
//! The call goes: the opening ("Hi Jordan, this is Sam from Acme Motors… Am I speaking with
//! Jordan?"), the goal and the first slot on offer, then a booking (`book_appointment`, at an
//! offered slot or one the person proposes), a call back (`request_callback`), or a close
//! (wrong number, not interested) — each ending with `end_call` and its reason (the
//! post-call analysis's outcome names), the closing words said after its result. A do-not-call
//! request outranks everything at any point. On a machine ([`ANSWERED_BY_MACHINE`]) the agent
//! only leaves the voicemail message.
//!
//! - `script`: the script, its instructions line and its placeholders.
//! - `state`, `turn`, `tools`, `moves`: the state machine — a turn of the person called, a
//!   tool's result, and the moves both make.
//! - `intents`: what the person wants, read through recognition errors.

mod intents;
mod moves;
mod script;
mod state;
mod tools;
mod turn;

pub use script::{
    ANSWERED_BY_MACHINE, CAMPAIGN_SCRIPT_LINE, CampaignScript, LocalDateTime, Recipient,
};

use crate::action::{Action, say};
use crate::history::find_call;
use domain::campaign::analysis::OutcomeClass;
use domain::conversation::{ChatMessage, ChatRole};
use moves::{close, prompt};
use state::{CampaignState, Step};

/// Every turn and tool result of a campaign call through the state machine, in order: what the
/// last one calls for (`None` when the conversation does not end with one).
pub(crate) fn replay(script: &CampaignScript, messages: &[ChatMessage]) -> Option<Action> {
    let mut state = CampaignState::default();
    let instructions = messages.iter().position(|m| m.role == ChatRole::System);
    let mut action = None;
    for (i, m) in messages.iter().enumerate() {
        let content = m.content.as_deref().unwrap_or("");
        action = match m.role {
            ChatRole::User => Some(turn::step_user(script, &mut state, content)),
            ChatRole::Tool => {
                let call = m
                    .tool_call_id
                    .as_deref()
                    .and_then(|id| find_call(&messages[..i], id));
                Some(match call {
                    Some(call) => tools::step_tool(script, &mut state, call, content),
                    None => say(prompt(script, state.step)),
                })
            }
            ChatRole::System if Some(i) != instructions && is_machine(content) => {
                leave_voicemail(script, &mut state)
            }
            ChatRole::System | ChatRole::Assistant => None,
        };
    }
    action
}

/// The system note says a machine answered.
fn is_machine(content: &str) -> bool {
    content
        .lines()
        .any(|line| line.trim().eq_ignore_ascii_case(ANSWERED_BY_MACHINE))
}

/// A machine answered: `end_call`, and the voicemail message is the closing (said once).
fn leave_voicemail(script: &CampaignScript, state: &mut CampaignState) -> Option<Action> {
    (state.step != Step::Ended)
        .then(|| close(state, OutcomeClass::Voicemail, script.voicemail_line()))
}

#[cfg(test)]
mod tests;
