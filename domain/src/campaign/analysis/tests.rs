use super::*;
use chrono::TimeZone;
use serde_json::{Value, json};

const NEW_YORK: Tz = Tz::America__New_York;

/// Thursday 3 December 2026, 10:00 in New York.
fn now() -> DateTime<Utc> {
    utc(2026, 12, 3, 15, 0)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid UTC time")
}

fn turn(speaker: Speaker, text: &str) -> TranscriptSegment {
    TranscriptSegment {
        speaker,
        text: text.to_owned(),
        start_ms: 0,
        end_ms: 0,
        interrupted: false,
    }
}

/// Alternating agent / caller turns, agent first.
fn call(lines: &[&str]) -> Vec<TranscriptSegment> {
    lines
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let speaker = if i % 2 == 0 {
                Speaker::Agent
            } else {
                Speaker::Caller
            };
            turn(speaker, text)
        })
        .collect()
}

fn analyse_in(zone: Tz, at: DateTime<Utc>, lines: &[&str]) -> PostCallAnalysis {
    analyse_call(&call(lines), AttemptOutcome::Completed, zone, at)
}

fn analyse(lines: &[&str]) -> PostCallAnalysis {
    analyse_in(NEW_YORK, now(), lines)
}

#[test]
fn accepting_an_offered_slot_books_it_in_the_recipients_zone() {
    let a = analyse(&[
        "Hi, your 2019 Honda Civic is due for service. Could you come in Tuesday at 10?",
        "Tuesday at 10 works.",
    ]);
    assert_eq!(a.outcome, OutcomeClass::AppointmentBooked);
    assert_eq!(a.appointment_at, Some(utc(2026, 12, 8, 15, 0)));
    assert_eq!(
        a.appointment_local.as_deref(),
        Some("Tuesday 8 December at 10:00")
    );
    assert_eq!(a.vehicle.as_deref(), Some("2019 Honda Civic"));
    assert!(!a.needs_attention);
    assert!(
        a.summary.contains("Tuesday 8 December at 10:00"),
        "{}",
        a.summary
    );
}

#[test]
fn tomorrow_with_pm_and_next_weekday_with_minutes_resolve_in_three_zones() {
    let a = analyse_in(
        Tz::America__Los_Angeles,
        now(),
        &["When suits you?", "Yes, book me in for tomorrow at 3 pm."],
    );
    assert_eq!(a.appointment_at, Some(utc(2026, 12, 4, 23, 0)));
    let a = analyse_in(
        Tz::Europe__London,
        now(),
        &["When suits you?", "next Monday 10:30"],
    );
    assert_eq!(a.outcome, OutcomeClass::AppointmentBooked);
    assert_eq!(a.appointment_at, Some(utc(2026, 12, 7, 10, 30)));
    let a = analyse(&["Shall we say noon on Friday?", "ok great"]);
    assert_eq!(a.appointment_at, Some(utc(2026, 12, 4, 17, 0)));
}

#[test]
fn an_appointment_across_the_spring_forward_uses_daylight_time() {
    // Thursday 5 March 2026; Sunday 8 March is the first day of EDT (UTC-4).
    let a = analyse_in(
        NEW_YORK,
        utc(2026, 3, 5, 15, 0),
        &["Would Sunday morning work?", "Sunday at 10 am is perfect"],
    );
    assert_eq!(a.appointment_at, Some(utc(2026, 3, 8, 14, 0)));
}

#[test]
fn misrecognised_words_still_book_and_bare_afternoon_hours_are_pm() {
    let a = analyse(&["When can you come in?", "uh tusday at ten works for me"]);
    assert_eq!(a.appointment_at, Some(utc(2026, 12, 8, 15, 0)));
    let a = analyse(&["When can you come in?", "wensday at 3 is fine"]);
    assert_eq!(
        a.appointment_local.as_deref(),
        Some("Wednesday 9 December at 15:00")
    );
}

/// The dialog and this analysis read one call with one rule: a bare 7 is 07:00.
#[test]
fn a_bare_seven_is_morning_as_the_dialog_reads_it() {
    let a = analyse(&["When can you come in?", "Tuesday at 7 works"]);
    assert_eq!(
        a.appointment_local.as_deref(),
        Some("Tuesday 8 December at 07:00")
    );
}

#[test]
fn a_day_of_the_month_and_half_past_book_the_slot() {
    let a = analyse(&["When can you come in?", "the 10th at half past two is fine"]);
    assert_eq!(a.outcome, OutcomeClass::AppointmentBooked);
    assert_eq!(a.appointment_at, Some(utc(2026, 12, 10, 19, 30)));
}

#[test]
fn do_not_call_requests_win_over_everything_else() {
    for words in [
        "Stop calling me.",
        "Take me off your list!",
        "Don't call again.",
        "pleese stop callin me",
        "dont call me again ok",
    ] {
        let a = analyse(&[
            "Could you come in Tuesday at 10?",
            "Tuesday works",
            "Great!",
            words,
        ]);
        assert_eq!(a.outcome, OutcomeClass::DoNotCall, "{words}");
        assert!(a.confidence > 0.9);
        assert!(a.appointment_at.is_none());
    }
}

