//! Facts about the business from text: emails, US street addresses, the time zone (from the
//! address's state or the phone's area code), the business name (from page titles).

use domain::site::Page;
use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern, exercised by the tests below.
    Regex::new(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b").expect("email pattern")
});

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let street = r"(?:Street|St|Avenue|Ave|Boulevard|Blvd|Road|Rd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Parkway|Pkwy|Highway|Hwy|Terrace|Square)";
    let pattern = format!(
        r"\b\d{{1,6}}\s+(?:[A-Z0-9][A-Za-z0-9'\-]*\.?\s+){{1,4}}{street}\.?(?:,?\s*(?:Suite|Ste\.?|Unit|#)\s*[A-Za-z0-9\-]+)?,\s*[A-Z][A-Za-z .]+?,?\s+([A-Z]{{2}})\s+\d{{5}}(?:-\d{{4}})?\b"
    );
    // A constant pattern, exercised by the tests below.
    Regex::new(&pattern).expect("address pattern")
});

pub fn emails(text: &str) -> Vec<String> {
    EMAIL
        .find_iter(text)
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// US street addresses ("1200 Harrison Street, Suite 4, San Francisco, CA 94103") with their
/// state code.
pub fn addresses(text: &str) -> Vec<(String, String)> {
    ADDRESS
        .captures_iter(text)
        .map(|c| (c[0].to_owned(), c[1].to_owned()))
        .collect()
}

/// (states, zone): the zone most of a state keeps.
const STATE_ZONES: &[(&[&str], &str)] = &[
    (&["CA", "WA", "OR", "NV"], "America/Los_Angeles"),
    (&["AZ"], "America/Phoenix"),
    (&["CO", "UT", "NM", "WY", "MT", "ID"], "America/Denver"),
    (
        &[
            "TX", "IL", "MN", "WI", "IA", "MO", "KS", "NE", "OK", "AR", "LA", "MS", "AL", "TN",
            "SD", "ND",
        ],
        "America/Chicago",
    ),
    (
        &[
            "NY", "NJ", "PA", "MA", "CT", "RI", "VT", "NH", "ME", "MD", "DE", "DC", "VA", "WV",
            "NC", "SC", "GA", "FL", "OH", "MI", "IN", "KY",
        ],
        "America/New_York",
    ),
    (&["AK"], "America/Anchorage"),
    (&["HI"], "Pacific/Honolulu"),
];

/// (area codes, zone): the larger metro areas.
const AREA_ZONES: &[(&[&str], &str)] = &[
    (
        &[
            "415", "628", "510", "650", "408", "213", "310", "323", "818", "619", "916", "206",
            "503", "702",
        ],
        "America/Los_Angeles",
    ),
    (&["602", "480", "520"], "America/Phoenix"),
    (&["303", "720", "801", "505"], "America/Denver"),
    (
        &["312", "773", "214", "713", "512", "210", "612", "504"],
        "America/Chicago",
    ),
    (
        &[
            "212", "646", "718", "917", "617", "215", "202", "305", "404", "313", "704",
        ],
        "America/New_York",
    ),
];

pub fn zone_of_state(state: &str) -> Option<&'static str> {
    STATE_ZONES
        .iter()
        .find(|(states, _)| states.contains(&state))
        .map(|(_, zone)| *zone)
}

/// The zone of an E.164 US number's area code.
pub fn zone_of_phone(e164: &str) -> Option<&'static str> {
    let area = e164.strip_prefix("+1")?.get(..3)?;
    AREA_ZONES
        .iter()
        .find(|(codes, _)| codes.contains(&area))
        .map(|(_, zone)| *zone)
}

/// Title parts split at " | ", " - ", " – ", " — ", ": ".
fn title_parts(title: &str) -> Vec<String> {
    let mut parts = vec![title.to_owned()];
    for sep in [" | ", " - ", " – ", " — ", ": "] {
        parts = parts
            .iter()
            .flat_map(|p| p.split(sep).map(str::to_owned).collect::<Vec<_>>())
            .collect();
    }
    parts
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The part of the titles that most pages repeat (the site name); else the home page's `<h1>`,
/// else its first title part.
pub fn business_name(pages: &[&Page]) -> Option<String> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, page) in pages.iter().enumerate() {
        for part in title_parts(&page.title) {
            counts.entry(part).or_insert((0, i)).0 += 1;
        }
    }
    let repeated = counts
        .into_iter()
        .filter(|(_, (n, _))| *n >= 2)
        .max_by(|a, b| {
            a.1.0
                .cmp(&b.1.0)
                .then(b.1.1.cmp(&a.1.1))
                .then(b.0.cmp(&a.0))
        })
        .map(|(part, _)| part);
    let home = pages.iter().find(|p| p.path() == "/").or(pages.first());
    repeated.or_else(|| {
        let home = home?;
        let h1 = home.sections.iter().find(|s| s.level == 1);
        h1.and_then(|s| s.heading.clone())
            .or_else(|| title_parts(&home.title).into_iter().next())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_suites_and_abbreviations_are_found() {
        let found = addresses("Visit 1200 Harrison Street, Suite 4, San Francisco, CA 94103 today");
        assert_eq!(
            found,
            vec![(
                "1200 Harrison Street, Suite 4, San Francisco, CA 94103".to_owned(),
                "CA".to_owned()
            )]
        );
        let found = addresses("Shop: 55 W. Market St., Denver, CO 80202-1234.");
        assert_eq!(found[0].1, "CO");
        assert!(addresses("We have 24 plumbers in San Francisco, CA").is_empty());
    }

    #[test]
    fn zones_come_from_states_and_area_codes() {
        assert_eq!(zone_of_state("CA"), Some("America/Los_Angeles"));
        assert_eq!(zone_of_phone("+14155550142"), Some("America/Los_Angeles"));
        assert_eq!(zone_of_phone("+12125550100"), Some("America/New_York"));
        assert_eq!(zone_of_phone("+19995550100"), None);
    }

    #[test]
    fn emails_are_found() {
        assert_eq!(
            emails("Email: office@bayside.example."),
            vec!["office@bayside.example"]
        );
    }
}
