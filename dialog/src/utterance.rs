//! One caller turn as words, and the phrase matching that tells what the caller wants: yes or
//! no, a question, a message, a transfer (and to whom), a request to repeat.

use crate::lexicon::{NO, QUESTION_LEADS, QUESTION_WORDS, REPEATS, TRANSFER_TRIGGERS, YES};

#[derive(Debug)]
pub(crate) struct Token {
    pub(crate) orig: String,
    pub(crate) low: String,
}

/// One caller turn: the text and its words (original and lower case).
#[derive(Debug)]
pub(crate) struct Utterance {
    pub(crate) text: String,
    pub(crate) tokens: Vec<Token>,
    /// Lower-case words joined by single spaces, padded with spaces for phrase matching.
    padded: String,
}

impl Utterance {
    pub(crate) fn new(text: &str) -> Self {
        let cleaned = text.replace(['’', '‘'], "'");
        let tokens: Vec<Token> = cleaned
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .map(|w| w.trim_matches('\''))
            .filter(|w| !w.is_empty())
            .map(|w| Token {
                orig: w.to_owned(),
                low: w.to_lowercase(),
            })
            .collect();
        let padded = format!(
            " {} ",
            tokens
                .iter()
                .map(|t| t.low.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        Self {
            text: cleaned.trim().to_owned(),
            tokens,
            padded,
        }
    }

    pub(crate) fn has(&self, phrase: &str) -> bool {
        self.padded.contains(&format!(" {phrase} "))
    }

    pub(crate) fn has_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    /// Index of the first token of `phrase` at or after `from`.
    pub(crate) fn find(&self, phrase: &str, from: usize) -> Option<usize> {
        let words: Vec<&str> = phrase.split(' ').collect();
        (from..self.tokens.len()).find(|&i| {
            i + words.len() <= self.tokens.len()
                && words
                    .iter()
                    .enumerate()
                    .all(|(j, w)| self.tokens[i + j].low == *w)
        })
    }

    pub(crate) fn words_from(&self, start: usize) -> Vec<String> {
        self.tokens[start.min(self.tokens.len())..]
            .iter()
            .map(|t| t.orig.clone())
            .collect()
    }

    pub(crate) fn unused_words(&self, used: &[bool]) -> Vec<String> {
        self.tokens
            .iter()
            .zip(used)
            .filter(|(_, u)| !**u)
            .map(|(t, _)| t.orig.clone())
            .collect()
    }

    pub(crate) fn is_repeat_request(&self) -> bool {
        self.has_any(REPEATS)
            || (self.tokens.len() <= 2
                && self.has_any(&["sorry", "what", "huh"])
                && self.text.ends_with('?'))
    }

    /// Yes or no, judged by how the turn starts.
    pub(crate) fn yes_no(&self) -> Option<bool> {
        let first_two = self
            .tokens
            .iter()
            .take(2)
            .map(|t| t.low.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let first = self.tokens.first().map(|t| t.low.as_str()).unwrap_or("");
        let starts = |list: &[&str]| list.contains(&first) || list.contains(&first_two.as_str());
        if starts(NO) {
            Some(false)
        } else if starts(YES) {
            Some(true)
        } else {
            None
        }
    }

    pub(crate) fn has_message_intent(&self) -> bool {
        self.has_any(&["message", "voicemail", "leave a note", "take a note"])
            && !self.has_any(&["my message", "get my message", "got my message"])
    }

    /// A question, a message or a transfer: more than a bare yes or no.
    pub(crate) fn has_other_intent(&self) -> bool {
        self.is_question() || self.has_message_intent() || self.transfer_target().is_some()
    }

    pub(crate) fn is_question(&self) -> bool {
        let first = self.tokens.first().map(|t| t.low.as_str()).unwrap_or("");
        self.text.contains('?') || QUESTION_LEADS.contains(&first) || self.has_any(QUESTION_WORDS)
    }

    /// `Some("")` when the caller wants to be transferred but did not say to whom.
    pub(crate) fn transfer_target(&self) -> Option<String> {
        TRANSFER_TRIGGERS.iter().find_map(|trigger| {
            let i = self.find(trigger, 0)?;
            let start = i + trigger.split(' ').count();
            Some(clean_target(&self.words_from(start)))
        })
    }
}

/// "someone in billing please" → "billing".
pub(crate) fn clean_target(words: &[String]) -> String {
    let mut words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .take_while(|w| {
            let w = w.to_lowercase();
            ![
                "please",
                "about",
                "regarding",
                "because",
                "now",
                "if",
                "so",
                "thanks",
                "thank",
            ]
            .contains(&w.as_str())
        })
        .collect();
    let leads = [
        "to", "for", "it's", "its", "it", "is", "with", "someone", "somebody", "anyone", "in",
        "from", "at", "on", "um", "uh", "oh", "the", "a", "an", "yes", "yeah", "sure",
    ];
    // Strip the leads, but keep a "the" that starts the target ("the billing team").
    while let Some(first) = words.first() {
        let low = first.to_lowercase();
        if !leads.contains(&low.as_str()) {
            break;
        }
        if low == "the" && words.len() > 1 {
            let second = words[1].to_lowercase();
            if !leads.contains(&second.as_str()) {
                break;
            }
        }
        words.remove(0);
    }
    words.join(" ")
}
