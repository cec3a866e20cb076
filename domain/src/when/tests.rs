use super::*;

/// Saturday December 5th, 2026 (the day the campaign tests call on).
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 5).expect("a valid date")
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

#[test]
fn misrecognised_day_names_still_name_the_day() {
    assert_eq!(at("uh tusday at ten").as_deref(), Some("2026-12-08T10:00"));
    assert_eq!(at("wensday at 3").as_deref(), Some("2026-12-09T15:00"));
    assert_eq!(at("tmrw at noon").as_deref(), Some("2026-12-06T12:00"));
    assert_eq!(at("tomorow 10:30").as_deref(), Some("2026-12-06T10:30"));
    assert_eq!(at("thurs at 9").as_deref(), Some("2026-12-10T09:00"));
}

#[test]
fn short_words_and_number_words_must_match_exactly() {
    // "thus" is one slip from "thurs", "there" one from "three".
    assert_eq!(SpokenWhen::parse("thus at there", today(), None), None);
}

#[test]
fn a_weekday_said_on_that_day_is_a_week_away() {
    assert_eq!(at("Saturday at 10").as_deref(), Some("2026-12-12T10:00"));
    assert_eq!(at("today at 10").as_deref(), Some("2026-12-05T10:00"));
}

#[test]
fn number_words_and_noon_are_times_without_a_cue() {
    assert_eq!(at("Monday ten thirty").as_deref(), Some("2026-12-07T10:30"));
    assert_eq!(
        at("Friday nine forty five").as_deref(),
        Some("2026-12-11T09:45")
    );
    assert_eq!(
        at("Shall we say noon on Friday?").as_deref(),
        Some("2026-12-11T12:00")
    );
    assert_eq!(at("midday Monday").as_deref(), Some("2026-12-07T12:00"));
}

#[test]
fn am_and_pm_are_heard_however_the_recogniser_writes_them() {
    assert_eq!(at("tomorrow at 3pm").as_deref(), Some("2026-12-06T15:00"));
    assert_eq!(
        at("tomorrow at 10:30am").as_deref(),
        Some("2026-12-06T10:30")
    );
    assert_eq!(at("tomorrow 8 p m").as_deref(), Some("2026-12-06T20:00"));
    assert_eq!(at("Monday 4 a.m.").as_deref(), Some("2026-12-07T04:00"));
    assert_eq!(at("Monday 10.30").as_deref(), Some("2026-12-07T10:30"));
    assert_eq!(
        at("Monday 5 in the morning").as_deref(),
        Some("2026-12-07T05:00")
    );
    assert_eq!(
        at("Monday 9 in the evening").as_deref(),
        Some("2026-12-07T21:00")
    );
    assert_eq!(at("Monday 4 o'clock").as_deref(), Some("2026-12-07T16:00"));
    assert_eq!(at("Monday 4 o clock").as_deref(), Some("2026-12-07T16:00"));
}

/// One rule for an hour said alone, whoever reads it: 1–6 pm, 7–11 am, 12 noon.
#[test]
fn a_bare_hour_is_read_as_business_hours() {
    let hours: Vec<String> = (1..=12)
        .filter_map(|h| at(&format!("Monday at {h}")))
        .map(|a| a[11..].to_owned())
        .collect();
    assert_eq!(
        hours,
        [
            "13:00", "14:00", "15:00", "16:00", "17:00", "18:00", "07:00", "08:00", "09:00",
            "10:00", "11:00", "12:00"
        ]
    );
}

#[test]
fn a_24_hour_clock_time_is_kept_as_said() {
    assert_eq!(at("Monday 15:00").as_deref(), Some("2026-12-07T15:00"));
    assert_eq!(at("Monday 0:30").as_deref(), Some("2026-12-07T00:30"));
}
