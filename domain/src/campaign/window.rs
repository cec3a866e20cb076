//! When a campaign may call a recipient, judged on the recipient's own clock.
//!
//! The US TCPA allows telemarketing calls between 08:00 and 21:00 at the called party's
//! location; that is the default and also the outer bound: a campaign may narrow the window,
//! overall or per weekday, or close whole days, but a configured range is clipped to
//! 08:00–21:00 and can never widen it. Local times resolve as the directory's opening hours do
//! ([`resolve_local`]): a skipped time moves to the end of the gap, a repeated one takes the
//! earlier instant.

use crate::directory::schedule::{Day, ScheduleError, TimeRange, resolve_local};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How far ahead [`CallingWindow::next_open`] looks: a week with every day open but one, plus
/// the partial day it starts on.
pub const NEXT_OPEN_HORIZON_DAYS: i64 = 8;

/// The earliest local time any call may be placed.
pub const LEGAL_START: NaiveTime = hm(8, 0);
/// The latest local time a call may be placed (exclusive).
pub const LEGAL_END: NaiveTime = hm(21, 0);

const fn hm(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => NaiveTime::MIN,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("`{field}`: {source}")]
    Time {
        field: &'static str,
        source: ScheduleError,
    },
    #[error("`{0}` is not a field of a calling window (hours, mon … sun)")]
    UnknownField(String),
    #[error("`hours`: may be left out but not null; close days one by one (`\"sat\": null`)")]
    NullHours,
    #[error("`{field}`: {start}–{end} lies outside the legal calling hours 08:00–21:00")]
    OutsideLegalHours {
        field: &'static str,
        start: String,
        end: String,
    },
}

impl WindowError {
    /// The JSON field at fault (`hours`, `mon` … `sun`).
    pub fn field(&self) -> &str {
        match self {
            Self::Time { field, .. } | Self::OutsideLegalHours { field, .. } => field,
            Self::UnknownField(field) => field,
            Self::NullHours => "hours",
        }
    }
}

/// Serde: `{"hours": ["09:00","19:00"], "mon": ["09:00","18:00"], "sat": null}` — every key
/// optional. `hours` applies to days not named (default 08:00–21:00); a day set to `null` has
/// no calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WindowWire", into = "WindowWire")]
pub struct CallingWindow {
    hours: TimeRange,
    days: BTreeMap<Day, Option<TimeRange>>,
}

impl Default for CallingWindow {
    fn default() -> Self {
        Self {
            hours: TimeRange {
                start: LEGAL_START,
                end: LEGAL_END,
            },
            days: BTreeMap::new(),
        }
    }
}

const DAY_FIELDS: [(Day, &str); 7] = [
    (Day::Mon, "mon"),
    (Day::Tue, "tue"),
    (Day::Wed, "wed"),
    (Day::Thu, "thu"),
    (Day::Fri, "fri"),
    (Day::Sat, "sat"),
    (Day::Sun, "sun"),
];

type Range = [String; 2];

/// The JSON form: field name to range, `null` for a closed day.
type WindowWire = BTreeMap<String, Option<Range>>;

/// A configured range, parsed and clipped to the legal hours.
fn legal_range(field: &'static str, [start, end]: &Range) -> Result<TimeRange, WindowError> {
    let range =
        TimeRange::parse(start, end).map_err(|source| WindowError::Time { field, source })?;
    let clipped_end = if range.ends_at_midnight() {
        LEGAL_END
    } else {
        range.end.min(LEGAL_END)
    };
    let clipped = TimeRange {
        start: range.start.max(LEGAL_START),
        end: clipped_end,
    };
    if clipped.start >= clipped.end {
        return Err(WindowError::OutsideLegalHours {
            field,
            start: start.clone(),
            end: end.clone(),
        });
    }
    Ok(clipped)
}

impl TryFrom<WindowWire> for CallingWindow {
    type Error = WindowError;

