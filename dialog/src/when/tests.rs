use super::*;

/// Saturday December 5th, 2026 (the day the campaign tests call on).
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
}

fn at(text: &str) -> Option<String> {
    SpokenWhen::parse(text, today(), None)
        .and_then(|w| w.at())
        .map(|at| at.format("%Y-%m-%dT%H:%M").to_string())
}

#[test]
fn a_weekday_and_a_bare_hour_are_the_coming_day_in_business_hours() {
    assert_eq!(
        at("Wednesday at 3 works better").as_deref(),
        Some("2026-12-09T15:00")
    );
    assert_eq!(at("next Monday 10:30").as_deref(), Some("2026-12-07T10:30"));
    assert_eq!(
        at("how about Saturday at 9").as_deref(),
        Some("2026-12-12T09:00")
    );
}

#[test]
fn tomorrow_and_a_part_of_the_day_settle_am_or_pm() {
    assert_eq!(
        at("tomorrow morning at 9").as_deref(),
        Some("2026-12-06T09:00")
    );
    assert_eq!(
        at("tomorrow evening at 7").as_deref(),
        Some("2026-12-06T19:00")
    );
    assert_eq!(
        at("the day after tomorrow at 2pm").as_deref(),
        Some("2026-12-07T14:00")
    );
    assert_eq!(at("today at 5 p.m.").as_deref(), Some("2026-12-05T17:00"));
}

#[test]
fn dates_of_the_month_roll_over_to_the_next_month_or_year() {
    assert_eq!(
        at("December 10th at half past two").as_deref(),
        Some("2026-12-10T14:30")
    );
    assert_eq!(at("the 3rd at 11 am").as_deref(), Some("2027-01-03T11:00"));
    assert_eq!(
        at("the twenty first of January at ten thirty").as_deref(),
        Some("2027-01-21T10:30")
    );
    assert_eq!(
        at("Dec 8 at quarter to ten").as_deref(),
        Some("2026-12-08T09:45")
    );
}

#[test]
fn parts_missing_are_left_for_the_next_turn() {
    let w = SpokenWhen::parse("tomorrow morning", today(), None).unwrap();
    assert_eq!(w.date, NaiveDate::from_ymd_opt(2026, 12, 6));
    assert_eq!((w.time, w.part), (None, Some(DayPart::Morning)));
    // "at 7", said after "tomorrow evening", is 7 pm.
    let later = SpokenWhen::parse("at 7", today(), Some(DayPart::Evening)).unwrap();
    assert_eq!(
        w.then(later)
            .at()
            .map(|a| a.format("%H:%M").to_string())
            .as_deref(),
        Some("19:00")
    );
}

#[test]
fn numbers_that_are_not_times_are_not_read_as_times() {
    assert_eq!(
        SpokenWhen::parse("it's about my 2019 Civic", today(), None),
        None
    );
    assert_eq!(SpokenWhen::parse("I have 3 cars", today(), None), None);
    assert_eq!(SpokenWhen::parse("yes that works", today(), None), None);
    assert_eq!(
        SpokenWhen::parse("may I ask who is calling", today(), None),
        None
    );
}

#[test]
fn times_are_read_out_the_way_people_say_them() {
    let at = |s| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
    assert_eq!(
        speak_date_time(at("2026-12-08T10:00")),
        "Tuesday December 8th at 10 am"
    );
    assert_eq!(
        speak_date_time(at("2026-12-21T15:30")),
        "Monday December 21st at 3:30 pm"
    );
    assert_eq!(speak_time(at("2026-12-21T12:00").time()), "noon");
    assert_eq!(
        speak_date(at("2026-12-12T12:00").date()),
        "Saturday December 12th"
    );
}
