use super::*;
use chrono::{NaiveDate, TimeZone};
use std::collections::BTreeMap;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const BILLING: u128 = 1;
const CARE: u128 = 2;
const FRONT: u128 = 3;
const ALICE: u128 = 10;
const BEN: u128 = 11;
const CARLA: u128 = 12;
const DAVID: u128 = 13;
const ERIN: u128 = 14;
const FRANK: u128 = 15;

fn weekdays(start: &str, end: &str) -> Schedule {
    let range = TimeRange::parse(start, end).unwrap();
    let weekly = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri]
        .into_iter()
        .map(|d| (d, vec![range]))
        .collect();
    Schedule {
        weekly: WeeklyHours(weekly),
        exceptions: Vec::new(),
    }
}

fn department(n: u128, name: &str, description: &str, priority: i32) -> Department {
    Department {
        id: id(n),
        name: name.into(),
        description: Some(description.into()),
        hours: None,
        routing_priority: priority,
    }
}

fn employee(n: u128, name: &str, department: Option<u128>, roles: &[&str]) -> Employee {
    Employee {
        id: id(n),
        name: name.into(),
        phone: Some(format!("+1415555{n:04}")),
        email: None,
        department_id: department.map(id),
        office: None,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        status: EmployeeStatus::Active,
        hours: None,
    }
}

fn directory(zone: Tz) -> Directory {
    let mut billing = department(BILLING, "Billing", "Invoices, payments and accounts", 5);
    billing.hours = Some(weekdays("09:00", "17:00"));
    let mut alice = employee(
        ALICE,
        "Dr. Alice Smith",
        Some(CARE),
        &["dentist", "clinical lead"],
    );
    alice.hours = Some(weekdays("10:00", "16:00"));
    let mut erin = employee(ERIN, "Erin Walsh", Some(CARE), &["dental hygienist"]);
    erin.status = EmployeeStatus::Away;
    let mut frank = employee(FRANK, "Frank Jones", Some(BILLING), &["billing specialist"]);
    frank.status = EmployeeStatus::Inactive;
    Directory {
        time_zone: zone,
        company: CompanyInfo {
            name: Some("Acme Dental".into()),
            greeting: None,
            business_hours: Some(weekdays("08:00", "18:00")),
            settings: serde_json::json!({}),
        },
        departments: vec![
            billing,
            department(CARE, "Dental Care", "Check-ups, cleaning and fillings", 1),
            department(FRONT, "Front Desk", "Appointments and general questions", 9),
        ],
        employees: vec![
            alice,
            employee(BEN, "Ben Ortiz", Some(BILLING), &["billing specialist"]),
            employee(CARLA, "Carla Nguyen", Some(FRONT), &["receptionist"]),
            employee(DAVID, "David Park", None, &["office manager"]),
            erin,
            frank,
        ],
    }
}

fn ny() -> Directory {
    directory(chrono_tz::America::New_York)
}

