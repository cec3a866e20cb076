//! The time of day an utterance names: "3 pm", "at 3", "10:30", "half past ten", "noon".

use super::DayPart;
use chrono::NaiveTime;

/// Words just before a bare hour that make it a time ("at 3", "how about 3", "Monday 3").
const CUES: &[&str] = &[
    "at",
    "around",
    "about",
    "by",
    "after",
    "before",
    "say",
    "maybe",
    "until",
    "till",
    "from",
    "today",
    "tomorrow",
    "tonight",
    "morning",
    "afternoon",
    "evening",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The first time of day in `words`; `part` settles am or pm when the words do not.
pub(super) fn find(words: &[String], part: Option<DayPart>) -> Option<NaiveTime> {
    if words.iter().any(|w| w == "noon" || w == "midday") {
        return NaiveTime::from_hms_opt(12, 0, 0);
    }
    (0..words.len()).find_map(|i| time_at(words, i, part))
}

fn time_at(words: &[String], i: usize, part: Option<DayPart>) -> Option<NaiveTime> {
    let (hour, minute, used) = hour_minute(words, i)?;
    let next = words.get(i + used).map(String::as_str);
    let pm = match next {
        Some("am") => Some(false),
        Some("pm") => Some(true),
        _ => None,
    };
    let said_part = next == Some("in") && words.get(i + used + 2).is_some_and(|w| is_part(w));
    let cued = words[i].contains(':')
        || used == 3
        || pm.is_some()
        || next == Some("oclock")
        || said_part
        || (i > 0 && CUES.contains(&words[i - 1].as_str()));
    if !cued {
        return None;
    }
    NaiveTime::from_hms_opt(to_24h(hour, pm, part), minute, 0)
}

fn is_part(word: &str) -> bool {
    matches!(word, "morning" | "afternoon" | "evening")
}

/// The hour and minute said from `words[i]`, and how many words that took.
fn hour_minute(words: &[String], i: usize) -> Option<(u32, u32, usize)> {
    let word = words[i].as_str();
    if let Some((h, m)) = word.split_once(':') {
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        return (h < 24 && m < 60).then_some((h, m, 1));
    }
    if matches!(word, "half" | "quarter") {
        let past = match words.get(i + 1).map(String::as_str) {
            Some("past") => true,
            Some("to") => false,
            _ => return None,
        };
        let hour = hour_word(words.get(i + 2)?)?;
        return Some(match (word, past) {
            ("half", true) => (hour, 30, 3),
            ("quarter", true) => (hour, 15, 3),
            ("quarter", false) => ((hour + 10) % 12 + 1, 45, 3),
            _ => return None,
        });
    }
    let hour = hour_word(word)?;
    match minutes(words, i + 1) {
        Some((minute, used)) => Some((hour, minute, 1 + used)),
        None => Some((hour, 0, 1)),
    }
}

/// 1–12, in digits or words.
fn hour_word(word: &str) -> Option<u32> {
    const HOURS: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    let hour = match HOURS.iter().position(|h| *h == word) {
        Some(i) => i as u32 + 1,
        None => word.parse().ok().filter(|_| word.len() <= 2)?,
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
        "forty" => 40,
        "fifty" => 50,
        _ => return None,
    };
    match words.get(i + 1).map(String::as_str) {
        Some("five") => Some((tens + 5, 2)),
        _ => Some((tens, 1)),
    }
}

/// A 12-hour clock hour as 24-hour: am/pm when said, else the part of the day, else business
/// hours (1–6 pm, 7–11 am, 12 noon).
fn to_24h(hour: u32, pm: Option<bool>, part: Option<DayPart>) -> u32 {
    if hour > 12 {
        return hour;
    }
    let afternoon = match (pm, part) {
        (Some(pm), _) => pm,
        (None, Some(DayPart::Morning)) => false,
        (None, Some(_)) => true,
        (None, None) => hour <= 6 || hour == 12,
    };
    match (hour, afternoon) {
        (12, true) => 12,
        (12, false) if pm == Some(false) => 0,
        (12, false) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    }
}
