use super::*;

fn never_dnc(_: &E164) -> bool {
    false
}

/// Imports `csv` with US as the default region and `dnc` as the do-not-call list.
fn import_with(csv: &[u8], dnc: &[&str]) -> (Vec<TargetRow>, ImportReport) {
    let is_dnc = |n: &E164| dnc.contains(&n.as_str());
    let import = TargetImport::new(ImportOptions {
        default_region: "US",
        is_dnc: &is_dnc,
    })
    .expect("US is a region");
    let mut rows = Vec::new();
    let report = import
        .run(csv, |row| rows.push(row))
        .expect("in-memory reads");
    (rows, report)
}

fn import(csv: &str) -> (Vec<TargetRow>, ImportReport) {
    import_with(csv.as_bytes(), &[])
}

fn reasons(report: &ImportReport) -> Vec<(u64, RejectReason)> {
    report.rejected.iter().map(|r| (r.line, r.reason)).collect()
}

#[test]
fn national_numbers_are_normalised_to_e164_and_keep_their_extra_columns() {
    let (rows, report) = import(
        "Phone,Name,Email,Vehicle\n\
         (212) 555-0100,Ana Diaz,ana@example.com,2019 Honda Civic\n\
         312.555.0101,Bo,,\n\
         +1 415 555 0102,,,F-150\n",
    );
    assert_eq!(report.accepted, 3);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let phones: Vec<&str> = rows.iter().map(|r| r.phone.as_str()).collect();
    assert_eq!(phones, ["+12125550100", "+13125550101", "+14155550102"]);
    assert_eq!(rows[0].name.as_deref(), Some("Ana Diaz"));
    assert_eq!(rows[0].email.as_deref(), Some("ana@example.com"));
    assert_eq!(rows[0].extra["vehicle"], "2019 Honda Civic");
    assert!(rows[1].extra.is_empty(), "empty cells are not kept");
    let zones: Vec<Option<Tz>> = rows.iter().map(|r| r.time_zone).collect();
    assert_eq!(
        zones,
        [
            Some(Tz::America__New_York),
            Some(Tz::America__Chicago),
            Some(Tz::America__Los_Angeles)
        ]
    );
}

#[test]
fn line_numbers_count_physical_lines_through_a_bom_crlf_quoted_newlines_and_blank_lines() {
    let csv = "\u{feff}phone,name,notes\r\n\
               2125550100,\"Diaz, Ana\",\"first line\r\nsecond line\"\r\n\
               \r\n\
               not a number,Bo,\r\n\
               ,,\r\n\
               3125550101,\"Smith, \"\"Jo\"\"\",ok\r\n\
               2125550100,Again,\r\n";
    let (rows, report) = import(csv);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].name.as_deref(), Some("Diaz, Ana"));
    assert_eq!(rows[0].extra["notes"], "first line\r\nsecond line");
    assert_eq!(rows[1].line, 7);
    assert_eq!(rows[1].name.as_deref(), Some("Smith, \"Jo\""));
    assert_eq!(
        reasons(&report),
        [
            (5, RejectReason::InvalidNumber),
            (8, RejectReason::Duplicate)
        ]
    );
    assert_eq!(report.rejected[0].field.as_deref(), Some("phone"));
    assert_eq!(report.rejected[1].detail, "the same number as line 2");
}

