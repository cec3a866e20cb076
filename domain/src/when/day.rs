//! The day an utterance names: today, tomorrow, a weekday, or a day of the month.

use crate::speech::sounds_like;
use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The first day named in `words`.
pub(super) fn find(words: &[String], today: NaiveDate) -> Option<NaiveDate> {
    (0..words.len()).find_map(|i| day_at(words, i, today))
}

fn day_at(words: &[String], i: usize, today: NaiveDate) -> Option<NaiveDate> {
    let word = words[i].as_str();
    if matches!(word, "today" | "tonight") {
        return Some(today);
    }
    if is_tomorrow(word) {
        let after = i >= 2 && words[i - 1] == "after" && words[i - 2] == "day";
        return today.checked_add_days(Days::new(if after { 2 } else { 1 }));
    }
    match weekday(word) {
        Some(day) => Some(next_weekday(today, day)),
        None => month_day(words, i, today),
    }
}

/// Whether `word` names a day relative to today or a weekday, as heard ("tmrw", "wensday").
pub(super) fn names_a_day(word: &str) -> bool {
    matches!(word, "today" | "tonight") || is_tomorrow(word) || weekday(word).is_some()
}

fn is_tomorrow(word: &str) -> bool {
    word == "tmrw" || sounds_like(word, "tomorrow")
}

/// The first `day` after `today` (a week on when today is that day).
fn next_weekday(today: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead = (7 + day.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    today + Days::new(u64::from(ahead))
}

/// A weekday by its name or a recogniser's near miss of it ("tusday"), or by its short name
/// exactly: a slip from "thurs" is "thus".
fn weekday(word: &str) -> Option<Weekday> {
    const WEEKDAYS: [(Weekday, &str, &[&str]); 7] = [
        (Weekday::Mon, "monday", &[]),
        (Weekday::Tue, "tuesday", &["tues"]),
        (Weekday::Wed, "wednesday", &["weds"]),
        (Weekday::Thu, "thursday", &["thurs"]),
        (Weekday::Fri, "friday", &[]),
        (Weekday::Sat, "saturday", &[]),
        (Weekday::Sun, "sunday", &[]),
    ];
    WEEKDAYS
        .iter()
        .find(|(_, name, short)| short.contains(&word) || sounds_like(word, name))
        .map(|(day, _, _)| *day)
}

/// "December 10th", "the 10th of December", "Dec 10", or "the 10th" (this month's or next).
fn month_day(words: &[String], i: usize, today: NaiveDate) -> Option<NaiveDate> {
    let word = words[i].as_str();
    if let Some(month) = month(word) {
        let day = day_after(words, i + 1)
            .map(|(day, _)| day)
            .or_else(|| day_before(words, i))?;
        return next_date(today, Some(month), day);
    }
    if i > 0 && words[i - 1] == "the" {
        let (day, end) = day_after(words, i)?;
        let named_month = (words.get(end).map(String::as_str) == Some("of"))
            .then(|| words.get(end + 1).and_then(|m| month(m)))
            .flatten();
        if named_month.is_none() && day_number(word).is_some_and(|(_, ordinal)| !ordinal) {
            return None;
        }
        return next_date(today, named_month, day);
    }
    None
}

/// A day of the month starting at `words[i]` (after an optional "the"): "10th", "10", "tenth",
/// "twenty first"; and the index of the word after it.
fn day_after(words: &[String], i: usize) -> Option<(u32, usize)> {
    let i = if words.get(i).map(String::as_str) == Some("the") {
        i + 1
    } else {
        i
    };
    let word = words.get(i)?;
    let tens = match word.as_str() {
        "twenty" => 20,
        "thirty" => 30,
        _ => return day_number(word).map(|(day, _)| (day, i + 1)),
    };
    let unit = words.get(i + 1).and_then(|w| day_number(w)).map(|(d, _)| d);
    match unit {
        Some(unit) if unit < 10 => Some((tens + unit, i + 2)),
        _ => None,
    }
}

/// "10th of December", "twenty first of December": the day before "of".
fn day_before(words: &[String], i: usize) -> Option<u32> {
    if i < 2 || words[i - 1] != "of" {
        return None;
    }
    (2..=3)
        .filter_map(|back| i.checked_sub(back))
        .find_map(|start| day_after(words, start).filter(|(_, end)| *end == i - 1))
        .map(|(day, _)| day)
}

/// A day number and whether it was said as an ordinal ("10th", "tenth").
fn day_number(word: &str) -> Option<(u32, bool)> {
    const ORDINALS: [&str; 20] = [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
        "twentieth",
    ];
    if let Some(i) = ORDINALS.iter().position(|o| *o == word) {
        return Some((i as u32 + 1, true));
    }
    if word == "thirtieth" {
        return Some((30, true));
    }
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let day: u32 = digits.parse().ok()?;
    let suffix = &word[digits.len()..];
    let ordinal = matches!(suffix, "st" | "nd" | "rd" | "th");
    ((1..=31).contains(&day) && (ordinal || suffix.is_empty())).then_some((day, ordinal))
}

fn month(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let i = MONTHS
        .iter()
        .position(|m| *m == word || (word.len() == 3 && word != "may" && m.starts_with(word)))?;
    Some(i as u32 + 1)
}

/// The first date on or after `today` with that day (and month, when one was named).
fn next_date(today: NaiveDate, month: Option<u32>, day: u32) -> Option<NaiveDate> {
    let candidates = match month {
        Some(m) => [(today.year(), m), (today.year() + 1, m)],
        None if today.month() == 12 => [(today.year(), 12), (today.year() + 1, 1)],
        None => [
            (today.year(), today.month()),
            (today.year(), today.month() + 1),
        ],
    };
    candidates
        .into_iter()
        .filter_map(|(y, m)| NaiveDate::from_ymd_opt(y, m, day))
        .find(|d| *d >= today)
}
