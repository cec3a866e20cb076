//! Phone numbers in text (US formats) as E.164, the main line told from the emergency line by
//! the words around each number.

use regex::Regex;
use std::sync::LazyLock;

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern, exercised by the tests below.
    Regex::new(r"(?:\+?1[\s.\-]?)?(?:\(\d{3}\)|\b\d{3})[\s.\-]?\d{3}[\s.\-]\d{4}\b")
        .expect("the phone pattern compiles")
});

/// Words that make a number the emergency line when they are in its sentence or heading.
pub const EMERGENCY_WORDS: &[&str] = &[
    "emergency",
    "emergencies",
    "24/7",
    "24 hours",
    "around the clock",
    "after hours",
    "after-hours",
    "urgent",
];

/// A number as written and as E.164.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub written: String,
    pub e164: String,
}

/// `raw` as E.164 when it is a valid US (NANP) number.
pub fn to_e164(raw: &str) -> Option<String> {
    let number = phonenumber::parse(Some(phonenumber::country::Id::US), raw).ok()?;
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    let nanp = e164.len() == 12 && e164.starts_with("+1");
    // Fictional 555-01XX numbers fail strict validation; the shape is checked instead.
    (nanp && (phonenumber::is_valid(&number) || plausible_nanp(&e164))).then_some(e164)
}

/// +1, an area code and exchange not starting with 0 or 1.
fn plausible_nanp(e164: &str) -> bool {
    let digits = e164.as_bytes();
    digits.len() == 12 && !matches!(digits[2], b'0' | b'1') && !matches!(digits[5], b'0' | b'1')
}

/// Every number in `text`, in order.
pub fn find(text: &str) -> Vec<Found> {
    PHONE
        .find_iter(text)
        .filter_map(|m| {
            to_e164(m.as_str()).map(|e164| Found {
                written: m.as_str().trim().to_owned(),
                e164,
            })
        })
        .collect()
}

/// Whether `context` says "emergency" in any of the ways [`EMERGENCY_WORDS`] lists.
pub fn is_emergency(context: &str) -> bool {
    let lower = context.to_lowercase();
    EMERGENCY_WORDS.iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_formats_become_e164() {
        for raw in [
            "(415) 555-0142",
            "415-555-0142",
            "415.555.0142",
            "+1 415 555 0142",
            "1-415-555-0142",
            "+1 (415) 555-0142",
        ] {
            let found = find(&format!("Call {raw} today"));
            assert_eq!(found.len(), 1, "{raw}");
            assert_eq!(found[0].e164, "+14155550142", "{raw}");
        }
        assert_eq!(find("Call (415) 555-0142.")[0].written, "(415) 555-0142");
    }

    #[test]
    fn non_numbers_are_not_phones() {
        assert!(find("License C-36 #1048213, founded 1987, $1,850").is_empty());
        assert!(find("Call 015-555-0142").is_empty());
    }

    #[test]
    fn emergency_context_is_recognised() {
        assert!(is_emergency("Our 24/7 emergency line"));
        assert!(is_emergency("After-hours calls"));
        assert!(!is_emergency("Main office"));
    }
}
