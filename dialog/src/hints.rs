//! What the agent's instructions (the first system message) declare for the policy: a greeting,
//! a keypad menu, the caller ID, and for an outbound campaign call its script.

use crate::campaign::CampaignScript;
use domain::conversation::{ChatMessage, ChatRole};

/// The system prompt line that carries the caller ID: `Caller ID: +14155550199` or
/// `Caller ID: withheld`.
pub const CALLER_ID_LINE: &str = "Caller ID:";

/// What the agent's instructions declare for this policy.
#[derive(Debug, Default)]
pub(crate) struct AgentHints {
    pub(crate) greeting: Option<String>,
    /// Keypad key → department.
    pub(crate) menu: Vec<(char, String)>,
    pub(crate) caller_id: CallerHint,
    /// An outbound campaign call's script: the call follows it, and its opening is the greeting.
    /// A script line that does not parse is ignored (the call is then an inbound one's).
    pub(crate) campaign: Option<CampaignScript>,
}

/// What the `Caller ID:` line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum CallerHint {
    /// No line (or a history from before it was added).
    #[default]
    Unknown,
    /// An E.164 number.
    Number(String),
    Withheld,
}

impl AgentHints {
    /// The hints of the first system message only: a later one (a summary of earlier turns when
    /// the conversation is windowed) is not the agent's instructions.
    pub(crate) fn parse(messages: &[ChatMessage]) -> Self {
        let mut hints = Self::default();
        let Some(system) = messages
            .iter()
            .find(|m| m.role == ChatRole::System)
            .and_then(|m| m.content.as_deref())
        else {
            return hints;
        };
        for line in system.lines() {
            hints.read_line(line);
        }
        if let Some(script) = &hints.campaign {
            hints.greeting = Some(script.opening_line());
        }
        hints
    }

    fn read_line(&mut self, line: &str) {
        let line = line.trim().trim_start_matches(['-', '*', '•']).trim();
        if let Some(script) = CampaignScript::from_instruction_line(line) {
            if self.campaign.is_none() {
                self.campaign = script.ok();
            }
            return;
        }
        let lower = line.to_lowercase();
        if let Some(rest) = lower.strip_prefix(&CALLER_ID_LINE.to_lowercase()) {
            self.caller_id = CallerHint::parse(rest.trim());
        } else if let Some(rest) = lower.strip_prefix("greeting:") {
            let text = line[line.len() - rest.len()..].trim();
            if !text.is_empty() && self.greeting.is_none() {
                self.greeting = Some(text.to_owned());
            }
        } else if let Some(rest) = lower.strip_prefix("press ")
            && let Some((key, label)) = menu_entry(line[line.len() - rest.len()..].trim_start())
            && !self.menu.iter().any(|(k, _)| *k == key)
        {
            self.menu.push((key, label));
        }
    }
}

impl CallerHint {
    /// What follows `Caller ID:`: an E.164 number, else (`withheld` or anything unreadable) a
    /// withheld number.
    fn parse(value: &str) -> Self {
        let is_number = value
            .strip_prefix('+')
            .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
        if is_number {
            CallerHint::Number(value.to_owned())
        } else {
            CallerHint::Withheld
        }
    }
}

/// What follows `Press `: `1: billing` or `2 for the front desk` → the key and its department.
fn menu_entry(rest: &str) -> Option<(char, String)> {
    let mut chars = rest.chars();
    let key = chars
        .next()
        .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#'))?;
    let after = chars.as_str().trim_start();
    let label = if let Some(l) = after.strip_prefix(':') {
        l
    } else if after.to_lowercase().starts_with("for ") {
        &after[4..]
    } else {
        return None;
    };
    let label = label.trim().trim_end_matches('.').trim();
    (!label.is_empty()).then(|| (key, label.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: &str = "You are the receptionist of Acme Plumbing.\n\
                          Greeting: Thanks for calling Acme Plumbing, how can I help?\n\
                          Press 1: billing\n\
                          - Press 2 for the front desk\n\n\
                          You are Acme on a phone call.";

    #[test]
    fn reads_the_greeting_and_the_keypad_menu() {
        let hints = AgentHints::parse(&[ChatMessage::system(SYSTEM)]);
        assert_eq!(
            hints.greeting.as_deref(),
            Some("Thanks for calling Acme Plumbing, how can I help?")
        );
        assert_eq!(
            hints.menu,
            vec![
                ('1', "billing".to_owned()),
                ('2', "the front desk".to_owned())
            ]
        );
    }

    #[test]
    fn a_second_system_message_is_not_read() {
        let summary = "Earlier in this call, the caller asked about opening hours.\n\
                       Greeting: Hello again\n\
                       Press 9: sales\n\
                       Caller ID: +14155550100";
        let hints = AgentHints::parse(&[
            ChatMessage::system(SYSTEM),
            ChatMessage::system(summary),
            ChatMessage::user("hello"),
        ]);
        assert_eq!(
            hints.greeting.as_deref(),
            Some("Thanks for calling Acme Plumbing, how can I help?")
        );
        assert_eq!(hints.menu.len(), 2, "{:?}", hints.menu);
        assert_eq!(hints.caller_id, CallerHint::Unknown);
    }
}