#[test]
fn wrong_numbers_and_refusals_are_recognised_through_misspellings() {
    for words in ["Sorry, wrong numbr.", "There's no one by that name here"] {
        assert_eq!(
            analyse(&["Hi, is this Ana?", words]).outcome,
            OutcomeClass::WrongNumber
        );
    }
    for words in [
        "I'm not intrested.",
        "no thank you",
        "Not interested, I sold the car",
    ] {
        let a = analyse(&["Your car is due for service.", words]);
        assert_eq!(a.outcome, OutcomeClass::NotInterested, "{words}");
    }
}

#[test]
fn a_callback_request_names_the_day_when_one_is_given() {
    let a = analyse(&["Is now a good time?", "Can you call me back tomorrow?"]);
    assert_eq!(a.outcome, OutcomeClass::CallbackRequested);
    assert_eq!(a.summary, "Asked to be called back on Friday 4 December.");
    let a = analyse(&["Is now a good time?", "I'm driving, call me later"]);
    assert_eq!(a.outcome, OutcomeClass::CallbackRequested);
}

#[test]
fn an_appointment_without_a_time_needs_attention() {
    let a = analyse(&["Would Tuesday suit you?", "Yes tuesday is fine"]);
    assert_eq!(a.outcome, OutcomeClass::AppointmentBooked);
    assert_eq!(a.appointment_at, None);
    assert_eq!(a.appointment_local.as_deref(), Some("Tuesday 8 December"));
    assert!(a.needs_attention);
}

#[test]
fn a_change_of_mind_follows_the_last_word_and_needs_attention() {
    let a = analyse(&[
        "Your car is due for service.",
        "Not interested.",
        "We have Tuesday at 10 free, with a loaner car.",
        "Oh, ok, Tuesday at 10 works then.",
    ]);
    assert_eq!(a.outcome, OutcomeClass::AppointmentBooked);
    assert!(a.needs_attention);
    assert!(a.confidence < ATTENTION_BELOW);
}

#[test]
fn only_the_callers_words_decide() {
    let a = analyse(&[
        "If you'd rather we stop calling, just say so.",
        "No thanks.",
    ]);
    assert_eq!(a.outcome, OutcomeClass::NotInterested);
    assert_eq!(a.notes.as_deref(), Some("Caller: \"No thanks.\""));
}

#[test]
fn unanswered_attempts_are_classified_from_the_call_not_the_words() {
    let voicemail = analyse_call(&[], AttemptOutcome::Voicemail, NEW_YORK, now());
    assert_eq!(voicemail.outcome, OutcomeClass::Voicemail);
    let busy = analyse_call(&[], AttemptOutcome::Busy, NEW_YORK, now());
    assert_eq!(busy.outcome, OutcomeClass::Busy);
    let silent = analyse_call(&[], AttemptOutcome::Completed, NEW_YORK, now());
    assert_eq!(silent.outcome, OutcomeClass::CompletedOther);
    assert!(silent.needs_attention);
}

#[test]
fn numbers_that_are_not_times_are_not_read_as_times() {
    let a = analyse(&["Which car is it?", "the 2019 civic, I have 2 cars, yes"]);
    assert_ne!(a.outcome, OutcomeClass::AppointmentBooked);
}

#[test]
fn the_rule_based_analysis_passes_the_llm_schema() {
    let a = analyse(&["Could you come in Tuesday at 10?", "Tuesday at 10 works."]);
    let value = serde_json::to_value(&a).expect("serialises");
    assert_eq!(validate_llm_analysis(&value), Ok(a));
    let schema = post_call_analysis_schema();
    let mut listed: Vec<&String> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    let mut fields: Vec<&String> = value.as_object().expect("object").keys().collect();
    listed.sort();
    fields.sort();
    assert_eq!(
        listed, fields,
        "the schema lists exactly the struct's fields"
    );
}

#[test]
fn an_llm_answer_that_breaks_the_schema_is_refused_naming_the_field() {
    let valid = json!({
        "summary": "Booked.", "outcome": "appointment_booked", "confidence": 0.9,
        "appointment_at": "2026-12-08T15:00:00Z", "appointment_local": "Tuesday 8 December at 10:00",
        "vehicle": null, "notes": null, "needs_attention": false
    });
    assert!(validate_llm_analysis(&valid).is_ok());
    let broken = |key: &str, value: Value| {
        let mut v = valid.clone();
        v[key] = value;
        validate_llm_analysis(&v).expect_err("invalid")
    };
    assert!(broken("outcome", json!("booked")).contains("`outcome`"));
    assert!(broken("confidence", json!(1.5)).contains("`confidence`"));
    assert!(broken("appointment_at", json!("next tuesday")).contains("`appointment_at`"));
    assert!(broken("needs_attention", json!("no")).contains("`needs_attention`"));
    assert!(broken("summary", json!("")).contains("`summary`"));
    assert!(broken("mood", json!("happy")).contains("`mood`"));
    let mut missing = valid.clone();
    missing.as_object_mut().expect("object").remove("notes");
    assert!(
        validate_llm_analysis(&missing)
            .expect_err("missing")
            .contains("`notes`")
    );
    assert!(broken("outcome", json!("not_interested")).contains("`appointment_at`"));
}

#[test]
fn outcome_classes_serialise_as_their_snake_case_names() {
    for outcome in OutcomeClass::ALL {
        assert_eq!(
            serde_json::to_value(outcome).expect("serialises"),
            json!(outcome.as_str())
        );
    }
}
