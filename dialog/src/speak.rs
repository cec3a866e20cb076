//! Numbers read back the way people say them.

use crate::phone::national_digits;

/// A number read back the way people say it, digit by digit in its groups:
/// "4155550100" and "+14155550100" → "four one five, five five five, zero one zero zero".
pub(crate) fn speak_number(number: &str) -> String {
    let national = national_digits(number);
    let groups: Vec<&str> = match national.len() {
        10 => vec![&national[..3], &national[3..6], &national[6..]],
        7 => vec![&national[..3], &national[3..]],
        _ => national
            .as_bytes()
            .chunks(3)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect(),
    };
    groups
        .into_iter()
        .map(speak_digits)
        .collect::<Vec<_>>()
        .join(", ")
}

/// "0199" → "zero one nine nine".
pub(crate) fn speak_digits(digits: &str) -> String {
    const NAMES: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    digits
        .chars()
        .filter_map(|c| c.to_digit(10).map(|d| NAMES[d as usize]))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_number_back_in_its_groups() {
        assert_eq!(
            speak_number("14155550100"),
            "four one five, five five five, zero one zero zero"
        );
        assert_eq!(
            speak_number("+442079460958"),
            "four four two, zero seven nine, four six zero, nine five eight"
        );
    }
}
