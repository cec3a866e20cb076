//! Sentence helpers: answers are read aloud word for word, at most two sentences.

/// The longest answer kept, in characters.
pub const MAX_ANSWER_CHARS: usize = 300;

/// Byte offsets just past each sentence end (`.`, `!`, `?` followed by whitespace or the end).
fn sentence_ends(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    text.char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | '!' | '?') && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace())
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// The sentences of `text`, trimmed; a trailing fragment without a stop is one too.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in sentence_ends(text) {
        let s = text[start..end].trim();
        if !s.is_empty() {
            out.push(s.to_owned());
        }
        start = end;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest.to_owned());
    }
    out
}

/// A full stop added when `text` does not end with one.
pub fn with_stop(text: &str) -> String {
    let t = text.trim().trim_end_matches([',', ';', ':']);
    if t.ends_with(['.', '!', '?']) {
        t.to_owned()
    } else {
        format!("{t}.")
    }
}

/// At most two sentences of `text` and at most [`MAX_ANSWER_CHARS`], each ending in a stop.
/// `None` when even the first sentence is too long.
pub fn answer(text: &str) -> Option<String> {
    let mut out = String::new();
    for sentence in sentences(text).into_iter().take(2) {
        let sentence = with_stop(&sentence);
        let len = out.chars().count() + sentence.chars().count() + 1;
        if len > MAX_ANSWER_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&sentence);
    }
    (!out.is_empty()).then_some(out)
}

/// Upper-cases the first letter.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "Drain Cleaning" → "drain cleaning": Title Case words lower-cased, others (brands, acronyms
/// like "PEX") kept.
pub fn lower_title(text: &str) -> String {
    text.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            let first_upper = chars.next().is_some_and(char::is_uppercase);
            let rest_lower = chars.all(|c| !c.is_uppercase());
            if first_upper && rest_lower {
                w.to_lowercase()
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drops parenthesised asides: "Water heater (50-gallon)" → "Water heater".
pub fn without_parentheses(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A question's identity for de-duplication: lower-case words only.
pub fn question_key(question: &str) -> String {
    question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_keeps_two_sentences_with_prices_intact() {
        let text = "Drain cleaning costs $1,850.50 today. It is quick. It is clean.";
        assert_eq!(
            answer(text).as_deref(),
            Some("Drain cleaning costs $1,850.50 today. It is quick.")
        );
        assert_eq!(answer("No stop here").as_deref(), Some("No stop here."));
        assert_eq!(answer(&"word ".repeat(80)), None);
    }

    #[test]
    fn title_case_is_lowered_but_brands_are_kept() {
        assert_eq!(lower_title("Drain Cleaning"), "drain cleaning");
        assert_eq!(lower_title("Copper or PEX"), "copper or PEX");
        assert_eq!(
            without_parentheses("Tank (50-gallon) install"),
            "Tank install"
        );
        assert_eq!(
            question_key("How much is Drain-cleaning?"),
            "how much is drain cleaning"
        );
    }
}
