//! Recognised speech as rules read it: lowercase words without punctuation, matched against
//! expected words and phrases with room for the speech recogniser's slips ("intrested",
//! "numbr", "tusday"). Post-call analysis and [`crate::when`] read transcripts through this one
//! place, so a word that counts as heard for one counts for the other.

/// Lowercase words; apostrophes dropped (`don't` → `dont`), other punctuation splits words,
/// except a colon between digits (`10:30`).
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let digit_either_side = || {
            i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
        };
        match c {
            '\'' | '’' => {}
            ':' | '.' if digit_either_side() => cleaned.push(':'),
            c if c.is_alphanumeric() => cleaned.extend(c.to_lowercase()),
            _ => cleaned.push(' '),
        }
    }
    cleaned.split_whitespace().map(str::to_owned).collect()
}

/// Whether a heard word is the expected one, allowing one slip in a word of five letters or
/// more and two in one of eight or more. Short words must match exactly: "of" is not "off".
pub(crate) fn sounds_like(heard: &str, expected: &str) -> bool {
    if heard == expected {
        return true;
    }
    let allowed = match expected.chars().count() {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    allowed > 0 && strsim::damerau_levenshtein(heard, expected) <= allowed
}

/// Whether any of `phrases` (space-separated words) occurs in `words`.
pub(crate) fn contains_any(words: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|phrase| find(words, phrase).is_some())
}

/// Where `phrase` starts in `words`.
fn find(words: &[String], phrase: &str) -> Option<usize> {
    let expected: Vec<&str> = phrase.split(' ').collect();
    if expected.len() > words.len() {
        return None;
    }
    (0..=words.len() - expected.len()).find(|&start| {
        expected
            .iter()
            .enumerate()
            .all(|(k, e)| sounds_like(&words[start + k], e))
    })
}
