use super::*;
use chrono::TimeZone;
use serde_json::json;

const NEW_YORK: Tz = Tz::America__New_York;
const LOS_ANGELES: Tz = Tz::America__Los_Angeles;
const LONDON: Tz = Tz::Europe__London;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid UTC time")
}

fn window(value: serde_json::Value) -> CallingWindow {
    serde_json::from_value(value).expect("a valid window")
}

fn error(value: serde_json::Value) -> String {
    serde_json::from_value::<CallingWindow>(value)
        .expect_err("an invalid window")
        .to_string()
}

#[test]
fn the_default_window_is_eight_to_nine_in_the_recipients_own_zone() {
    let w = CallingWindow::default();
    // 2026-06-10 12:30Z is 08:30 in New York, 05:30 in Los Angeles, 13:30 in London.
    let now = utc(2026, 6, 10, 12, 30);
    assert!(w.is_open(NEW_YORK, now));
    assert!(!w.is_open(LOS_ANGELES, now));
    assert!(w.is_open(LONDON, now));
    assert_eq!(w.next_open(NEW_YORK, now), Some(now));
    assert_eq!(w.next_open(LOS_ANGELES, now), Some(utc(2026, 6, 10, 15, 0)));
    assert_eq!(w.closes_at(LONDON, now), Some(utc(2026, 6, 10, 20, 0)));
    assert_eq!(w.closes_at(LOS_ANGELES, now), None);
    assert_eq!(w.callable(NEW_YORK, now), Callable::Now);
    assert_eq!(
        w.callable(LOS_ANGELES, now),
        Callable::At(utc(2026, 6, 10, 15, 0))
    );
}

#[test]
fn after_nine_pm_the_next_opening_is_eight_the_next_morning() {
    let w = CallingWindow::default();
    let nine_pm_new_york = utc(2026, 6, 11, 1, 0);
    assert!(!w.is_open(NEW_YORK, nine_pm_new_york));
    assert_eq!(
        w.next_open(NEW_YORK, nine_pm_new_york),
        Some(utc(2026, 6, 11, 12, 0))
    );
}

#[test]
fn the_window_keeps_its_local_hours_across_the_spring_forward_on_2026_03_08() {
    let w = CallingWindow::default();
    // Saturday 22:00 EST; the clocks skip 02:00–03:00 overnight; Sunday 08:00 is EDT (UTC-4).
    let saturday_night = utc(2026, 3, 8, 3, 0);
    assert_eq!(
        w.next_open(NEW_YORK, saturday_night),
        Some(utc(2026, 3, 8, 12, 0))
    );
    assert!(!w.is_open(NEW_YORK, utc(2026, 3, 8, 11, 59)));
    assert!(w.is_open(NEW_YORK, utc(2026, 3, 8, 12, 0)));
    assert_eq!(
        w.closes_at(NEW_YORK, utc(2026, 3, 8, 12, 0)),
        Some(utc(2026, 3, 9, 1, 0))
    );
}

#[test]
fn the_window_keeps_its_local_hours_across_the_fall_back_on_2026_11_01() {
    let w = CallingWindow::default();
    // 12:30Z was 08:30 EDT the day before, and is 07:30 EST on the day the clocks go back.
    assert!(w.is_open(NEW_YORK, utc(2026, 10, 31, 12, 30)));
    assert!(!w.is_open(NEW_YORK, utc(2026, 11, 1, 12, 30)));
    assert_eq!(
        w.next_open(NEW_YORK, utc(2026, 11, 1, 5, 30)),
        Some(utc(2026, 11, 1, 13, 0))
    );
    assert_eq!(
        w.closes_at(NEW_YORK, utc(2026, 11, 1, 13, 0)),
        Some(utc(2026, 11, 2, 2, 0))
    );
}

#[test]
fn days_can_be_narrowed_or_closed_and_the_rest_follow_the_campaign_hours() {
    let w = window(json!({"hours": ["09:00", "19:00"], "sat": ["10:00", "14:00"], "sun": null}));
    // 2026-06-13 is a Saturday.
    let saturday_nine_thirty = utc(2026, 6, 13, 13, 30);
    assert!(!w.is_open(NEW_YORK, saturday_nine_thirty));
    let saturday_three_pm = utc(2026, 6, 13, 19, 0);
    assert_eq!(
        w.next_open(NEW_YORK, saturday_three_pm),
        Some(utc(2026, 6, 15, 13, 0)),
        "Sunday is closed: Monday 09:00"
    );
    assert!(w.is_open(NEW_YORK, utc(2026, 6, 15, 22, 59)));
    assert!(!w.is_open(NEW_YORK, utc(2026, 6, 15, 23, 0)));
}

#[test]
fn a_configured_window_is_clipped_to_the_legal_hours_never_widened() {
    let w = window(json!({"hours": ["06:00", "23:30"], "mon": ["07:00", "24:00"]}));
    let day = NaiveDate::from_ymd_opt(2026, 6, 15).expect("a date");
    let legal = TimeRange {
        start: LEGAL_START,
        end: LEGAL_END,
    };
    assert_eq!(w.range_on(day), Some(legal), "Monday");
    assert_eq!(w.range_on(day + Duration::days(1)), Some(legal), "Tuesday");
    let json = serde_json::to_value(&w).expect("serialises");
    assert_eq!(
        json,
        json!({"hours": ["08:00", "21:00"], "mon": ["08:00", "21:00"]})
    );
}

#[test]
fn a_window_with_every_day_closed_never_opens() {
    let closed = json!({"mon": null, "tue": null, "wed": null, "thu": null, "fri": null,
                        "sat": null, "sun": null});
    let w = window(closed);
    assert_eq!(w.next_open(LONDON, utc(2026, 6, 10, 12, 0)), None);
    assert_eq!(w.callable(LONDON, utc(2026, 6, 10, 12, 0)), Callable::Never);
}

#[test]
fn validation_errors_name_the_field() {
    assert!(error(json!({"tue": ["9am", "17:00"]})).contains("`tue`"));
    assert!(error(json!({"wed": ["18:00", "09:00"]})).contains("`wed`"));
    assert!(error(json!({"fri": ["21:30", "23:00"]})).contains("`fri`"));
    assert!(error(json!({"hours": null})).contains("`hours`"));
    assert!(error(json!({"monday": ["09:00", "17:00"]})).contains("`monday`"));
    let wire: BTreeMap<String, Option<[String; 2]>> = [(
        "thu".to_owned(),
        Some(["05:00".to_owned(), "07:59".to_owned()]),
    )]
    .into();
    let err = CallingWindow::try_from(wire).expect_err("before 08:00");
    assert_eq!(err.field(), "thu");
}
