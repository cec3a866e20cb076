//! Words to a local date and time — "Wednesday at 3", "tomorrow morning at 9", "next Monday
//! 10:30", "the 10th at half past two" — resolved against a `today` the caller passes in, never
//! the clock, so the same words on the same day always mean the same time; and back, a time
//! read out the way people say it ("Tuesday December 8th at 10 am").
//!
//! Deliberately small and free of the dialog's other modules, so it can be shared: English, one
//! day and one time per utterance (the first of each wins). An hour said without am/pm or a part
//! of the day is read as business hours: 1–6 in the afternoon, 7–11 in the morning. A weekday
//! ("Monday", "next Monday") is the first one after today.

mod clock;
mod day;
mod speak;

pub use speak::{speak_date, speak_date_time, speak_time};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// A part of the day, which settles am or pm for a bare hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayPart {
    Morning,
    Afternoon,
    Evening,
}

impl DayPart {
    pub fn as_str(self) -> &'static str {
        match self {
            DayPart::Morning => "morning",
            DayPart::Afternoon => "afternoon",
            DayPart::Evening => "evening",
        }
    }
}

/// What an utterance says about when: any of a day, a time of day and a part of the day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpokenWhen {
    pub date: Option<NaiveDate>,
    pub time: Option<NaiveTime>,
    pub part: Option<DayPart>,
}

impl SpokenWhen {
    /// What `text` says about when, `None` when it says nothing. `part` is the part of the day
    /// already known (the caller said "tomorrow morning" and now says "at 9"), used when the
    /// text names none.
    pub fn parse(text: &str, today: NaiveDate, part: Option<DayPart>) -> Option<Self> {
        let words = words(text);
        let own_part = day_part(&words);
        let found = Self {
            date: day::find(&words, today),
            time: clock::find(&words, own_part.or(part)),
            part: own_part,
        };
        (found != Self::default()).then_some(found)
    }

    /// The date and time, when both were said.
    pub fn at(&self) -> Option<NaiveDateTime> {
        Some(self.date?.and_time(self.time?))
    }

    /// `self` completed by what was said `later` (the day first, then the time).
    pub fn then(self, later: Self) -> Self {
        Self {
            date: later.date.or(self.date),
            time: later.time.or(self.time),
            part: later.part.or(self.part),
        }
    }
}

/// Lower-case words, with "3pm" split into "3" "pm", "a.m." as "am" and "10:30" kept whole.
fn words(text: &str) -> Vec<String> {
    let lower = text
        .to_lowercase()
        .replace(['’', '‘'], "'")
        .replace("a.m.", "am")
        .replace("p.m.", "pm")
        .replace("o'clock", "oclock");
    let mut out = Vec::new();
    for word in lower.split(|c: char| !(c.is_alphanumeric() || c == ':')) {
        let word = word.trim_matches(':');
        if word.is_empty() {
            continue;
        }
        match split_meridiem(word) {
            Some((number, meridiem)) => {
                out.push(number.to_owned());
                out.push(meridiem.to_owned());
            }
            None => out.push(word.to_owned()),
        }
    }
    out
}

/// "3pm" → ("3", "pm"); "10:30am" → ("10:30", "am").
fn split_meridiem(word: &str) -> Option<(&str, &str)> {
    let number = word
        .strip_suffix("am")
        .or_else(|| word.strip_suffix("pm"))?;
    let is_time = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit() || b == b':');
    is_time.then(|| (number, &word[number.len()..]))
}

fn day_part(words: &[String]) -> Option<DayPart> {
    words.iter().find_map(|w| match w.as_str() {
        "morning" => Some(DayPart::Morning),
        "afternoon" => Some(DayPart::Afternoon),
        "evening" | "tonight" | "night" => Some(DayPart::Evening),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
