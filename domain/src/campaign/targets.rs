//! Streaming CSV import of a campaign's targets.
//!
//! A tenant uploads a spreadsheet export (tens of thousands of rows). Rows are read one at a
//! time and each accepted one is handed to a sink, so the import holds one row, the set of
//! numbers already seen (for de-duplication) and the report — never the file.
//!
//! Every refusal names the line a user sees in their spreadsheet: the header is line 1 and a
//! quoted field spanning two lines counts both, as the `csv` reader's positions do.

use super::zones;
use crate::phone::E164;
use chrono_tz::Tz;
use phonenumber::{Mode, PhoneNumber, country};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

/// How many refused rows the report lists; the rest are only counted. A file of garbage must not
/// turn the report into a second copy of the file.
pub const MAX_LISTED_REJECTIONS: usize = 10_000;

const PHONE_ALIASES: &[&str] = &[
    "phone",
    "phone_number",
    "phonenumber",
    "mobile",
    "mobile_number",
    "cell",
    "cell_phone",
    "number",
    "telephone",
    "tel",
];
const NAME_ALIASES: &[&str] = &["name", "full_name", "fullname", "customer_name"];
const FIRST_NAME_ALIASES: &[&str] = &["first_name", "firstname", "first", "given_name"];
const LAST_NAME_ALIASES: &[&str] = &["last_name", "lastname", "last", "surname", "family_name"];
const EMAIL_ALIASES: &[&str] = &["email", "email_address", "e_mail"];
const ZONE_ALIASES: &[&str] = &["time_zone", "timezone", "tz"];

/// What the import needs to know from the campaign and tenant.
pub struct ImportOptions<'a> {
    /// CLDR region for numbers written without a country code ("US", "GB").
    pub default_region: &'a str,
    /// Whether a number is on the tenant's do-not-call list.
    pub is_dnc: &'a dyn Fn(&E164) -> bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("`{0}` is not a CLDR region code such as US or GB")]
    UnknownRegion(String),
    #[error("the file could not be read: {0}")]
    Read(String),
}

/// One accepted target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRow {
    /// The spreadsheet line the row started on.
    pub line: u64,
    pub phone: E164,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The row's own zone, or the one its number implies; `None`: the campaign's default zone.
    pub time_zone: Option<Tz>,
    /// Every column the importer does not interpret, by normalised header (`vehicle`).
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    InvalidNumber,
    Duplicate,
    DoNotCall,
    MissingPhone,
    WrongColumns,
    InvalidTimeZone,
    InvalidEmail,
    MalformedRow,
}

impl RejectReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidNumber => "invalid_number",
            Self::Duplicate => "duplicate",
            Self::DoNotCall => "do_not_call",
            Self::MissingPhone => "missing_phone",
            Self::WrongColumns => "wrong_columns",
            Self::InvalidTimeZone => "invalid_time_zone",
            Self::InvalidEmail => "invalid_email",
            Self::MalformedRow => "malformed_row",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub line: u64,
    pub reason: RejectReason,
    /// The header of the offending column, when one column is to blame.
    pub field: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub accepted: u64,
    /// All refused rows, listed or not.
    pub rejected_total: u64,
    /// The first [`MAX_LISTED_REJECTIONS`] refused rows, in file order.
    pub rejected: Vec<RejectedRow>,
}

impl ImportReport {
    fn reject(&mut self, row: RejectedRow) {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_LISTED_REJECTIONS {
            self.rejected.push(row);
        }
    }
}

/// Where each interpreted column sits in a row.
struct Columns {
    headers: Vec<String>,
    phone: usize,
    name: Option<usize>,
    first_name: Option<usize>,
    last_name: Option<usize>,
    email: Option<usize>,
    time_zone: Option<usize>,
    extra: Vec<usize>,
}

/// A header as users vary it: `Phone Number`, `phone-number`, `"PHONE_NUMBER "`.
fn normalise_header(raw: &str) -> String {
    raw.trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .replace([' ', '-'], "_")
}

