use super::*;

fn week_of(lines: &[&str]) -> Vec<(String, Option<String>, Option<String>)> {
    let lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    week(&lines)
        .into_iter()
        .map(|d| (d.day, d.open, d.close))
        .collect()
}

fn day(w: &[(String, Option<String>, Option<String>)], i: usize) -> (Option<&str>, Option<&str>) {
    (w[i].1.as_deref(), w[i].2.as_deref())
}

#[test]
fn a_footer_line_with_ranges_and_en_dashes_gives_the_whole_week() {
    let w = week_of(&["Mon–Fri 7:00 AM – 6:00 PM · Sat 8:00 AM – 2:00 PM · Sun closed"]);
    assert_eq!(w.len(), 7);
    for i in 0..5 {
        assert_eq!(day(&w, i), (Some("07:00"), Some("18:00")));
    }
    assert_eq!(day(&w, 5), (Some("08:00"), Some("14:00")));
    assert_eq!(day(&w, 6), (None, None));
}

#[test]
fn table_rows_and_colon_lines_are_read() {
    let w = week_of(&[
        "Day | Hours",
        "Monday – Friday | 7:00 AM – 6:00 PM",
        "Saturday: 8am-2pm",
        "Sunday: Closed",
    ]);
    assert_eq!(day(&w, 2), (Some("07:00"), Some("18:00")));
    assert_eq!(day(&w, 5), (Some("08:00"), Some("14:00")));
    assert_eq!(day(&w, 6), (None, None));
}

#[test]
fn twenty_four_hour_times_and_missing_meridiems_are_inferred() {
    let w = week_of(&["Mon-Fri 07:30-18:15", "Sat 9-1pm", "Sun 11 - 4"]);
    assert_eq!(day(&w, 0), (Some("07:30"), Some("18:15")));
    assert_eq!(day(&w, 5), (Some("09:00"), Some("13:00")));
    assert_eq!(day(&w, 6), (Some("11:00"), Some("16:00")));
}

#[test]
fn day_lists_weekends_and_noon_are_understood() {
    let w = week_of(&["Weekdays 8 a.m. to 12 p.m.", "Sat & Sun: closed"]);
    assert_eq!(day(&w, 4), (Some("08:00"), Some("12:00")));
    assert_eq!(day(&w, 5), (None, None));
    assert!(week_of(&["We love sunny days"]).is_empty());
}

#[test]
fn the_week_is_spoken_in_grouped_sentences() {
    let lines = vec!["Mon–Fri 7:00 AM – 6:00 PM · Sat 8:00 AM – 12:00 PM · Sun closed".to_owned()];
    assert_eq!(
        spoken(&week(&lines)),
        "We're open Monday to Friday from 7 AM to 6 PM, and Saturday from 8 AM to noon. We're closed on Sunday."
    );
}