    fn try_from(wire: WindowWire) -> Result<Self, WindowError> {
        let mut window = Self::default();
        for (key, value) in &wire {
            if key == "hours" {
                let hours = value.as_ref().ok_or(WindowError::NullHours)?;
                window.hours = legal_range("hours", hours)?;
                continue;
            }
            let Some((day, field)) = DAY_FIELDS.iter().find(|(_, f)| f == key) else {
                return Err(WindowError::UnknownField(key.clone()));
            };
            let range = value.as_ref().map(|r| legal_range(field, r)).transpose()?;
            window.days.insert(*day, range);
        }
        Ok(window)
    }
}

impl From<CallingWindow> for WindowWire {
    fn from(window: CallingWindow) -> Self {
        let days = DAY_FIELDS.iter().filter_map(|(day, field)| {
            let range = window.days.get(day)?;
            Some(((*field).to_owned(), range.map(<[String; 2]>::from)))
        });
        std::iter::once(("hours".to_owned(), Some(window.hours.into())))
            .chain(days)
            .collect()
    }
}

/// Zones around the world, west to east: at any moment some are inside a calling window and
/// some outside (demos and tests pick from them).
pub const WORLD_ZONES: [&str; 12] = [
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Tokyo",
    "Pacific/Auckland",
];

/// When a recipient may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callable {
    Now,
    /// Their window opens then.
    At(DateTime<Utc>),
    /// The window never opens (every day closed).
    Never,
}

impl CallingWindow {
    /// Whether a recipient in `zone` may be called at `now`, or from when.
    pub fn callable(&self, zone: Tz, now: DateTime<Utc>) -> Callable {
        if self.is_open(zone, now) {
            return Callable::Now;
        }
        match self.next_open(zone, now) {
            Some(at) => Callable::At(at),
            None => Callable::Never,
        }
    }

    /// The first of [`WORLD_ZONES`] where the window is open at `now` and still at
    /// `now + margin`.
    pub fn a_zone_open_now(&self, now: DateTime<Utc>, margin: chrono::Duration) -> Option<Tz> {
        WORLD_ZONES
            .iter()
            .filter_map(|z| z.parse::<Tz>().ok())
            .find(|&z| self.is_open(z, now) && self.is_open(z, now + margin))
    }

    /// The [`WORLD_ZONES`] where the window is closed at `now` and still at `now + margin`.
    pub fn zones_closed_now(&self, now: DateTime<Utc>, margin: chrono::Duration) -> Vec<Tz> {
        WORLD_ZONES
            .iter()
            .filter_map(|z| z.parse::<Tz>().ok())
            .filter(|&z| !self.is_open(z, now) && !self.is_open(z, now + margin))
            .collect()
    }

    /// The local range calls may be placed in on `date`; `None` when the day is closed.
    pub fn range_on(&self, date: NaiveDate) -> Option<TimeRange> {
        match self.days.get(&Day::from(date.weekday())) {
            Some(configured) => *configured,
            None => Some(self.hours),
        }
    }

    /// The instants `[start, end)` of local `date`'s window in `zone`.
    fn interval_on(&self, zone: Tz, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let range = self.range_on(date)?;
        let start = resolve_local(zone, date, range.start);
        let end = resolve_local(zone, date, range.end);
        (start < end).then_some((start, end))
    }

    /// Whether a recipient in `zone` may be called at `now`.
    pub fn is_open(&self, zone: Tz, now: DateTime<Utc>) -> bool {
        self.closes_at(zone, now).is_some()
    }

    /// The earliest instant from `now` on when a recipient in `zone` may be called: `now`
    /// itself when the window is open, else the next opening within
    /// [`NEXT_OPEN_HORIZON_DAYS`]; `None` when every day is closed.
    pub fn next_open(&self, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = now.with_timezone(&zone).date_naive();
        (0..=NEXT_OPEN_HORIZON_DAYS)
            .filter_map(|offset| self.interval_on(zone, today + Duration::days(offset)))
            .find(|(_, end)| now < *end)
            .map(|(start, _)| start.max(now))
    }

    /// When the window open at `now` closes; `None` when it is not open.
    pub fn closes_at(&self, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = now.with_timezone(&zone).date_naive();
        self.interval_on(zone, today)
            .filter(|(start, end)| *start <= now && now < *end)
            .map(|(_, end)| end)
    }
}

#[cfg(test)]
mod tests;
