//! Outbound campaigns: the pure pieces the campaign workflow and its activities call.
//!
//! Nothing here reads a clock or does I/O beyond reading a `std::io::Read` it is handed; every
//! decision that depends on time takes `now`, so workflow code can call it deterministically.
//!
//! - [`targets`]: streaming CSV import of targets — E.164 normalisation, de-duplication, DNC,
//!   each row's time zone; a report of the rows refused, by spreadsheet line.
//! - [`zones`]: a recipient's IANA zone inferred from the number (NANP area code, or country).
//! - [`window`]: when a recipient may be called, in their local time, never outside 08:00–21:00.
//! - [`retry`]: what happens after an attempt — retry at a time, or a final target state.
//! - [`analysis`]: offline, rule-based post-call analysis, and the JSON Schema an LLM's
//!   analysis must satisfy.

pub mod analysis;
pub mod retry;
pub mod settings;
pub mod targets;
pub mod window;
pub mod zones;

pub use targets::{
    ImportOptions, ImportReport, RejectReason, RejectedRow, TargetImport, TargetRow,
};

pub use analysis::{OutcomeClass, PostCallAnalysis, analyse_call, validate_llm_analysis};
pub use retry::{AttemptOutcome, NextStep, RetryPolicy, TargetState};
pub use settings::{CampaignSettings, MachinePolicy, SettingsError};
pub use window::{Callable, CallingWindow, WindowError};
pub use zones::infer_time_zone;

/// The zone of a recipient whose list row, customer record and number all left it unknown.
pub const FALLBACK_ZONE: chrono_tz::Tz = chrono_tz::America::New_York;
