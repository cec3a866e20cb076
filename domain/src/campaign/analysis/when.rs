//! The day and time a caller agreed to, read from recognised speech: "Tuesday at 10",
//! "tomorrow at 3 pm", "next Monday 10:30", "ten thirty", "noon".
//!
//! An hour from 1 to 7 without am/pm is afternoon: a dealership's service desk is not open at
//! 3 in the morning, and people say "at 3" for 15:00.

use super::words::sounds_like;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};

/// A day as spoken, before it is placed on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SpokenDay {
    Today,
    Tomorrow,
    DayAfterTomorrow,
    Weekday(Weekday),
}

impl SpokenDay {
    /// The local date meant, said on local date `today`. A weekday is the next such day after
    /// today: said on a Tuesday, "Tuesday" is a week away (today is "today").
    pub(super) fn date_from(self, today: NaiveDate) -> NaiveDate {
        let ahead = match self {
            Self::Today => 0,
            Self::Tomorrow => 1,
            Self::DayAfterTomorrow => 2,
            Self::Weekday(day) => {
                let diff =
                    (7 + day.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
                if diff == 0 { 7 } else { i64::from(diff) }
            }
        };
        today + Duration::days(ahead)
    }
}

const WEEKDAYS: [(Weekday, &[&str]); 7] = [
    (Weekday::Mon, &["monday"]),
    (Weekday::Tue, &["tuesday", "tues"]),
    (Weekday::Wed, &["wednesday", "weds"]),
    (Weekday::Thu, &["thursday", "thurs"]),
    (Weekday::Fri, &["friday"]),
    (Weekday::Sat, &["saturday"]),
    (Weekday::Sun, &["sunday"]),
];

const HOUR_WORDS: [&str; 12] = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve",
];

/// The first day mentioned in `words`.
pub(super) fn spoken_day(words: &[String]) -> Option<SpokenDay> {
    words.iter().enumerate().find_map(|(i, w)| {
        if w == "today" {
            return Some(SpokenDay::Today);
        }
        if sounds_like(w, "tomorrow") || w == "tmrw" {
            let after = i >= 2 && words[i - 2] == "day" && words[i - 1] == "after";
            return Some(if after {
                SpokenDay::DayAfterTomorrow
            } else {
                SpokenDay::Tomorrow
            });
        }
        WEEKDAYS
            .iter()
            .find(|(_, names)| names.iter().any(|n| sounds_like(w, n)))
            .map(|(day, _)| SpokenDay::Weekday(*day))
    })
}

/// The first time of day mentioned in `words`.
pub(super) fn spoken_time(words: &[String]) -> Option<NaiveTime> {
    (0..words.len()).find_map(|i| time_at(words, i))
}

/// Whether `words[i]` starts a time of day, and which.
fn time_at(words: &[String], i: usize) -> Option<NaiveTime> {
    let word = words[i].as_str();
    if word == "noon" || word == "midday" {
        return NaiveTime::from_hms_opt(12, 0, 0);
    }
    if word == "half" && words.get(i + 1).is_some_and(|w| w == "past") {
        let hour = hour_number(words.get(i + 2)?)?;
        return clock(hour, 30, meridiem(words, i + 3), true);
    }
    let (bare, attached) = split_meridiem(word);
    let (hour, minute, has_colon, next) = match bare.split_once(':') {
        Some((h, m)) => (h.parse().ok()?, m.parse().ok()?, true, i + 1),
        None => {
            let hour = hour_number(bare)?;
            let (minute, next) = spoken_minutes(words, i + 1);
            (hour, minute, false, next)
        }
    };
    let marker = attached.or_else(|| meridiem(words, next));
    let cued = i > 0 && ["at", "around", "about", "by", "for"].contains(&words[i - 1].as_str());
    let oclock = words.get(next).is_some_and(|w| w == "oclock")
        || (words.get(next).is_some_and(|w| w == "o")
            && words.get(next + 1).is_some_and(|w| w == "clock"));
    clock(
        hour,
        minute,
        marker,
        has_colon || cued || oclock || minute > 0,
    )
}

/// A bare hour: `3`, `10`, `three`.
fn hour_number(word: &str) -> Option<u32> {
    // Number words must match exactly: "there" is one slip from "three".
    if let Some(n) = HOUR_WORDS.iter().position(|w| *w == word) {
        return u32::try_from(n + 1).ok();
    }
    let valid = (1..=2).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| word.parse().ok()).flatten()
}

/// Minutes after an hour (`30`, `thirty`, `forty five`, `fifteen`) and the index after them.
fn spoken_minutes(words: &[String], i: usize) -> (u32, usize) {
    let Some(word) = words.get(i).map(String::as_str) else {
        return (0, i);
    };
    if word.len() == 2
        && word.bytes().all(|b| b.is_ascii_digit())
        && let Ok(m @ 0..=59) = word.parse::<u32>()
    {
        return (m, i + 1);
    }
    match word {
        "fifteen" => (15, i + 1),
        "thirty" => (30, i + 1),
        "forty" | "fourty" if words.get(i + 1).is_some_and(|w| w == "five") => (45, i + 2),
        "forty" | "fourty" => (40, i + 1),
        _ => (0, i),
    }
}

/// `3pm` → (`3`, pm).
fn split_meridiem(word: &str) -> (&str, Option<bool>) {
    match (word.strip_suffix("pm"), word.strip_suffix("am")) {
        (Some(bare), _) if !bare.is_empty() => (bare, Some(true)),
        (_, Some(bare)) if !bare.is_empty() => (bare, Some(false)),
        _ => (word, None),
    }
}

/// `Some(true)` for pm, `Some(false)` for am, read from the words at `i`.
fn meridiem(words: &[String], i: usize) -> Option<bool> {
    let at = |k: usize| words.get(i + k).map(String::as_str);
    match (at(0), at(1), at(2)) {
        (Some("pm"), ..) | (Some("p"), Some("m"), _) => Some(true),
        (Some("am"), ..) | (Some("a"), Some("m"), _) => Some(false),
        (Some("in"), Some("the"), Some("morning")) => Some(false),
        (Some("in"), Some("the"), Some("afternoon" | "evening")) => Some(true),
        _ => None,
    }
}

/// The time, when the words really were one (`cued`, or marked am/pm).
fn clock(hour: u32, minute: u32, pm: Option<bool>, cued: bool) -> Option<NaiveTime> {
    let hour = match pm {
        Some(pm) if (1..=12).contains(&hour) => hour % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None if !cued => return None,
        None if (1..=7).contains(&hour) => hour + 12,
        None => hour,
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}
