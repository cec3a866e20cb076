//! What the person called wants, read from recognised speech: no more calls, a wrong number,
//! no interest, a call back, someone else on the line. The phrases are matched after the words
//! they are made of have been corrected for small recognition errors ("pleese stop callin me"
//! is "please stop calling me"), because a do-not-call request must not be missed.

use crate::utterance::Utterance;
use strsim::damerau_levenshtein;

/// The words the phrases below are made of that recognisers often get slightly wrong.
const VOCABULARY: &[&str] = &[
    "please",
    "stop",
    "calling",
    "call",
    "calls",
    "contacting",
    "contact",
    "ringing",
    "bothering",
    "remove",
    "list",
    "again",
    "anymore",
    "number",
    "unsubscribe",
    "wrong",
    "nobody",
    "interested",
];

const NO_MORE_CALLS: &[&str] = &[
    "stop calling",
    "stop call",
    "stop ringing",
    "stop bothering",
    "stop contacting",
    "quit calling",
    "don't call",
    "dont call",
    "do not call",
    "never call",
    "no more calls",
    "don't contact",
    "do not contact",
    "take me off",
    "take me of",
    "take my number off",
    "take this number off",
    "remove me",
    "remove my number",
    "remove this number",
    "off your list",
    "of your list",
    "off the list",
    "off your calling list",
    "unsubscribe",
    "opt out",
];

const WRONG_NUMBER: &[&str] = &[
    "wrong number",
    "wrong person",
    "no one by that name",
    "nobody by that name",
    "no one here by that name",
    "nobody here by that name",
    "no one named",
    "nobody named",
    "no one called",
    "nobody called",
    "doesn't live here",
    "does not live here",
    "never heard of",
    "don't know any",
    "don't know a",
    "you've got the wrong",
    "you have the wrong",
    "you got the wrong",
];

const NOT_INTERESTED: &[&str] = &[
    "not interested",
    "no interest",
    "no thanks",
    "no thank you",
    "don't need it",
    "don't need that",
    "don't need one",
    "don't want it",
    "don't want that",
    "already had it",
    "already done",
    "already been done",
    "already serviced",
    "sold the car",
    "sold that car",
    "sold it",
    "no longer have",
    "don't have that car",
    "don't have the car",
    "don't have it anymore",
];

const CALL_BACK: &[&str] = &[
    "call me back",
    "call back",
    "call me later",
    "call later",
    "call me tomorrow",
    "call me another",
    "call another time",
    "call me next",
    "call me in the",
    "ring me back",
    "ring back",
    "try me later",
    "try again later",
    "not a good time",
    "bad time",
    "busy right now",
    "i'm busy",
    "i am busy",
    "i'm driving",
    "i am driving",
    "can't talk",
    "cannot talk",
    "in a meeting",
];

/// The person is there but not the one asked for, or not reachable now.
const NOT_AVAILABLE: &[&str] = &[
    "not here",
    "isn't here",
    "is not here",
    "not home",
    "isn't home",
    "not in",
    "isn't in",
    "not available",
    "isn't available",
    "at work",
    "out right now",
];

pub(crate) fn wants_no_more_calls(u: &Utterance) -> bool {
    corrected(u).has_any(NO_MORE_CALLS)
}

pub(crate) fn is_wrong_number(u: &Utterance) -> bool {
    corrected(u).has_any(WRONG_NUMBER)
}

pub(crate) fn is_not_interested(u: &Utterance) -> bool {
    corrected(u).has_any(NOT_INTERESTED)
}

pub(crate) fn wants_call_back(u: &Utterance) -> bool {
    corrected(u).has_any(CALL_BACK)
}

pub(crate) fn is_not_available(u: &Utterance) -> bool {
    u.has_any(NOT_AVAILABLE)
}

/// The turn with each word that is one (or, for long words, two) edits from a word of
/// [`VOCABULARY`] replaced by it.
fn corrected(u: &Utterance) -> Utterance {
    let words: Vec<&str> = u.tokens.iter().map(|t| closest(&t.low)).collect();
    Utterance::new(&words.join(" "))
}

fn closest(word: &str) -> &str {
    if word.len() < 4 || VOCABULARY.contains(&word) {
        return word;
    }
    VOCABULARY
        .iter()
        .copied()
        .filter(|v| v.len() >= 4)
        .map(|v| (damerau_levenshtein(word, v), v))
        .filter(|(edits, v)| *edits <= if v.len() <= 5 { 1 } else { 2 })
        .min_by_key(|(edits, _)| *edits)
        .map_or(word, |(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_do_not_call_request_is_heard_through_recognition_errors() {
        for text in [
            "pleese stop callin me",
            "Stop colling me!",
            "please take me of you list",
            "Please remove my number",
            "don't call this number again",
            "I want to unsubscibe",
            "put me on your do not call list",
        ] {
            assert!(wants_no_more_calls(&Utterance::new(text)), "{text}");
        }
        for text in ["call me back tomorrow", "yes that works", "Wednesday at 3"] {
            assert!(!wants_no_more_calls(&Utterance::new(text)), "{text}");
        }
    }

    #[test]
    fn a_wrong_number_and_no_interest_are_told_apart() {
        assert!(is_wrong_number(&Utterance::new("Sorry, rong number")));
        assert!(is_wrong_number(&Utterance::new(
            "there's no one here by that name"
        )));
        assert!(is_not_interested(&Utterance::new(
            "I'm not intrested, thanks"
        )));
        assert!(!is_not_interested(&Utterance::new(
            "interesting, tell me more"
        )));
    }
}
