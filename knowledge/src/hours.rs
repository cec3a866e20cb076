//! Opening hours from text: "Mon–Fri 7:00 AM – 6:00 PM", "Saturday: 8am-2pm",
//! "Sunday: Closed", table rows ("Monday – Friday | 7:00 AM – 6:00 PM"), 24-hour times
//! ("Mon-Fri 07:00-18:00"), day lists ("Sat & Sun closed"), "weekdays", "weekends", "daily".

use domain::site::{DayHours, Page};
use regex::{Captures, Regex};
use std::sync::LazyLock;

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

const DAY: &str = r"(?:monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thur|thu|friday|fri|saturday|sat|sunday|sun|weekdays|weekends|daily)\b\.?";
const TIME: &str = r"(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\b\.?)?";

static HOURS: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(
        r"(?i)\b({DAY})(?:\s*(-|–|—|to|through|thru|&|and|,)\s*({DAY}))?\s*[:|,]?\s*(?:from\s+)?(?:(closed)|{TIME}\s*(?:-|–|—|to|until)\s*{TIME})"
    );
    // The pattern is a constant, checked by every test that reads hours.
    Regex::new(&pattern).expect("the hours pattern compiles")
});

/// The days a day word names: `mon` → [0], `weekends` → [5, 6].
fn day_span(word: &str) -> Vec<usize> {
    let w = word.trim_end_matches('.').to_lowercase();
    match w.as_str() {
        "weekdays" => (0..5).collect(),
        "weekends" => vec![5, 6],
        "daily" => (0..7).collect(),
        _ => DAYS
            .iter()
            .position(|d| w.starts_with(d))
            .into_iter()
            .collect(),
    }
}

/// The days `first` `sep` `last` name: a range (wrapping past Sunday) or a pair.
fn days_of(first: &str, sep: Option<&str>, last: Option<&str>) -> Vec<usize> {
    let a = day_span(first);
    let Some(last) = last else { return a };
    let b = day_span(last);
    let is_range = sep.is_some_and(|s| !matches!(s.to_lowercase().as_str(), "&" | "and" | ","));
    match (is_range, a.first(), b.last()) {
        (true, Some(&from), Some(&to)) => (0..7)
            .map(|i| (from + i) % 7)
            .take((to + 7 - from) % 7 + 1)
            .collect(),
        _ => a.into_iter().chain(b).collect(),
    }
}

/// `Some(true)` for pm, `Some(false)` for am.
fn meridiem(m: Option<&str>) -> Option<bool> {
    m.map(|m| m.to_lowercase().starts_with('p'))
}

fn to_24(hour: u32, pm: Option<bool>) -> u32 {
    match pm {
        Some(true) if hour < 12 => hour + 12,
        Some(false) if hour == 12 => 0,
        _ => hour,
    }
}

/// Opening and closing minutes after midnight, inferring a missing am/pm from the other.
fn span(c: &Captures<'_>) -> Option<(u32, u32)> {
    let num = |i: usize| c.get(i).map_or(Ok(0), |m| m.as_str().parse::<u32>());
    let (h1, m1, h2, m2) = (num(5).ok()?, num(6).ok()?, num(8).ok()?, num(9).ok()?);
    let (p1, p2) = (
        meridiem(c.get(7).map(|m| m.as_str())),
        meridiem(c.get(10).map(|m| m.as_str())),
    );
    let (open_h, close_h) = match (p1, p2) {
        (None, Some(p)) => {
            let close = to_24(h2, Some(p));
            let open = to_24(h1, Some(p));
            (
                if open * 60 + m1 >= close * 60 + m2 {
                    to_24(h1, Some(false))
                } else {
                    open
                },
                close,
            )
        }
        (Some(p), None) => {
            let open = to_24(h1, Some(p));
            let close = to_24(h2, Some(p));
            (
                open,
                if close * 60 + m2 <= open * 60 + m1 {
                    to_24(h2, Some(true))
                } else {
                    close
                },
            )
        }
        (Some(_), Some(_)) => (to_24(h1, p1), to_24(h2, p2)),
        (None, None) if h2 <= h1 && h2 < 12 => (h1, h2 + 12),
        (None, None) => (h1, h2),
    };
    let (open, close) = (open_h * 60 + m1, close_h * 60 + m2);
    (m1 < 60 && m2 < 60 && open < close && close <= 24 * 60).then_some((open, close))
}

