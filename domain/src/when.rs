//! Words to a local date and time — "Wednesday at 3", "tomorrow morning at 9", "next Monday
//! 10:30", "the 10th at half past two", "tusday at ten thirty", "noon" — resolved against a
//! `today` the caller passes in, never the clock, so the same words on the same day always mean
//! the same time; and back, a time read out the way people say it ("Tuesday December 8th at
//! 10 am").
//!
//! One reader for everyone who hears a time: the dialog's campaign calls (a counter-proposal,
//! when to call back) and post-call analysis (the slot a caller agreed to). It reads recognised
//! speech, so day names get the recogniser's slips ("tusday", "wensday", "tmrw") through
//! `crate::speech`; number words must match exactly, because "there" is one slip from "three".
//! English, one day and one time per utterance (the first of each wins). A weekday ("Monday",
//! "next Monday") is the first one after today: said on a Tuesday, "Tuesday" is a week away.
//!
//! An hour said without am/pm or a part of the day is read as business hours: 1–6 in the
//! afternoon, 7–11 in the morning, 12 noon. A dealership's service desk is not open at 3 in the
//! morning, so "at 3" is 15:00; but it does open at 7 for drop-offs, and people booking then say
//! "at 7", while a 7 pm service appointment is rare — so 7 is morning. Both the dialog (which
//! reads the slot back to the person) and post-call analysis (which books it) go by this one
//! rule, so the same words never land on two different hours.

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

    fn of_word(word: &str) -> Option<Self> {
        match word {
            "morning" => Some(DayPart::Morning),
            "afternoon" => Some(DayPart::Afternoon),
            "evening" | "tonight" | "night" => Some(DayPart::Evening),
            _ => None,
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
        let own_part = words.iter().find_map(|w| DayPart::of_word(w));
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

/// Recognised words, with "3pm" split into "3" "pm" and "10:30am" into "10:30" "am" ("a.m."
/// arrives as "a" "m" and "o'clock" as "oclock"; the clock reads both).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in crate::speech::words(text) {
        match split_meridiem(&word) {
            Some((number, meridiem)) => {
                out.push(number.to_owned());
                out.push(meridiem.to_owned());
            }
            None => out.push(word),
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

#[cfg(test)]
mod tests;