impl Columns {
    /// `None` when no column holds phone numbers.
    fn resolve(headers: Vec<String>) -> Option<Self> {
        let find = |aliases: &[&str]| headers.iter().position(|h| aliases.contains(&h.as_str()));
        let mut columns = Self {
            phone: find(PHONE_ALIASES)?,
            name: find(NAME_ALIASES),
            first_name: find(FIRST_NAME_ALIASES),
            last_name: find(LAST_NAME_ALIASES),
            email: find(EMAIL_ALIASES),
            time_zone: find(ZONE_ALIASES),
            extra: Vec::new(),
            headers: Vec::new(),
        };
        let interpreted = [
            Some(columns.phone),
            columns.name,
            columns.first_name,
            columns.last_name,
            columns.email,
            columns.time_zone,
        ];
        columns.extra = (0..headers.len())
            .filter(|i| !interpreted.contains(&Some(*i)) && !headers[*i].is_empty())
            .collect();
        columns.headers = headers;
        Some(columns)
    }
}

/// A refusal before it is given its line.
struct Refusal {
    reason: RejectReason,
    field: Option<String>,
    detail: String,
}

impl Refusal {
    fn new(reason: RejectReason, field: Option<&str>, detail: impl Into<String>) -> Self {
        Self {
            reason,
            field: field.map(str::to_owned),
            detail: detail.into(),
        }
    }

    fn at(self, line: u64) -> RejectedRow {
        RejectedRow {
            line,
            reason: self.reason,
            field: self.field,
            detail: self.detail,
        }
    }
}

/// A row's fields, decoded.
struct Fields<'c> {
    columns: &'c Columns,
    values: Vec<String>,
}

impl Fields<'_> {
    fn get(&self, column: Option<usize>) -> Option<&str> {
        let value = self.values.get(column?)?.trim();
        (!value.is_empty()).then_some(value)
    }
}

/// A configured import: the campaign's default region and the tenant's do-not-call check.
pub struct TargetImport<'a> {
    region: country::Id,
    is_dnc: &'a dyn Fn(&E164) -> bool,
}

impl<'a> TargetImport<'a> {
    pub fn new(options: ImportOptions<'a>) -> Result<Self, ImportError> {
        let region = options.default_region.trim().to_ascii_uppercase();
        let region = region
            .parse::<country::Id>()
            .map_err(|_| ImportError::UnknownRegion(options.default_region.to_owned()))?;
        Ok(Self {
            region,
            is_dnc: options.is_dnc,
        })
    }

    /// Reads `input` row by row, handing each accepted target to `sink` in file order.
    ///
    /// Refused rows go into the report, never stop the import; only a failing reader does.
    /// Rows whose cells are all empty (what spreadsheets export for blank lines) are skipped
    /// without a report entry.
    pub fn run<R: Read>(
        &self,
        input: R,
        mut sink: impl FnMut(TargetRow),
    ) -> Result<ImportReport, ImportError> {
        // Records end at `\n` so that a record's terminator is consumed with it (a CRLF's
        // `\r` stays in the last cell, which is trimmed): see [`start_line`].
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(TrackedInput::new(input));
        let mut report = ImportReport::default();
        let mut record = csv::ByteRecord::new();
        let Some(columns) = read_header(&mut reader, &mut record, &mut report)? else {
            return Ok(report);
        };
        // The first line each accepted number was on: the de-duplication set, one entry per
        // accepted row (a few dozen bytes each), the only thing that grows with the file.
        let mut seen: HashMap<E164, u64> = HashMap::new();
        while reader.read_byte_record(&mut record).map_err(read_error)? {
            let line = start_line(&reader, &record);
            match self.accept(&columns, &record, line, &mut seen) {
                Ok(Some(row)) => {
                    report.accepted += 1;
                    sink(row);
                }
                Ok(None) => {}
                Err(refusal) => report.reject(refusal.at(line)),
            }
        }
        Ok(report)
    }

