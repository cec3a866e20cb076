//! Prices: "$1,850", "from $149", "$165 per hour", in table rows ("Drain cleaning | from $149")
//! and lines ("Drain cleaning from $149, …", "Leak detection: $275 per visit.").

use crate::text::{capitalize, lower_title, with_stop, without_parentheses};
use regex::Regex;
use std::sync::LazyLock;

static PRICE: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern, exercised by the tests below.
    Regex::new(
        r"(?i)(?:(?:from|starting at|starts at)\s+)?\$(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{2})?",
    )
    .expect("price pattern")
});

/// Words a service name never starts with: the text before the price is a sentence.
const NOT_A_NAME: &[&str] = &[
    "we", "our", "it", "this", "every", "all", "any", "you", "your", "an", "a", "the", "call",
    "save", "get",
];

/// Words that label a price rather than name a service.
const LABELS: &[&str] = &[
    "price",
    "prices",
    "cost",
    "pricing",
    "rate",
    "fee",
    "starting price",
];

/// A service and what it costs, as the site words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub service: String,
    /// "from $149", "$1,850 for a standard 50-gallon tank".
    pub phrase: String,
}

impl Price {
    pub fn question(&self) -> String {
        format!("How much is {}?", lower_title(&self.service))
    }

    pub fn answer(&self) -> String {
        with_stop(&format!(
            "{} costs {}",
            capitalize(&lower_title(&self.service)),
            self.phrase
        ))
    }
}

/// A plausible service name: 1–7 words, starting with a capital, no digits, not a sentence.
fn as_name(text: &str) -> Option<String> {
    let name = without_parentheses(text);
    let name = name
        .trim()
        .trim_end_matches([':', '-', '–', '—', ','])
        .trim();
    let name = name
        .strip_suffix(" costs")
        .or_else(|| name.strip_suffix(" cost"))
        .or_else(|| name.strip_suffix(" is"))
        .unwrap_or(name)
        .trim();
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = words.first()?.to_lowercase();
    let ok = (1..=7).contains(&words.len())
        && name.starts_with(|c: char| c.is_uppercase())
        && !name.contains(|c: char| c.is_ascii_digit() || c == '$')
        && !NOT_A_NAME.contains(&first.as_str());
    ok.then(|| name.to_owned())
}

/// The price phrase from a match to the next comma, semicolon or sentence end.
fn phrase_from(text: &str, start: usize, price_end: usize) -> String {
    let tail = &text[price_end..];
    let stop = tail
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, ',' | ';' | '(')
                || (c == '.' && tail[i + 1..].chars().next().is_none_or(char::is_whitespace))
        })
        .map_or(tail.len(), |(i, _)| i);
    format!("{}{}", &text[start..price_end], &tail[..stop])
        .trim()
        .to_owned()
}

/// A line's price with the service named before it; `fallback` names the service when the
/// text before the price is not a name ("Price: $89" under a page titled "Drain Cleaning").
pub fn from_line(text: &str, fallback: Option<&str>) -> Option<Price> {
    let m = PRICE.find(text)?;
    let before = &text[..m.start()];
    if before.to_lowercase().contains(" off") || text[m.end()..].trim_start().starts_with("off") {
        return None;
    }
    let label = as_name(before).filter(|n| !LABELS.contains(&n.to_lowercase().as_str()));
    let service = label.or_else(|| fallback.and_then(as_name))?;
    Some(Price {
        service,
        phrase: phrase_from(text, m.start(), m.end()),
    })
}

/// A table row's price: the first cell names the service, the first cell with a price says it.
pub fn from_row(cells: &[String]) -> Option<Price> {
    let (first, rest) = cells.split_first()?;
    let service = as_name(first)?;
    let cell = rest.iter().find(|c| PRICE.is_match(c))?;
    Some(Price {
        service,
        phrase: cell.trim().trim_end_matches('.').to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: &str) -> Option<(String, String)> {
        from_line(t, None).map(|p| (p.question(), p.answer()))
    }

    #[test]
    fn a_from_price_in_a_line_names_its_service() {
        assert_eq!(
            line("Drain cleaning from $149, including a camera check."),
            Some((
                "How much is drain cleaning?".into(),
                "Drain cleaning costs from $149.".into()
            ))
        );
    }

    #[test]
    fn a_colon_price_keeps_its_qualifier_and_thousands() {
        let (_, answer) =
            line("Water heater installation: $1,850 for a standard 50-gallon tank, installed.")
                .unwrap_or_default();
        assert_eq!(
            answer,
            "Water heater installation costs $1,850 for a standard 50-gallon tank."
        );
        let (_, answer) = line("Leak detection: $275 per visit.").unwrap_or_default();
        assert_eq!(answer, "Leak detection costs $275 per visit.");
        assert_eq!(
            from_line("Labor is $99.50.", None)
                .map(|p| p.phrase)
                .as_deref(),
            Some("$99.50")
        );
    }

    #[test]
    fn sentences_and_discounts_are_not_prices() {
        assert_eq!(line("Every visit has a minimum charge of $89."), None);
        assert_eq!(line("Save $50 off any drain cleaning"), None);
        assert_eq!(line("Drain cleaning $50 off this month"), None);
        let fallback = from_line("Price: from $99.", Some("Drain Cleaning"));
        assert_eq!(
            fallback.map(|p| p.answer()).as_deref(),
            Some("Drain cleaning costs from $99.")
        );
    }

    #[test]
    fn a_table_row_names_its_service_in_the_first_cell() {
        let row = [
            "Standard water heater installation (50-gallon tank)".to_owned(),
            "$1,850".to_owned(),
        ];
        let price = from_row(&row);
        assert_eq!(
            price.as_ref().map(Price::question).as_deref(),
            Some("How much is standard water heater installation?")
        );
        assert_eq!(from_row(&["Day".to_owned(), "Hours".to_owned()]), None);
    }
}