#[test]
fn duplicates_are_found_across_spellings_and_do_not_call_numbers_are_refused() {
    let csv = "number\n212-555-0100\n+12125550100\n1 (212) 555-0100\n415 555 0102\n415 555 0102\n";
    let (rows, report) = import_with(csv.as_bytes(), &["+14155550102"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        reasons(&report),
        [
            (3, RejectReason::Duplicate),
            (4, RejectReason::Duplicate),
            (5, RejectReason::DoNotCall),
            (6, RejectReason::DoNotCall),
        ]
    );
    assert!(!report.rejected[2].detail.contains("5550102"), "masked");
    assert_eq!(report.rejected_total, 4);
}

#[test]
fn a_header_without_a_phone_column_is_one_report_entry_and_no_rows() {
    let (rows, report) = import("name,email\nAna,ana@example.com\nBo,bo@example.com\n");
    assert!(rows.is_empty());
    assert_eq!(reasons(&report), [(1, RejectReason::MissingPhone)]);
    assert!(report.rejected[0].detail.contains("name, email"));
    let (rows, report) = import("");
    assert!(rows.is_empty());
    assert_eq!(reasons(&report), [(1, RejectReason::MissingPhone)]);
}

#[test]
fn headers_match_aliases_case_insensitively_and_names_join_first_and_last() {
    let (rows, report) = import(
        "Mobile Number,First Name,LAST_NAME,E-Mail,TZ\n\
         2125550100,Ana,Diaz,ana@example.com,Europe/Madrid\n",
    );
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(rows[0].name.as_deref(), Some("Ana Diaz"));
    assert_eq!(rows[0].email.as_deref(), Some("ana@example.com"));
    assert_eq!(
        rows[0].time_zone,
        Some(Tz::Europe__Madrid),
        "the row's own zone wins"
    );
}

#[test]
fn each_kind_of_bad_cell_is_refused_with_its_reason_and_field() {
    let (rows, report) = import(
        "phone,email,timezone,vehicle\n\
         ,a@example.com,,\n\
         2125550100,not-an-email,,\n\
         2125550101,,Mars/Olympus,\n\
         2125550102,,\n\
         2125550103,,,Civic,surplus\n\
         2125550104,,,Civic,,\n\
         123,,,\n",
    );
    assert_eq!(rows.len(), 1, "only the row padded with empty cells passes");
    assert_eq!(rows[0].line, 7);
    let got: Vec<_> = report
        .rejected
        .iter()
        .map(|r| (r.line, r.reason, r.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (2, RejectReason::MissingPhone, Some("phone")),
            (3, RejectReason::InvalidEmail, Some("email")),
            (4, RejectReason::InvalidTimeZone, Some("timezone")),
            (5, RejectReason::WrongColumns, None),
            (6, RejectReason::WrongColumns, None),
            (8, RejectReason::InvalidNumber, Some("phone")),
        ]
    );
}

#[test]
fn a_cell_that_is_not_utf8_is_a_malformed_row() {
    let (rows, report) = import_with(b"phone,name\n2125550100,Jos\xe9\n3125550101,Jo\n", &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(reasons(&report), [(2, RejectReason::MalformedRow)]);
    assert_eq!(report.rejected[0].field.as_deref(), Some("name"));
}

#[test]
fn the_default_region_applies_to_numbers_without_a_country_code() {
    let import = TargetImport::new(ImportOptions {
        default_region: "gb",
        is_dnc: &never_dnc,
    })
    .expect("GB is a region");
    let mut rows = Vec::new();
    let csv = "phone\n020 7946 0000\n+33 1 42 68 53 00\n";
    import.run(csv.as_bytes(), |r| rows.push(r)).expect("reads");
    assert_eq!(rows[0].phone.as_str(), "+442079460000");
    assert_eq!(rows[0].time_zone, Some(Tz::Europe__London));
    assert_eq!(rows[1].time_zone, Some(Tz::Europe__Paris));
}

#[test]
fn an_unknown_default_region_is_refused_up_front() {
    let result = TargetImport::new(ImportOptions {
        default_region: "USA",
        is_dnc: &never_dnc,
    });
    assert!(matches!(result, Err(ImportError::UnknownRegion(_))));
}

#[test]
fn reject_reasons_serialise_as_their_snake_case_names() {
    for reason in [
        RejectReason::InvalidNumber,
        RejectReason::Duplicate,
        RejectReason::DoNotCall,
        RejectReason::MissingPhone,
        RejectReason::WrongColumns,
        RejectReason::InvalidTimeZone,
        RejectReason::InvalidEmail,
        RejectReason::MalformedRow,
    ] {
        let json = serde_json::to_string(&reason).expect("serialises");
        assert_eq!(json, format!("\"{}\"", reason.as_str()));
    }
}

#[test]
fn blank_lines_before_a_row_and_a_missing_final_newline_keep_line_numbers_right() {
    let (rows, report) = import("\n\nphone\n\n\n2125550100\n\n3125550101\nbad");
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [6, 8]);
    assert_eq!(reasons(&report), [(9, RejectReason::InvalidNumber)]);
}