/// Every day a line states, with its hours (`None`: closed), in the order stated.
pub fn parse_line(line: &str) -> Vec<(usize, Option<(u32, u32)>)> {
    let mut out = Vec::new();
    for c in HOURS.captures_iter(line) {
        let days = days_of(
            &c[1],
            c.get(2).map(|m| m.as_str()),
            c.get(3).map(|m| m.as_str()),
        );
        let hours = if c.get(4).is_some() {
            None
        } else {
            match span(&c) {
                Some(s) => Some(s),
                None => continue,
            }
        };
        out.extend(days.into_iter().map(|d| (d, hours)));
    }
    out
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Seven days from the lines, the first statement of a day winning; unstated days are closed.
/// Empty when no line states any day.
pub fn week(lines: &[String]) -> Vec<DayHours> {
    let mut found: [Option<Option<(u32, u32)>>; 7] = [None; 7];
    for line in lines {
        for (day, hours) in parse_line(line) {
            found[day].get_or_insert(hours);
        }
    }
    if found.iter().all(Option::is_none) {
        return Vec::new();
    }
    DAYS.iter()
        .zip(found)
        .map(|(day, hours)| {
            let hours = hours.flatten();
            DayHours {
                day: (*day).to_owned(),
                open: hours.map(|h| hhmm(h.0)),
                close: hours.map(|h| hhmm(h.1)),
            }
        })
        .collect()
}

/// The site's hours and the page they came from: pages and sections about hours first, then
/// (when those state none) every line of the site.
pub fn from_pages(pages: &[&Page]) -> (Vec<DayHours>, Option<String>) {
    let about_hours = |t: &str| t.to_lowercase().contains("hours");
    for focused in [true, false] {
        for page in pages {
            let page_focus = about_hours(page.path()) || about_hours(&page.title);
            let lines: Vec<String> = page
                .sections
                .iter()
                .filter(|s| !focused || page_focus || s.heading.as_deref().is_some_and(about_hours))
                .flat_map(|s| s.blocks.iter().map(|b| b.text()))
                .collect();
            let week = week(&lines);
            if !week.is_empty() {
                return (week, Some(page.url.clone()));
            }
        }
    }
    (Vec::new(), None)
}

/// "7 AM", "6:30 PM", "noon".
fn spoken_time(hhmm: &str) -> String {
    let (h, m) = hhmm.split_once(':').unwrap_or((hhmm, "00"));
    let h: u32 = h.parse().unwrap_or(0);
    if h == 12 && m == "00" {
        return "noon".into();
    }
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    if m == "00" {
        format!("{h12} {ampm}")
    } else {
        format!("{h12}:{m} {ampm}")
    }
}

/// The week said aloud: "We're open Monday to Friday from 7 AM to 6 PM, and Saturday from
/// 8 AM to 2 PM. We're closed on Sunday."
pub fn spoken(week: &[DayHours]) -> String {
    let mut open = Vec::new();
    let mut closed = Vec::new();
    let mut i = 0;
    while i < week.len() {
        let mut j = i;
        while j + 1 < week.len()
            && week[j + 1].open == week[i].open
            && week[j + 1].close == week[i].close
        {
            j += 1;
        }
        let days = match j - i {
            0 => DAY_NAMES[i].to_owned(),
            1 => format!("{} and {}", DAY_NAMES[i], DAY_NAMES[j]),
            _ => format!("{} to {}", DAY_NAMES[i], DAY_NAMES[j]),
        };
        match (&week[i].open, &week[i].close) {
            (Some(o), Some(c)) => open.push(format!(
                "{days} from {} to {}",
                spoken_time(o),
                spoken_time(c)
            )),
            _ => closed.push(days),
        }
        i = j + 1;
    }
    let mut out = String::new();
    if !open.is_empty() {
        out = format!("We're open {}.", join_and(&open));
    }
    if !closed.is_empty() {
        out = format!("{out} We're closed on {}.", join_and(&closed))
            .trim()
            .to_owned();
    }
    out
}

fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
#[path = "hours_tests.rs"]
mod tests;
