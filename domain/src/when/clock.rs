//! The time of day an utterance names: "3 pm", "at 3", "10:30", "ten thirty", "half past ten",
//! "quarter to ten", "9 o'clock", "noon".
//!
//! A bare number is a time only when something says so — a cue word before it ("at 3",
//! "Monday 3"), am/pm or "o'clock" after it, or minutes with it — so "I have 3 cars" and "my
//! 2019 Civic" are not times.

use super::DayPart;
use super::day::names_a_day;
use chrono::NaiveTime;

/// Words just before a bare hour that make it a time ("at 3", "how about 3", "Monday 3"); a
/// day's name ("tomorrow 3", "tusday 10") does too.
const CUES: &[&str] = &[
    "at",
    "around",
    "about",
    "by",
    "for",
    "after",
    "before",
    "say",
    "maybe",
    "until",
    "till",
    "from",
    "morning",
    "afternoon",
    "evening",
];

/// The hour and minute said at one place, how many words that took, and whether the words
/// alone make it a time (a colon, minutes, "half past").
struct Said {
    hour: u32,
    minute: u32,
    used: usize,
    clearly_a_time: bool,
}

/// The first time of day in `words`; `part` settles am or pm when the words do not.
pub(super) fn find(words: &[String], part: Option<DayPart>) -> Option<NaiveTime> {
    (0..words.len()).find_map(|i| time_at(words, i, part))
}

fn time_at(words: &[String], i: usize, part: Option<DayPart>) -> Option<NaiveTime> {
    if matches!(words[i].as_str(), "noon" | "midday") {
        return NaiveTime::from_hms_opt(12, 0, 0);
    }
    let said = hour_minute(words, i)?;
    let next = i + said.used;
    let pm = meridiem(words, next);
    let cued = said.clearly_a_time
        || pm.is_some()
        || oclock(words, next)
        || part_follows(words, next)
        || (i > 0 && (CUES.contains(&words[i - 1].as_str()) || names_a_day(&words[i - 1])));
    if !cued {
        return None;
    }
    NaiveTime::from_hms_opt(to_24h(said.hour, pm, part), said.minute, 0)
}

/// The hour and minute said from `words[i]`.
fn hour_minute(words: &[String], i: usize) -> Option<Said> {
    let word = words[i].as_str();
    if let Some((h, m)) = word.split_once(':') {
        let (hour, minute): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        return (hour < 24 && minute < 60).then_some(Said {
            hour,
            minute,
            used: 1,
            clearly_a_time: true,
        });
    }
    if matches!(word, "half" | "quarter") {
        return half_or_quarter(words, i);
    }
    let hour = hour_word(word)?;
    let (minute, used) = minutes(words, i + 1).map_or((0, 1), |(m, used)| (m, 1 + used));
    Some(Said {
        hour,
        minute,
        used,
        clearly_a_time: used > 1,
    })
}

/// "half past two", "quarter past two", "quarter to ten".
fn half_or_quarter(words: &[String], i: usize) -> Option<Said> {
    let past = match words.get(i + 1).map(String::as_str) {
        Some("past") => true,
        Some("to") => false,
        _ => return None,
    };
    let hour = hour_word(words.get(i + 2)?)?;
    let (hour, minute) = match (words[i].as_str(), past) {
        ("half", true) => (hour, 30),
        ("quarter", true) => (hour, 15),
        ("quarter", false) => ((hour + 10) % 12 + 1, 45),
        _ => return None,
    };
    Some(Said {
        hour,
        minute,
        used: 3,
        clearly_a_time: true,
    })
}

/// 1–12, in digits or words. Words must match exactly: "there" is one slip from "three".
fn hour_word(word: &str) -> Option<u32> {
    const HOURS: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    let hour = match HOURS.iter().position(|h| *h == word) {
        Some(i) => u32::try_from(i + 1).ok()?,
        None if word.len() <= 2 && word.bytes().all(|b| b.is_ascii_digit()) => word.parse().ok()?,
        None => return None,
    };
    (1..=12).contains(&hour).then_some(hour)
}

/// Minutes after an hour ("10 30", "ten thirty", "nine forty five") and the words they took.
fn minutes(words: &[String], i: usize) -> Option<(u32, usize)> {
    let word = words.get(i)?.as_str();
    if word.len() == 2 && word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok().filter(|m| *m < 60).map(|m| (m, 1));
    }
    let tens = match word {
        "fifteen" => return Some((15, 1)),
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "fifty" => 50,
        _ => return None,
    };
    match words.get(i + 1).map(String::as_str) {
        Some("five") => Some((tens + 5, 2)),
        _ => Some((tens, 1)),
    }
}

/// `Some(true)` for pm, `Some(false)` for am, said at `words[i]` ("pm", or "p m" as a
/// recogniser writes "p.m.").
fn meridiem(words: &[String], i: usize) -> Option<bool> {
    let at = |k: usize| words.get(i + k).map(String::as_str);
    match (at(0), at(1)) {
        (Some("pm"), _) | (Some("p"), Some("m")) => Some(true),
        (Some("am"), _) | (Some("a"), Some("m")) => Some(false),
        _ => None,
    }
}

/// "o'clock" (heard as "oclock" or "o clock") at `words[i]`.
fn oclock(words: &[String], i: usize) -> bool {
    let at = |k: usize| words.get(i + k).map(String::as_str);
    at(0) == Some("oclock") || (at(0) == Some("o") && at(1) == Some("clock"))
}

/// "in the morning", "in the afternoon", "in the evening" at `words[i]`.
fn part_follows(words: &[String], i: usize) -> bool {
    let at = |k: usize| words.get(i + k).map(String::as_str);
    at(0) == Some("in") && at(2).and_then(DayPart::of_word).is_some()
}

/// A 12-hour clock hour as 24-hour: am/pm when said, else the part of the day, else business
/// hours (1–6 pm, 7–11 am, 12 noon; see the module above for why). 0 and 13–23 ("0:30",
/// "15:00") were said on a 24-hour clock and stay as they are.
fn to_24h(hour: u32, pm: Option<bool>, part: Option<DayPart>) -> u32 {
    if !(1..=12).contains(&hour) {
        return hour;
    }
    let afternoon = match (pm, part) {
        (Some(pm), _) => pm,
        (None, Some(DayPart::Morning)) => false,
        (None, Some(_)) => true,
        (None, None) => hour <= 6 || hour == 12,
    };
    match (hour, afternoon) {
        (12, _) if pm == Some(false) => 0,
        (12, _) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    }
}