    /// The row as a target, `None` for a blank row, or why it is refused.
    fn accept(
        &self,
        columns: &Columns,
        record: &csv::ByteRecord,
        line: u64,
        seen: &mut HashMap<E164, u64>,
    ) -> Result<Option<TargetRow>, Refusal> {
        if record.iter().all(is_blank) {
            return Ok(None);
        }
        let fields = decode(columns, record)?;
        let (phone, parsed) = self.phone(&fields)?;
        if (self.is_dnc)(&phone) {
            let detail = format!("{} is on the do-not-call list", phone.masked());
            return Err(Refusal::new(RejectReason::DoNotCall, None, detail));
        }
        let time_zone = time_zone(&fields, &parsed)?;
        let email = email(&fields)?;
        if let Some(first) = seen.get(&phone) {
            let detail = format!("the same number as line {first}");
            return Err(Refusal::new(RejectReason::Duplicate, None, detail));
        }
        seen.insert(phone.clone(), line);
        Ok(Some(TargetRow {
            line,
            phone,
            name: name(&fields),
            email,
            time_zone,
            extra: extra(&fields),
        }))
    }

    /// The row's number in E.164, and as parsed (the zone inference reads its country).
    fn phone(&self, fields: &Fields<'_>) -> Result<(E164, PhoneNumber), Refusal> {
        let column = fields.columns.phone;
        let header = Some(fields.columns.headers[column].as_str());
        let Some(raw) = fields.get(Some(column)) else {
            return Err(Refusal::new(
                RejectReason::MissingPhone,
                header,
                "no number",
            ));
        };
        let invalid = |why: &str| {
            let detail = format!("`{}` {why}", crate::phone::mask_phone(raw));
            Refusal::new(RejectReason::InvalidNumber, header, detail)
        };
        let parsed = phonenumber::parse(Some(self.region), raw)
            .map_err(|_| invalid("is not a phone number"))?;
        if !parsed.is_valid() {
            return Err(invalid("is not a number that exists in its country's plan"));
        }
        let e164 = parsed.format().mode(Mode::E164).to_string();
        let phone = E164::parse(&e164).map_err(|_| invalid("has no E.164 form"))?;
        Ok((phone, parsed))
    }
}

/// Reads the first non-blank record as the header; `None` (and one report entry) when it has
/// no phone column or the file is empty.
fn read_header<R: Read>(
    reader: &mut csv::Reader<TrackedInput<R>>,
    record: &mut csv::ByteRecord,
    report: &mut ImportReport,
) -> Result<Option<Columns>, ImportError> {
    if !reader.read_byte_record(record).map_err(read_error)? {
        report.reject(RejectedRow {
            line: 1,
            reason: RejectReason::MissingPhone,
            field: None,
            detail: "the file is empty: a header row naming a phone column is required".into(),
        });
        return Ok(None);
    }
    let headers: Vec<String> = record
        .iter()
        .map(|h| normalise_header(&String::from_utf8_lossy(h)))
        .collect();
    let line = start_line(reader, record);
    let detail = format!(
        "the header row has no phone column (one of {}); it has: {}",
        PHONE_ALIASES.join(", "),
        headers.join(", ")
    );
    let columns = Columns::resolve(headers);
    if columns.is_none() {
        report.reject(RejectedRow {
            line,
            reason: RejectReason::MissingPhone,
            field: None,
            detail,
        });
    }
    Ok(columns)
}

fn is_blank(cell: &[u8]) -> bool {
    cell.iter().all(u8::is_ascii_whitespace)
}

/// The input, with what [`start_line`] needs to know about its end.
struct TrackedInput<R> {
    inner: R,
    bytes: u64,
    last_byte: Option<u8>,
    exhausted: bool,
}

impl<R: Read> TrackedInput<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            bytes: 0,
            last_byte: None,
            exhausted: false,
        }
    }
}

