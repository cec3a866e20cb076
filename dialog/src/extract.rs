//! What a caller turn says about a message: digit runs and phone numbers (digits or words,
//! "double five", "oh"), the caller's name, who the message is for, and the message itself.

use crate::lexicon::{FILLERS, MESSAGE_TRIGGERS, NOT_NAMES, STOPS, digit_word};
use crate::utterance::{Token, Utterance, clean_target};

impl Utterance {
    /// The first run of 10–11 digits: `(first token, end token, digits)`.
    pub(crate) fn phone_number(&self) -> Option<(usize, usize, String)> {
        self.digit_runs()
            .into_iter()
            .find(|(_, _, d)| (10..=11).contains(&d.len()))
    }

    pub(crate) fn longest_digit_run(&self) -> String {
        self.digit_runs()
            .into_iter()
            .map(|(_, _, d)| d)
            .max_by_key(String::len)
            .unwrap_or_default()
    }

    pub(crate) fn digit_runs(&self) -> Vec<(usize, usize, String)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < self.tokens.len() {
            let start = i;
            let mut digits = String::new();
            let mut repeat = 1;
            while i < self.tokens.len() {
                let low = self.tokens[i].low.as_str();
                if low == "double" || low == "triple" {
                    let next = self
                        .tokens
                        .get(i + 1)
                        .and_then(|t| digit_word(&t.low).or((t.low == "oh").then_some('0')));
                    if next.is_none() {
                        break;
                    }
                    repeat = if low == "double" { 2 } else { 3 };
                    i += 1;
                    continue;
                }
                let piece = if low.chars().all(|c| c.is_ascii_digit()) {
                    Some(low.to_owned())
                } else if (low == "oh" || low == "o") && (!digits.is_empty() || repeat > 1) {
                    Some("0".to_owned())
                } else {
                    digit_word(low).map(|d| d.to_string())
                };
                let Some(piece) = piece else { break };
                for _ in 0..repeat {
                    digits.push_str(&piece);
                }
                repeat = 1;
                i += 1;
            }
            if digits.is_empty() {
                i = start + 1;
            } else {
                runs.push((start, i, digits));
            }
        }
        runs
    }

    /// The caller's name: `(first token, end token, name)` of "my name is X", "this is X",
    /// "I'm X"; with `bare`, also "it's X".
    pub(crate) fn name(&self, bare: bool) -> Option<(usize, usize, String)> {
        let mut triggers = vec![
            "my name is",
            "my name's",
            "name is",
            "this is",
            "i'm",
            "i am",
            "it is",
        ];
        if bare {
            triggers.push("it's");
        }
        for trigger in triggers {
            let mut from = 0;
            while let Some(i) = self.find(trigger, from) {
                from = i + 1;
                let start = i + trigger.split(' ').count();
                let words: Vec<&Token> = self.tokens[start..]
                    .iter()
                    .take_while(|t| {
                        t.low.chars().all(char::is_alphabetic)
                            && !STOPS.contains(&t.low.as_str())
                            && !FILLERS.contains(&t.low.as_str())
                    })
                    .take(3)
                    .collect();
                let Some(first) = words.first() else { continue };
                if NOT_NAMES.contains(&first.low.as_str()) {
                    continue;
                }
                let name = words
                    .iter()
                    .map(|t| t.orig.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                return Some((i, start + words.len(), capitalize(&name)));
            }
        }
        None
    }

    /// Who the message is for: "message for X", "it's for X"; with `bare`, "for X".
    pub(crate) fn for_whom(&self, bare: bool) -> Option<(usize, usize, String)> {
        let anchored = [
            "message for",
            "messages for",
            "it's for",
            "it is for",
            "note for",
        ];
        let found = anchored
            .iter()
            .find_map(|a| self.find(a, 0).map(|i| (i, i + a.split(' ').count())))
            .or_else(|| {
                // "a message to the manager" but not "a message to say …".
                let i = self.find("message to", 0)?;
                let next = self.tokens.get(i + 2)?.low.as_str();
                (![
                    "say", "tell", "let", "ask", "be", "pass", "leave", "give", "go",
                ]
                .contains(&next))
                .then_some((i, i + 2))
            })
            .or_else(|| {
                if bare {
                    self.find("for", 0).map(|i| (i, i + 1))
                } else {
                    None
                }
            });
        let (start, after) = found?;
        let words: Vec<&Token> = self.tokens[after..]
            .iter()
            .take_while(|t| {
                !STOPS.contains(&t.low.as_str())
                    && digit_word(&t.low).is_none()
                    && !t.low.chars().all(|c| c.is_ascii_digit())
            })
            .take(5)
            .collect();
        let target = clean_target(&words.iter().map(|t| t.orig.clone()).collect::<Vec<_>>());
        if target.is_empty() {
            return None;
        }
        // Consume the intent around it too ("I'd like to leave a message for …").
        let begin = if self.tokens[start].low.starts_with("message") {
            0
        } else {
            start
        };
        Some((begin, after + words.len(), target))
    }

    /// The message after "tell them", "saying", "the message is" ….
    pub(crate) fn explicit_message(&self) -> Option<String> {
        let (i, trigger) = MESSAGE_TRIGGERS
            .iter()
            .filter_map(|t| self.find(t, 0).map(|i| (i, *t)))
            .min_by_key(|(i, _)| *i)?;
        let start = i + trigger.split(' ').count();
        let mut words = self.words_from(start);
        if words
            .first()
            .is_some_and(|w| w.eq_ignore_ascii_case("that"))
        {
            words.remove(0);
        }
        (!words.is_empty()).then(|| words.join(" "))
    }

    /// The caller's own words about the message that nothing else claimed, such as "please
    /// call me back" — at least two words that are not filler.
    pub(crate) fn implicit_message(&self, used: &[bool]) -> Option<String> {
        // "I'd like to leave a message" is the request, not the message.
        let intent_end = if self.has_message_intent() {
            self.tokens
                .iter()
                .position(|t| {
                    ["message", "messages", "voicemail", "note"].contains(&t.low.as_str())
                })
                .map_or(0, |i| i + 1)
        } else {
            0
        };
        let mut words: Vec<&Token> = self
            .tokens
            .iter()
            .zip(used)
            .enumerate()
            .filter(|(i, (_, u))| !**u && *i >= intent_end)
            .map(|(_, (t, _))| t)
            .collect();
        while words.last().is_some_and(|t| {
            ["on", "at", "is", "to", "number", "phone", "and"].contains(&t.low.as_str())
        }) {
            words.pop();
        }
        while words.first().is_some_and(|t| {
            ["and", "so", "also", "um", "uh", "oh", "well"].contains(&t.low.as_str())
        }) {
            words.remove(0);
        }
        let content = words
            .iter()
            .filter(|t| !FILLERS.contains(&t.low.as_str()))
            .count();
        (content >= 2).then(|| {
            words
                .iter()
                .map(|t| t.orig.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

/// "jordan lee" → "Jordan Lee"; "McKay" stays as said.
pub(crate) fn capitalize(name: &str) -> String {
    name.split(' ')
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use crate::utterance::Utterance;

    #[test]
    fn parses_phone_numbers_in_words_and_digits() {
        let number = |text: &str| Utterance::new(text).phone_number().map(|(_, _, d)| d);
        assert_eq!(
            number("four one five five five five zero one zero zero").as_deref(),
            Some("4155550100")
        );
        assert_eq!(
            number("call me at (415) 555-0100 please").as_deref(),
            Some("4155550100")
        );
        assert_eq!(
            number("it's one eight hundred").as_deref(),
            None,
            "'hundred' is not a digit"
        );
        assert_eq!(number("1 415 555 0100").as_deref(), Some("14155550100"));
        assert_eq!(
            number("four one five, triple five, oh one oh oh").as_deref(),
            Some("4155550100")
        );
        assert_eq!(number("my number is 555 0100"), None);
    }

    /// Whisper writes a number read digit by digit as words, across a sentence break.
    #[test]
    fn a_number_spelled_out_by_speech_to_text_is_found() {
        let u = Utterance::new(
            "My name is Jordan. Please call me back on four one five five five five zero one zero zero.",
        );
        assert_eq!(
            u.phone_number().map(|(_, _, d)| d),
            Some("4155550100".into())
        );
        // Nine digits (a repeated digit lost in transcription) is not a phone number.
        let short = Utterance::new("call me back on four one five five five zero one zero zero");
        assert_eq!(short.phone_number(), None);
    }

    #[test]
    fn extracts_names() {
        let name = |text: &str| Utterance::new(text).name(false).map(|(_, _, n)| n);
        assert_eq!(name("this is jordan from acme").as_deref(), Some("Jordan"));
        assert_eq!(name("Hi, I'm Jordan Lee").as_deref(), Some("Jordan Lee"));
        assert_eq!(name("I'm calling about my invoice"), None);
        assert_eq!(name("this is urgent"), None);
    }
}
