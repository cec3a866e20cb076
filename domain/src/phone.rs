//! Phone numbers in E.164 form, the masked form that may appear in logs and UI summaries, and
//! caller ID as Twilio delivers it (a number, or withheld).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("phone number must be E.164: `+` then 8 to 15 digits, first digit not 0")]
    NotE164,
}

/// A phone number in E.164 form (`+14155550100`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

impl E164 {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let digits = raw.strip_prefix('+').ok_or(PhoneError::NotE164)?;
        let valid = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(PhoneError::NotE164)
        }
    }

    /// Like [`E164::parse`], after dropping what people type around a number: spaces, dashes,
    /// dots, parentheses (`+1 (415) 555-0101`), and reading an international `00` prefix as `+`.
    /// A national number (no country code) is still refused: which country is not ours to guess.
    pub fn normalize(raw: &str) -> Result<Self, PhoneError> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
            .collect();
        match compact.strip_prefix("00") {
            Some(rest) => Self::parse(&format!("+{rest}")),
            None => Self::parse(&compact),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `+1•••••0199`: country code hint and last four digits only.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks any phone-like string so that logs never carry a full number.
pub fn mask_phone(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    if chars.len() <= 6 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "•".repeat(chars.len() - 6))
}

/// Who is calling, as Twilio's `From` says it: a number, or no caller ID at all.
///
/// Twilio sends `anonymous`, `Anonymous`, `Restricted`, `Unavailable`, an empty value, or the
/// keypad spellings of those words (`+266696687` "ANONYMOUS", `+7378742833` "RESTRICTED",
/// `+86282452253` "UNAVAILABLE", `+2562533` "BLOCKED") when the caller withholds their number
/// or the network does not deliver it: all of these are [`CallerId::Withheld`], never a number
/// anyone could be called back on. Anything else that is not E.164 (a `client:` or `sip:`
/// identity, a short code, a national number without `+`) is [`CallerId::Other`]: known, but not
/// a number we can text or offer as a callback.
///
/// Serialized as a string: the E.164 number, `withheld`, or the raw identity; so histories that
/// recorded a bare E.164 string still read.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum CallerId {
    Number(E164),
    Withheld,
    Other(String),
}

/// Twilio's `From` values meaning "no caller ID" (compared case-insensitively).
const WITHHELD_WORDS: &[&str] = &[
    "",
    "anonymous",
    "restricted",
    "unavailable",
    "unknown",
    "private",
    "blocked",
    "withheld",
];

/// The keypad spellings of [`WITHHELD_WORDS`] that carriers deliver in E.164 form.
const WITHHELD_KEYPAD: &[&str] = &["+266696687", "+7378742833", "+86282452253", "+2562533"];

impl CallerId {
    /// Reads Twilio's `From` (or `Caller`): never fails.
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        if WITHHELD_WORDS.iter().any(|w| raw.eq_ignore_ascii_case(w))
            || WITHHELD_KEYPAD.contains(&raw)
        {
            return CallerId::Withheld;
        }
        match E164::parse(raw) {
            Ok(number) => CallerId::Number(number),
            Err(_) => CallerId::Other(raw.to_owned()),
        }
    }

    /// The number, when there is one to call or text back.
    pub fn number(&self) -> Option<&E164> {
        match self {
            CallerId::Number(n) => Some(n),
            CallerId::Withheld | CallerId::Other(_) => None,
        }
    }

    /// For logs and summaries: `+1••••••0199`, `withheld number`, or the masked identity.
    pub fn masked(&self) -> String {
        match self {
            CallerId::Number(n) => n.masked(),
            CallerId::Withheld => "withheld number".to_owned(),
            CallerId::Other(raw) => mask_phone(raw),
        }
    }
}

impl From<E164> for CallerId {
    fn from(number: E164) -> Self {
        CallerId::Number(number)
    }
}

impl From<String> for CallerId {
    fn from(value: String) -> Self {
        CallerId::parse(&value)
    }
}

impl From<CallerId> for String {
    fn from(value: CallerId) -> Self {
        value.to_string()
    }
}

impl fmt::Display for CallerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallerId::Number(n) => f.write_str(n.as_str()),
            CallerId::Withheld => f.write_str("withheld"),
            CallerId::Other(raw) => f.write_str(raw),
        }
    }
}

impl fmt::Debug for CallerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallerId({})", self.masked())
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.masked())
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for E164 {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<E164> for String {
    fn from(value: E164) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_drops_punctuation_and_reads_00_as_plus_but_guesses_no_country() {
        let expected = E164::parse("+14155550101").unwrap();
        assert_eq!(E164::normalize(" +1 (415) 555-0101 ").unwrap(), expected);
        assert_eq!(E164::normalize("0014155550101").unwrap(), expected);
        assert_eq!(E164::normalize("(415) 555-0101"), Err(PhoneError::NotE164));
    }

    #[test]
    fn e164_accepts_valid_and_rejects_malformed_numbers() {
        assert!(E164::parse("+14155550199").is_ok());
        for bad in ["14155550199", "+0123456789", "+1415", "+1415555019a", ""] {
            assert!(E164::parse(bad).is_err(), "{bad} must be rejected");
        }
    }

    #[test]
    fn withheld_caller_ids_are_not_numbers() {
        for raw in [
            "anonymous",
            "Anonymous",
            "Restricted",
            "Unavailable",
            "",
            "  ",
            "+266696687",
            "+7378742833",
            "+86282452253",
        ] {
            let id = CallerId::parse(raw);
            assert_eq!(id, CallerId::Withheld, "{raw:?}");
            assert!(id.number().is_none());
            assert_eq!(id.masked(), "withheld number");
        }
        let id = CallerId::parse("+14155550199");
        assert_eq!(id.number().map(E164::as_str), Some("+14155550199"));
        let client = CallerId::parse("client:alice");
        assert!(matches!(client, CallerId::Other(_)));
        assert!(client.number().is_none());
    }

    #[test]
    fn caller_id_reads_the_bare_string_histories_recorded() {
        let id: CallerId = serde_json::from_str("\"+14155550199\"").unwrap();
        assert_eq!(id, CallerId::Number(E164::parse("+14155550199").unwrap()));
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"+14155550199\"");
        let withheld: CallerId = serde_json::from_str("\"withheld\"").unwrap();
        assert_eq!(withheld, CallerId::Withheld);
        assert_eq!(
            serde_json::to_string(&CallerId::Withheld).unwrap(),
            "\"withheld\""
        );
        assert!(!format!("{id:?}").contains("415555"));
    }

    #[test]
    fn masking_keeps_only_prefix_and_last_four_digits() {
        let n = E164::parse("+14155550199").unwrap();
        assert_eq!(n.masked(), "+1••••••0199");
        assert!(!format!("{n:?}").contains("415555"));
    }
}
