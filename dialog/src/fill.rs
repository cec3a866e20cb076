//! Filling a message's details from what the caller said: the slot just asked for, anything
//! else the turn mentions, and corrections to a saved message.

use crate::draft::{Draft, Slot};
use crate::extract::capitalize;
use crate::lexicon::{NAME_LEADS, NOT_NAMES};
use crate::phone::split_country;
use crate::phrases::KEYPAD_HINT;
use crate::utterance::{Utterance, clean_target};

/// What the caller said about the message on hearing it read back ("no, the last four digits
/// are 0101", "my name is Jordan Leigh"): the draft with the correction, or `None` when the
/// turn corrects nothing.
pub(crate) fn corrected_draft(draft: &Draft, u: &Utterance) -> Option<Draft> {
    let mut draft = draft.clone();
    if let Some(number) = corrected_part(&draft, u) {
        draft.callback_number = Some(number);
        return Some(draft);
    }
    fill_from(&mut draft, u, None).then_some(draft)
}

/// "No, the last four digits are 0101": the callback number with that one group replaced.
/// Groups are those of a North American number (3-3-4, after an optional leading 1); the part
/// is named ("area code", "middle", "last") or, for four digits, implied.
fn corrected_part(draft: &Draft, u: &Utterance) -> Option<String> {
    let number = draft.callback_number.as_deref()?;
    if u.phone_number().is_some() {
        return None;
    }
    let part = u
        .digit_runs()
        .into_iter()
        .map(|(_, _, d)| d)
        .find(|d| (3..=4).contains(&d.len()))?;
    let (country, national) = split_country(number);
    if national.len() != 10 {
        return None;
    }
    let (start, len) = if u.has_any(&["area code", "first part", "first three", "beginning"]) {
        (0, 3)
    } else if u.has_any(&["middle", "second part", "middle part", "next three"]) {
        (3, 3)
    } else if part.len() == 4 || u.has_any(&["last", "ending", "ends", "end"]) {
        (6, 4)
    } else {
        return None;
    };
    if part.len() != len {
        return None;
    }
    let fixed = format!("{}{part}{}", &national[..start], &national[start + len..]);
    let plus = if number.starts_with('+') { "+" } else { "" };
    let corrected = format!("{plus}{country}{fixed}");
    (corrected != number).then_some(corrected)
}

/// Fill the asked slot from the caller's answer; `Some(reply)` when the answer did not fit.
pub(crate) fn fill_slot(draft: &mut Draft, slot: Slot, u: &Utterance) -> Option<String> {
    if slot == Slot::Message {
        let text = u
            .explicit_message()
            .unwrap_or_else(|| u.text.trim().to_owned());
        draft.message = Some(text);
        return None;
    }
    fill_from(draft, u, Some(slot));
    match slot {
        Slot::Name if draft.caller_name.is_none() => {
            Some("Sorry, I didn't catch your name. Could you say it again?".into())
        }
        Slot::Number if draft.callback_number.is_none() && !draft.number_declined => {
            let digits = u.longest_digit_run();
            Some(if digits.len() >= 3 {
                format!(
                    "I only got {} digits. Could you say the full number, including the area \
                     code? {KEYPAD_HINT}",
                    digits.len()
                )
            } else {
                format!(
                    "Sorry, I didn't catch the number. Could you say it again, digit by digit? \
                     {KEYPAD_HINT}"
                )
            })
        }
        Slot::ForWhom if draft.for_whom.is_none() => {
            Some("Sorry, who should I pass the message to?".into())
        }
        _ => None,
    }
}

/// Take whatever the caller said about the message; returns whether anything changed.
/// `asked` is the slot just asked for, whose bare answer is accepted.
pub(crate) fn fill_from(draft: &mut Draft, u: &Utterance, asked: Option<Slot>) -> bool {
    let before = draft.clone();
    let mut used = vec![false; u.tokens.len()];
    fill_number(draft, u, asked, &mut used);
    if let Some((start, end, name)) = u.name(asked == Some(Slot::Name)) {
        used[start..end].fill(true);
        draft.caller_name = Some(name);
    }
    if let Some((start, end, for_whom)) = u.for_whom(asked == Some(Slot::ForWhom)) {
        used[start..end].fill(true);
        draft.for_whom = Some(for_whom);
    }
    if let Some(message) = u.explicit_message() {
        draft.message = Some(message);
        used.fill(true);
    }
    fill_bare_answer(draft, u, asked, &mut used);
    // What the caller said about the message, when they gave no explicit text.
    if draft.message.is_none()
        && let Some(implicit) = u.implicit_message(&used)
    {
        draft.message = Some(implicit);
    }
    *draft != before
}

/// A phone number in the turn, or, when the number was asked for, the caller declining to give
/// one.
fn fill_number(draft: &mut Draft, u: &Utterance, asked: Option<Slot>, used: &mut [bool]) {
    if let Some((start, end, digits)) = u.phone_number() {
        used[start..end].fill(true);
        draft.callback_number = Some(digits);
        draft.number_declined = false;
    } else if asked == Some(Slot::Number)
        && (u.yes_no() == Some(false)
            || u.has_any(&[
                "don't have",
                "do not have",
                "this number",
                "same number",
                "calling from",
                "you have it",
                "skip",
                "none",
            ]))
    {
        draft.number_declined = true;
        used.fill(true);
    }
}

/// A bare answer to the question just asked ("Jordan", "the billing team"), from the words no
/// extractor claimed.
fn fill_bare_answer(draft: &mut Draft, u: &Utterance, asked: Option<Slot>, used: &mut [bool]) {
    let rest = u.unused_words(used);
    match asked {
        Some(Slot::Name) if draft.caller_name.is_none() => {
            let words: Vec<&str> = rest
                .iter()
                .map(String::as_str)
                .skip_while(|w| NAME_LEADS.contains(&w.to_lowercase().as_str()))
                .collect();
            if (1..=3).contains(&words.len())
                && words.iter().all(|w| w.chars().all(char::is_alphabetic))
                && !NOT_NAMES.contains(&words[0].to_lowercase().as_str())
            {
                draft.caller_name = Some(capitalize(&words.join(" ")));
                used.fill(true);
            }
        }
        Some(Slot::ForWhom) if draft.for_whom.is_none() => {
            let target = clean_target(&rest);
            if !target.is_empty() {
                draft.for_whom = Some(target);
                used.fill(true);
            }
        }
        _ => {}
    }
}