impl<R: Read> Read for TrackedInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        self.exhausted = n == 0 && !buf.is_empty();
        if n > 0 {
            self.last_byte = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

/// The spreadsheet line `record` (just read) starts on.
///
/// `csv` gives a record the position where the reader stood before it, which is before any
/// blank lines it skipped; so the line is counted back from the end instead: the reader's line
/// after the record, less the newlines inside its quoted cells, less its own terminator — which
/// every record has except a last one the file ends without.
fn start_line<R: Read>(reader: &csv::Reader<TrackedInput<R>>, record: &csv::ByteRecord) -> u64 {
    let end = reader.position();
    let input = reader.get_ref();
    let at_end_of_file = input.exhausted && end.byte() == input.bytes;
    let terminated = !at_end_of_file || input.last_byte == Some(b'\n');
    let inside: u64 = record
        .iter()
        .map(|cell| cell.iter().filter(|b| **b == b'\n').count() as u64)
        .sum();
    end.line()
        .saturating_sub(inside + u64::from(terminated))
        .max(1)
}

fn read_error(error: csv::Error) -> ImportError {
    ImportError::Read(error.to_string())
}

/// The row's cells as text, checked against the header's width. Extra trailing cells are
/// tolerated when empty (spreadsheets pad rows with commas); missing ones are not, since a
/// short row may have its columns shifted.
fn decode<'c>(columns: &'c Columns, record: &csv::ByteRecord) -> Result<Fields<'c>, Refusal> {
    let width = columns.headers.len();
    let padded_only = record.iter().skip(width).all(is_blank);
    if record.len() < width || !padded_only {
        let detail = format!("expected {width} columns, found {}", record.len());
        return Err(Refusal::new(RejectReason::WrongColumns, None, detail));
    }
    let values = record
        .iter()
        .take(width)
        .zip(&columns.headers)
        .map(|(cell, header)| {
            String::from_utf8(cell.to_vec()).map_err(|_| {
                let detail = "not UTF-8 text: save the file as \"CSV UTF-8\"";
                Refusal::new(RejectReason::MalformedRow, Some(header), detail)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Fields { columns, values })
}

/// The row's `time_zone` when it has one (which must be an IANA name), else the number's.
fn time_zone(fields: &Fields<'_>, parsed: &PhoneNumber) -> Result<Option<Tz>, Refusal> {
    let Some(raw) = fields.get(fields.columns.time_zone) else {
        return Ok(zones::zone_of(parsed));
    };
    raw.parse::<Tz>().map(Some).map_err(|_| {
        let header = fields
            .columns
            .time_zone
            .map(|i| fields.columns.headers[i].as_str());
        let detail = format!("`{raw}` is not an IANA time zone such as America/New_York");
        Refusal::new(RejectReason::InvalidTimeZone, header, detail)
    })
}

fn email(fields: &Fields<'_>) -> Result<Option<String>, Refusal> {
    let Some(raw) = fields.get(fields.columns.email) else {
        return Ok(None);
    };
    if looks_like_email(raw) {
        return Ok(Some(raw.to_owned()));
    }
    let header = fields
        .columns
        .email
        .map(|i| fields.columns.headers[i].as_str());
    let detail = format!("`{raw}` is not an email address");
    Err(Refusal::new(RejectReason::InvalidEmail, header, detail))
}

/// A plausibility check, not RFC 5322: one `@`, something before it, a dotted domain after it,
/// no spaces. Enough to catch a shifted column or a phone number in the email cell.
fn looks_like_email(raw: &str) -> bool {
    let Some((local, domain)) = raw.split_once('@') else {
        return false;
    };
    let dotted = domain
        .split('.')
        .all(|label| !label.is_empty() && !label.contains('@'))
        && domain.contains('.');
    !local.is_empty() && dotted && !raw.chars().any(char::is_whitespace)
}

/// `name`, or `first_name` and `last_name` joined.
fn name(fields: &Fields<'_>) -> Option<String> {
    if let Some(full) = fields.get(fields.columns.name) {
        return Some(full.to_owned());
    }
    let parts: Vec<&str> = [fields.columns.first_name, fields.columns.last_name]
        .into_iter()
        .filter_map(|column| fields.get(column))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn extra(fields: &Fields<'_>) -> BTreeMap<String, String> {
    fields
        .columns
        .extra
        .iter()
        .filter_map(|&i| {
            let value = fields.get(Some(i))?;
            Some((fields.columns.headers[i].clone(), value.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests;
