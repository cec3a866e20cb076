//! A date and time read out the way people say them.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// "Tuesday December 8th at 10 am".
pub fn speak_date_time(at: NaiveDateTime) -> String {
    format!("{} at {}", speak_date(at.date()), speak_time(at.time()))
}

/// "Tuesday December 8th".
pub fn speak_date(date: NaiveDate) -> String {
    format!("{} {}", date.format("%A %B"), ordinal(date.day()))
}

/// "10 am", "3:30 pm", "noon".
pub fn speak_time(time: NaiveTime) -> String {
    let (hour, minute) = (time.hour(), time.minute());
    if (hour, minute) == (12, 0) {
        return "noon".into();
    }
    let meridiem = if hour < 12 { "am" } else { "pm" };
    let hour = match hour % 12 {
        0 => 12,
        h => h,
    };
    if minute == 0 {
        format!("{hour} {meridiem}")
    } else {
        format!("{hour}:{minute:02} {meridiem}")
    }
}

fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}
