//! Phone numbers as digits: "+14155550100", "14155550100" and "4155550100" are one number.

/// A number's digits split into a North American country code (`"1"`, or `""` when there is
/// none) and the national digits: "+14155550100" → `("1", "4155550100")`.
pub(crate) fn split_country(number: &str) -> (&'static str, String) {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix('1') {
        Some(rest) if digits.len() == 11 => ("1", rest.to_owned()),
        _ => ("", digits),
    }
}

/// A number's digits without a leading North American `1`: "+14155550100" and "4155550100"
/// are the same number.
pub(crate) fn national_digits(number: &str) -> String {
    split_country(number).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_north_american_number_is_the_same_with_or_without_its_country_code() {
        assert_eq!(
            split_country("+14155550100"),
            ("1", "4155550100".to_owned())
        );
        assert_eq!(
            split_country("1 415 555 0100"),
            ("1", "4155550100".to_owned())
        );
        assert_eq!(
            split_country("(415) 555-0100"),
            ("", "4155550100".to_owned())
        );
        assert_eq!(
            national_digits("+14155550100"),
            national_digits("4155550100")
        );
    }

    #[test]
    fn other_numbers_keep_all_their_digits() {
        assert_eq!(national_digits("+442079460958"), "442079460958");
        assert_eq!(national_digits("5550100"), "5550100");
        // Eleven digits that do not start with 1 are not a North American number.
        assert_eq!(split_country("24155550100"), ("", "24155550100".to_owned()));
    }
}
