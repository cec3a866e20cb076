//! Opening hours: a week of local time ranges plus dated exceptions, evaluated in an IANA zone.
//!
//! Wall-clock times are resolved with chrono-tz on the local date they belong to, so a range
//! keeps its local meaning across daylight-saving changes. A local time that does not exist
//! (the hour skipped when clocks spring forward) resolves to the first instant that does; an
//! ambiguous one (the hour repeated when clocks fall back) to the earlier of the two.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How far ahead [`Schedule::next_opening`] looks.
pub const OPENING_HORIZON_DAYS: i64 = 14;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("`{0}` is not a time of day as HH:MM (00:00 to 24:00)")]
    NotATime(String),
    #[error("a time range must start before it ends ({start} to {end})")]
    Backwards { start: String, end: String },
    #[error("a time range may end at 24:00 but not start there")]
    StartsAtMidnightEnd,
    #[error("an exception is either `closed: true` or has `hours`, not both and not neither")]
    ClosedAndHours,
}

/// A day of the week, spelled `mon` … `sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl From<chrono::Weekday> for Day {
    fn from(day: chrono::Weekday) -> Self {
        use chrono::Weekday as W;
        match day {
            W::Mon => Day::Mon,
            W::Tue => Day::Tue,
            W::Wed => Day::Wed,
            W::Thu => Day::Thu,
            W::Fri => Day::Fri,
            W::Sat => Day::Sat,
            W::Sun => Day::Sun,
        }
    }
}

/// "HH:MM" local times; `end` may be "24:00". Serde: `["09:00","17:00"]`.
///
/// `NaiveTime` has no 24:00, and a range cannot end at 00:00 of its own day, so an `end` of
/// 00:00 means midnight at the end of the day: it reads and writes as "24:00".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "[String; 2]", into = "[String; 2]")]
pub struct TimeRange {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

fn parse_hh_mm(text: &str) -> Result<NaiveTime, ScheduleError> {
    let bad = || ScheduleError::NotATime(text.to_owned());
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if (h, m) == (24, 0) {
        return Ok(NaiveTime::MIN);
    }
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

impl TimeRange {
    /// A range from two "HH:MM" texts; `end` may be "24:00", and `start` must come first.
    pub fn parse(start: &str, end: &str) -> Result<Self, ScheduleError> {
        if start == "24:00" {
            return Err(ScheduleError::StartsAtMidnightEnd);
        }
        let range = Self {
            start: parse_hh_mm(start)?,
            end: parse_hh_mm(end)?,
        };
        if !range.ends_at_midnight() && range.end <= range.start {
            return Err(ScheduleError::Backwards {
                start: start.to_owned(),
                end: end.to_owned(),
            });
        }
        Ok(range)
    }

    /// Whether `end` is 24:00 (midnight at the end of the day).
    pub fn ends_at_midnight(&self) -> bool {
        self.end == NaiveTime::MIN
    }

    /// The instants this range covers on local `date` in `tz`: `[start, end)`.
    fn on(&self, date: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = resolve_local(tz, date, self.start);
        let end = if self.ends_at_midnight() {
            resolve_local(tz, date + Duration::days(1), NaiveTime::MIN)
        } else {
            resolve_local(tz, date, self.end)
        };
        (start, end)
    }
}

impl TryFrom<[String; 2]> for TimeRange {
    type Error = ScheduleError;

    fn try_from([start, end]: [String; 2]) -> Result<Self, ScheduleError> {
        Self::parse(&start, &end)
    }
}

impl From<TimeRange> for [String; 2] {
    fn from(r: TimeRange) -> Self {
        let end = if r.ends_at_midnight() {
            "24:00".to_owned()
        } else {
            r.end.format("%H:%M").to_string()
        };
        [r.start.format("%H:%M").to_string(), end]
    }
}

/// Serde: `{"mon":[["09:00","17:00"]], "tue":[...], ...}`; a missing day is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeeklyHours(pub BTreeMap<Day, Vec<TimeRange>>);

/// Hours for one local date, replacing the weekly hours that day: empty `hours` is closed.
///
/// Serde: `{"date":"2026-12-25","closed":true,"note":"Christmas"}` or
/// `{"date":"2026-12-24","hours":[["09:00","12:00"]]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ExceptionWire", into = "ExceptionWire")]
pub struct DateException {
    pub date: NaiveDate,
    pub hours: Vec<TimeRange>,
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionWire {
    date: NaiveDate,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    closed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    hours: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl TryFrom<ExceptionWire> for DateException {
    type Error = ScheduleError;

    fn try_from(w: ExceptionWire) -> Result<Self, ScheduleError> {
        if w.closed != w.hours.is_empty() {
            return Err(ScheduleError::ClosedAndHours);
        }
        Ok(Self {
            date: w.date,
            hours: w.hours,
            note: w.note,
        })
    }
}

impl From<DateException> for ExceptionWire {
    fn from(e: DateException) -> Self {
        Self {
            date: e.date,
            closed: e.hours.is_empty(),
            hours: e.hours,
            note: e.note,
        }
    }
}

/// Weekly hours and the dates that differ. Serde: `{"weekly":{…},"exceptions":[…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub weekly: WeeklyHours,
    #[serde(default)]
    pub exceptions: Vec<DateException>,
}

impl Schedule {
    /// The ranges of local `date`: its exception's if it has one, else its weekday's.
    pub fn ranges_on(&self, date: NaiveDate) -> &[TimeRange] {
        match self.exceptions.iter().find(|e| e.date == date) {
            Some(exception) => &exception.hours,
            None => self
                .weekly
                .0
                .get(&Day::from(date.weekday()))
                .map_or(&[], Vec::as_slice),
        }
    }

    /// The open intervals of local `date` in `tz`, earliest first.
    fn intervals_on(&self, date: NaiveDate, tz: Tz) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut out: Vec<_> = self
            .ranges_on(date)
            .iter()
            .map(|r| r.on(date, tz))
            .collect();
        out.sort();
        out
    }

    /// Whether `now` falls in an open interval.
    pub fn is_open(&self, tz: Tz, now: DateTime<Utc>) -> bool {
        let today = now.with_timezone(&tz).date_naive();
        [today - Duration::days(1), today]
            .into_iter()
            .flat_map(|date| self.intervals_on(date, tz))
            .any(|(start, end)| start <= now && now < end)
    }

    /// The first opening strictly after `now`, within [`OPENING_HORIZON_DAYS`].
    pub fn next_opening(&self, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = now.with_timezone(&tz).date_naive();
        (0..=OPENING_HORIZON_DAYS)
            .map(|offset| today + Duration::days(offset))
            .flat_map(|date| self.intervals_on(date, tz))
            .find(|(start, end)| *start > now && start < end)
            .map(|(start, _)| start)
    }
}

/// The instant of local `date` `time` in `tz`: the earlier one when the time is repeated, the
/// first existing one after it when the time is skipped.
pub fn resolve_local(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    // Skipped local times: step forward to the end of the gap (gaps are at most a few hours).
    for minutes in 0..=(26 * 60) {
        match tz.from_local_datetime(&(local + Duration::minutes(minutes))) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, _) => return earlier.with_timezone(&Utc),
            LocalResult::None => continue,
        }
    }
    // No zone skips a whole day and more; treat the wall clock as UTC rather than fail.
    local.and_utc()
}
