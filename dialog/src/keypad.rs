//! Keypad presses (`[caller pressed 4155550100#]`): a callback number keyed in while one is asked
//! for (or to replace a misheard one at the read-back), else a choice from the agent's menu.

use crate::action::{Action, prefixed, say};
use crate::draft::{Draft, Slot};
use crate::hints::AgentHints;
use crate::moves::resume_draft;
use crate::phone::national_digits;
use crate::phrases::HOW_CAN_I_HELP;
use crate::state::{Pending, State};

/// `[caller pressed 5]` → `5`; `[caller pressed 4155550100#]` → `4155550100#`.
pub(crate) fn dtmf_keys(text: &str) -> Option<String> {
    let inner = text
        .trim()
        .strip_prefix('[')?
        .strip_suffix(']')?
        .trim()
        .strip_prefix("caller pressed")?
        .trim();
    let keys: String = inner
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#'))
        .collect();
    (!keys.is_empty()).then_some(keys)
}

/// Keys the caller pressed: while a callback number is asked for they fill it, and while a
/// message is read back a whole number keyed in replaces its callback number (a caller who
/// hears a wrong number back keys the right one); else the first key chooses from the keypad
/// menu.
pub(crate) fn step_keys(agent: &AgentHints, state: &mut State, keys: &str) -> Action {
    let asked = matches!(
        state.pending,
        Pending::Slot(Slot::Number) | Pending::OfferCallerId | Pending::KeyingNumber
    );
    let correcting = matches!(state.pending, Pending::Confirm | Pending::Change)
        && keys.chars().filter(char::is_ascii_digit).count() >= 7;
    let collecting = (asked || correcting) && state.draft.is_some();
    if !collecting {
        return match keys.chars().next() {
            Some(key) => step_dtmf(agent, state, key),
            None => Action::Silent,
        };
    }
    let mut restarted = false;
    for key in keys.chars() {
        match key {
            '0'..='9' => state.keyed.push(key),
            '*' => {
                state.keyed.clear();
                restarted = true;
            }
            '#' => return finish_keyed(state),
            _ => {}
        }
    }
    if (10..=11).contains(&state.keyed.len()) {
        // A whole number, and the caller stopped keying without the pound key.
        return finish_keyed(state);
    }
    state.pending = Pending::KeyingNumber;
    if restarted && state.keyed.is_empty() {
        return say("Let's start again. Key in the number, then press the pound key.");
    }
    Action::Silent
}

/// The keyed-in number is complete (pound, or a whole number): fill it or ask again.
fn finish_keyed(state: &mut State) -> Action {
    let digits = std::mem::take(&mut state.keyed);
    let mut draft = state.draft.clone().unwrap_or_default();
    if (10..=15).contains(&digits.len()) {
        let same = draft
            .callback_number
            .as_deref()
            .is_some_and(|had| national_digits(had) == national_digits(&digits));
        if !same {
            draft.callback_number = Some(digits);
        }
        draft.number_declined = false;
        let lead = if same {
            "Thank you, that's the number I have."
        } else {
            "Thank you."
        };
        return prefixed(lead, resume_draft(state, draft));
    }
    state.draft = Some(draft);
    state.pending = Pending::Slot(Slot::Number);
    say(if digits.is_empty() {
        "I didn't get any digits. Please key in the number, then press the pound key.".to_owned()
    } else {
        format!(
            "I only got {} digits. Please key in the full number, including the area code, then \
             press the pound key.",
            digits.len()
        )
    })
}

/// A key pressed outside a number: the department of the agent's menu it chooses.
fn step_dtmf(agent: &AgentHints, state: &mut State, key: char) -> Action {
    if let Some((_, label)) = agent.menu.iter().find(|(k, _)| *k == key) {
        let draft = Draft {
            for_whom: Some(label.clone()),
            ..state.draft.clone().unwrap_or_default()
        };
        let next = resume_draft(state, draft);
        return prefixed(
            format!("You chose {label}. I can take a message for {label}."),
            next,
        );
    }
    if agent.menu.is_empty() {
        return say(format!(
            "Sorry, I can't use the keypad on this line. {HOW_CAN_I_HELP}"
        ));
    }
    let options = agent
        .menu
        .iter()
        .map(|(k, l)| format!("press {k} for {l}"))
        .collect::<Vec<_>>()
        .join(", ");
    say(format!("Sorry, {key} isn't an option. Please {options}."))
}
