//! When something opens, said the way a receptionist would say it to a caller: "today at
//! 2:30 pm", "tomorrow at 9 am", "on Monday at 9 am", "on December 28 at 9 am".

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

/// Within this many days a weekday name is clear ("on Monday"); further out, the date is.
const WEEKDAY_NAME_DAYS: i64 = 6;

/// `at`, relative to `now`, both read on the wall clock of `tz`.
pub fn opening_phrase(tz: Tz, now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let now = now.with_timezone(&tz);
    let at = at.with_timezone(&tz);
    let days = (at.date_naive() - now.date_naive()).num_days();
    let time = clock_time(at.hour(), at.minute());
    match days {
        ..=0 => format!("today at {time}"),
        1 => format!("tomorrow at {time}"),
        2..=WEEKDAY_NAME_DAYS => format!("on {} at {time}", at.format("%A")),
        _ => format!("on {} {} at {time}", at.format("%B"), at.day()),
    }
}

/// "9 am", "2:30 pm", "12 pm" (noon), "12 am" (midnight).
fn clock_time(hour: u32, minute: u32) -> String {
    let suffix = if hour < 12 { "am" } else { "pm" };
    let hour12 = match hour % 12 {
        0 => 12,
        h => h,
    };
    if minute == 0 {
        format!("{hour12} {suffix}")
    } else {
        format!("{hour12}:{minute:02} {suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::clock_time;

    #[test]
    fn minutes_are_said_only_when_they_are_not_zero() {
        assert_eq!(clock_time(9, 0), "9 am");
        assert_eq!(clock_time(14, 30), "2:30 pm");
        assert_eq!(clock_time(12, 0), "12 pm");
        assert_eq!(clock_time(0, 5), "12:05 am");
    }
}
