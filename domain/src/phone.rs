//! Phone numbers in E.164 form, and the masked form that may appear in logs and UI summaries.

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
    fn e164_accepts_valid_and_rejects_malformed_numbers() {
        assert!(E164::parse("+14155550199").is_ok());
        for bad in ["14155550199", "+0123456789", "+1415", "+1415555019a", ""] {
            assert!(E164::parse(bad).is_err(), "{bad} must be rejected");
        }
    }

    #[test]
    fn masking_keeps_only_prefix_and_last_four_digits() {
        let n = E164::parse("+14155550199").unwrap();
        assert_eq!(n.masked(), "+1••••••0199");
        assert!(!format!("{n:?}").contains("415555"));
    }
}
