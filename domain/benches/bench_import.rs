//! Campaign target import: 100,000 generated CSV rows (about 2% of them bad), read from a temp
//! file, against a baseline in the same run — the same file parsed by `csv` alone, with no
//! normalisation — so the number to watch is the ratio, not the machine's speed.
//!
//!   cargo bench -p switchboard-domain --bench bench-import -- [ROWS]   (default 100000)
//!
//! Peak RSS is `VmHWM` from /proc/self/status, reset between phases through
//! /proc/self/clear_refs where the kernel allows it (else it is the peak so far).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use switchboard_domain::E164;
use switchboard_domain::campaign::{ImportOptions, TargetImport};

const AREA_CODES: [u16; 10] = [212, 312, 415, 303, 602, 617, 713, 206, 404, 416];

/// One data row; every 50th is bad in one of five ways.
fn row(i: usize) -> String {
    let area = AREA_CODES[i % AREA_CODES.len()];
    let phone = format!("({area}) {:03}-{:04}", 200 + i / 10_000, i % 10_000);
    let (mut phone, mut email, mut zone) = (phone, format!("c{i}@example.com"), String::new());
    if i % 50 == 49 {
        match (i / 50) % 5 {
            0 => phone = "12345".into(),
            1 => phone = row(i - 1).split(',').next().unwrap_or_default().to_owned(),
            2 => email = "not-an-email".into(),
            3 => zone = "Mars/Olympus".into(),
            _ => phone.clear(),
        }
    }
    format!("{phone},\"Doe, Jane {i}\",{email},{zone},2019 Honda Civic\n")
}

fn write_csv(path: &Path, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"Phone Number,Name,Email,Time Zone,Vehicle\n")?;
    for i in 0..rows {
        out.write_all(row(i).as_bytes())?;
    }
    out.flush()
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets VmHWM to the current RSS (Linux 4.0+); false where not permitted.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn baseline(path: &Path) -> (u64, Duration) {
    let started = Instant::now();
    let mut reader = csv::Reader::from_path(path).expect("the generated file opens");
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while reader.read_byte_record(&mut record).expect("reads") {
        rows += 1;
    }
    (rows, started.elapsed())
}

fn import(path: &Path) -> (u64, u64, Duration) {
    let dnc = |n: &E164| n.as_str().ends_with("0000");
    let import = TargetImport::new(ImportOptions {
        default_region: "US",
        is_dnc: &dnc,
    })
    .expect("US is a region");
    let started = Instant::now();
    let file = File::open(path).expect("the generated file opens");
    let mut zoned = 0u64;
    let report = import
        .run(file, |row| zoned += u64::from(row.time_zone.is_some()))
        .expect("reads");
    assert_eq!(
        zoned, report.accepted,
        "every generated area code has a zone"
    );
    (report.accepted, report.rejected_total, started.elapsed())
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let path: PathBuf =
        std::env::temp_dir().join(format!("bench-import-{}.csv", std::process::id()));
    write_csv(&path, rows).expect("the temp file is writable");
    let size_mb = std::fs::metadata(&path).map_or(0.0, |m| m.len() as f64 / 1e6);
    println!("{rows} rows, {size_mb:.1} MB at {}", path.display());

    let resettable = reset_peak_rss();
    let (parsed, base) = baseline(&path);
    let base_rss = peak_rss_kb().unwrap_or(0);
    reset_peak_rss();
    let (accepted, rejected, took) = import(&path);
    let import_rss = peak_rss_kb().unwrap_or(0);
    let _ = std::fs::remove_file(&path);

    let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "baseline: csv parse only   {parsed:>7} rows in {:>8.1} ms  {:>10.0} rows/s  peak RSS {:>6} kB",
        base.as_secs_f64() * 1e3,
        rate(parsed, base),
        base_rss
    );
    println!(
        "import: normalise+dedup+tz {:>7} rows in {:>8.1} ms  {:>10.0} rows/s  peak RSS {:>6} kB  ({accepted} accepted, {rejected} rejected)",
        accepted + rejected,
        took.as_secs_f64() * 1e3,
        rate(accepted + rejected, took),
        import_rss
    );
    println!(
        "import / baseline time: {:.1}x{}",
        took.as_secs_f64() / base.as_secs_f64(),
        if resettable {
            ""
        } else {
            "  (VmHWM not resettable here: RSS is the peak so far)"
        }
    );
}