fn first(query: &str) -> Option<Uuid> {
    ny().find(query).first().map(|m| m.id)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

#[test]
fn a_name_is_found_with_titles_first_names_and_misheard_spellings() {
    for query in [
        "Dr. Smith",
        "doctor smith",
        "smyth",
        "Alice",
        "Alice Smith",
        "dr alice smith",
    ] {
        assert_eq!(first(query), Some(id(ALICE)), "{query}");
    }
    let m = &ny().find("Dr. Smith")[0];
    assert_eq!(m.kind, TargetKind::Employee);
    assert_eq!(m.department.as_deref(), Some("Dental Care"));
}

#[test]
fn a_department_is_found_by_name_or_by_what_it_does() {
    for query in [
        "someone in billing",
        "the billing department",
        "Billing please",
        "accounts",
    ] {
        let found = ny().find(query);
        assert_eq!(found[0].id, id(BILLING), "{query}: {found:?}");
        assert_eq!(found[0].kind, TargetKind::Department);
    }
    assert_eq!(first("the front desk"), Some(id(FRONT)));
}

#[test]
fn a_role_finds_the_people_who_have_it() {
    assert_eq!(first("the manager"), Some(id(DAVID)));
    assert_eq!(first("the office manager"), Some(id(DAVID)));
    assert_eq!(first("a hygienist"), Some(id(ERIN)));
}

#[test]
fn nonsense_and_inactive_people_find_nothing() {
    assert!(ny().find("purple elephant banana").is_empty());
    assert!(ny().find("the").is_empty());
    assert!(ny().find("").is_empty());
    assert!(ny().find("Frank Jones").is_empty());
}

#[test]
fn department_ties_go_to_the_higher_routing_priority() {
    let mut d = ny();
    d.departments
        .push(department(99, "Billing Team", "Overflow billing", 0));
    let found = d.find("billing");
    assert_eq!(found[0].id, id(BILLING));
    assert_eq!(found[1].id, id(99));
}

#[test]
fn hours_fall_back_from_employee_to_department_to_company() {
    let d = ny();
    // Wednesday 2026-12-02 08:30 in New York (EST, UTC-5).
    let at = utc(2026, 12, 2, 13, 30);
    assert!(!d.availability(TargetKind::Employee, id(ALICE), at).open_now);
    assert!(!d.availability(TargetKind::Employee, id(BEN), at).open_now);
    assert!(d.availability(TargetKind::Employee, id(CARLA), at).open_now);
    assert!(
        d.availability(TargetKind::Department, id(FRONT), at)
            .open_now
    );
    let alice = d.availability(TargetKind::Employee, id(ALICE), at);
    assert_eq!(alice.next_opening_phrase.as_deref(), Some("today at 10 am"));
    let ben = d.availability(TargetKind::Employee, id(BEN), at);
    assert_eq!(
        ben.next_opening.unwrap().to_rfc3339(),
        "2026-12-02T09:00:00-05:00"
    );
}

#[test]
fn nobody_away_or_unknown_is_available() {
    let d = ny();
    let at = utc(2026, 12, 2, 16, 0);
    assert_eq!(
        d.availability(TargetKind::Employee, id(ERIN), at),
        Availability::NEVER
    );
    assert_eq!(
        d.availability(TargetKind::Employee, id(404), at),
        Availability::NEVER
    );
    assert_eq!(
        d.availability(TargetKind::Department, id(ERIN), at),
        Availability::NEVER
    );
}

#[test]
fn without_any_hours_a_target_is_always_open() {
    let mut d = ny();
    d.company.business_hours = None;
    let a = d.availability(TargetKind::Employee, id(DAVID), utc(2026, 12, 6, 8, 0));
    assert!(a.open_now && a.next_opening.is_none());
}

#[test]
fn the_phrase_says_today_tomorrow_a_weekday_or_a_date() {
    let d = ny();
    // Friday 2026-12-04 18:30 EST: Billing next opens Monday.
    let friday_evening = utc(2026, 12, 4, 23, 30);
    let billing = |at| d.availability(TargetKind::Department, id(BILLING), at);
    assert_eq!(
        billing(friday_evening).next_opening_phrase.as_deref(),
        Some("on Monday at 9 am")
    );
    // Thursday 2026-12-03 18:00 EST.
    let thursday_evening = utc(2026, 12, 3, 23, 0);
    assert_eq!(
        billing(thursday_evening).next_opening_phrase.as_deref(),
        Some("tomorrow at 9 am")
    );
    let mut d = ny();
    d.departments[0].hours = Some(weekdays("14:30", "17:00"));
    let a = d.availability(TargetKind::Department, id(BILLING), utc(2026, 12, 2, 15, 0));
    assert_eq!(a.next_opening_phrase.as_deref(), Some("today at 2:30 pm"));
}

#[test]
fn a_holiday_closes_and_a_short_day_shortens() {
    let mut d = ny();
    let hours = d.departments[0].hours.as_mut().unwrap();
    let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
    hours.exceptions.push(DateException {
        date: christmas,
        hours: vec![],
        note: None,
    });
    let eve = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
    let morning = TimeRange::parse("09:00", "12:00").unwrap();
    hours.exceptions.push(DateException {
        date: eve,
        hours: vec![morning],
        note: None,
    });
    // Thursday 24th, 13:00 EST: closed early; Friday 25th closed; next is Monday the 28th.
    let a = d.availability(
        TargetKind::Department,
        id(BILLING),
        utc(2026, 12, 24, 18, 0),
    );
    assert!(!a.open_now);
    assert_eq!(
        a.next_opening.unwrap().to_rfc3339(),
        "2026-12-28T09:00:00-05:00"
    );
    assert_eq!(a.next_opening_phrase.as_deref(), Some("on Monday at 9 am"));
    let from_earlier = utc(2026, 12, 18, 23, 0); // Friday 18th, 18:00 EST, "in 10 days" later
    let closed_long = Schedule {
        weekly: WeeklyHours(BTreeMap::new()),
        exceptions: vec![DateException {
            date: NaiveDate::from_ymd_opt(2026, 12, 28).unwrap(),
            hours: vec![TimeRange::parse("09:00", "17:00").unwrap()],
            note: None,
        }],
    };
    d.departments[0].hours = Some(closed_long);
    let a = d.availability(TargetKind::Department, id(BILLING), from_earlier);
    assert_eq!(
        a.next_opening_phrase.as_deref(),
        Some("on December 28 at 9 am")
    );
}

#[test]
fn opening_hours_keep_their_local_meaning_across_us_daylight_saving() {
    let d = ny();
    // Sunday 2026-03-08 clocks go 02:00 -> 03:00. Monday 09:00 EDT is 13:00 UTC, not 14:00.
    let a = d.availability(TargetKind::Department, id(BILLING), utc(2026, 3, 7, 12, 0));
    assert_eq!(
        a.next_opening.unwrap().to_rfc3339(),
        "2026-03-09T09:00:00-04:00"
    );
    assert!(
        d.availability(TargetKind::Department, id(BILLING), utc(2026, 3, 9, 13, 0))
            .open_now
    );
    assert!(
        !d.availability(TargetKind::Department, id(BILLING), utc(2026, 3, 9, 12, 59))
            .open_now
    );
    // Sunday 2026-11-01 clocks go 02:00 -> 01:00. Monday 09:00 EST is 14:00 UTC.
    let a = d.availability(
        TargetKind::Department,
        id(BILLING),
        utc(2026, 10, 31, 12, 0),
    );
    assert_eq!(
        a.next_opening.unwrap().to_rfc3339(),
        "2026-11-02T09:00:00-05:00"
    );
    assert!(
        !d.availability(
            TargetKind::Department,
            id(BILLING),
            utc(2026, 11, 2, 13, 30)
        )
        .open_now
    );
}

#[test]
fn a_skipped_local_time_opens_at_the_first_instant_that_exists_and_a_repeated_one_at_the_earlier() {
    let tz = chrono_tz::America::New_York;
    let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    let half_past_two = chrono::NaiveTime::from_hms_opt(2, 30, 0).unwrap();
    // 02:30 does not exist; 03:00 EDT (07:00 UTC) is the first instant after the gap.
    assert_eq!(
        schedule::resolve_local(tz, spring, half_past_two),
        utc(2026, 3, 8, 7, 0)
    );
    let fall = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let half_past_one = chrono::NaiveTime::from_hms_opt(1, 30, 0).unwrap();
    // 01:30 happens twice; the first time is EDT (05:30 UTC).
    assert_eq!(
        schedule::resolve_local(tz, fall, half_past_one),
        utc(2026, 11, 1, 5, 30)
    );
    let mut weekly = BTreeMap::new();
    weekly.insert(Day::Sun, vec![TimeRange::parse("02:30", "04:00").unwrap()]);
    let night = Schedule {
        weekly: WeeklyHours(weekly),
        exceptions: vec![],
    };
    assert_eq!(
        night.next_opening(tz, utc(2026, 3, 8, 0, 0)),
        Some(utc(2026, 3, 8, 7, 0))
    );
    assert!(night.is_open(tz, utc(2026, 3, 8, 7, 30)));
}

#[test]
fn london_hours_follow_british_summer_time() {
    let d = directory(chrono_tz::Europe::London);
    // BST starts Sunday 2026-03-29: Monday 09:00 BST is 08:00 UTC.
    let a = d.availability(TargetKind::Department, id(BILLING), utc(2026, 3, 28, 12, 0));
    assert_eq!(
        a.next_opening.unwrap().to_rfc3339(),
        "2026-03-30T09:00:00+01:00"
    );
    assert!(
        d.availability(TargetKind::Department, id(BILLING), utc(2026, 3, 30, 8, 0))
            .open_now
    );
    // In winter 09:00 GMT is 09:00 UTC.
    assert!(
        !d.availability(TargetKind::Department, id(BILLING), utc(2026, 1, 5, 8, 30))
            .open_now
    );
}

#[test]
fn a_department_rings_its_reachable_people_front_desk_first() {
    let mut d = ny();
    let mut dana = employee(20, "Adam Reed", Some(FRONT), &["scheduler"]);
    dana.phone = Some("+14155550120".into());
    d.employees.push(dana);
    let at = utc(2026, 12, 2, 15, 0); // Wednesday 10:00 EST
    let ring: Vec<Uuid> = d
        .ring_list(TargetKind::Department, id(FRONT), at)
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ring, [id(CARLA), id(20)]);
    assert!(d.ring_list(TargetKind::Employee, id(ERIN), at).is_empty());
    assert!(
        d.ring_list(TargetKind::Department, id(BILLING), utc(2026, 12, 6, 15, 0))
            .is_empty()
    );
    assert_eq!(
        d.ring_list(TargetKind::Employee, id(BEN), at)[0].id,
        id(BEN)
    );
}

#[test]
fn schedules_read_and_write_the_documented_json() {
    let json = serde_json::json!({
        "weekly": {"mon": [["09:00", "17:00"]], "sat": [["20:00", "24:00"]]},
        "exceptions": [
            {"date": "2026-12-25", "closed": true, "note": "Christmas"},
            {"date": "2026-12-24", "hours": [["09:00", "12:00"]]}
        ]
    });
    let schedule: Schedule = serde_json::from_value(json.clone()).unwrap();
    assert!(schedule.exceptions[0].hours.is_empty());
    assert_eq!(serde_json::to_value(&schedule).unwrap(), json);
    for bad in [
        serde_json::json!({"weekly": {"mon": [["17:00", "09:00"]]}}),
        serde_json::json!({"weekly": {"mon": [["9:00", "17:00"]]}}),
        serde_json::json!({"weekly": {"monday": [["09:00", "17:00"]]}}),
        serde_json::json!({"weekly": {"mon": [["24:00", "24:00"]]}}),
        serde_json::json!({"weekly": {}, "exceptions": [{"date": "2026-12-25"}]}),
    ] {
        assert!(
            serde_json::from_value::<Schedule>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}
