//! A campaign's settings: the JSON object stored with the campaign, read and checked in one
//! place so the API refuses a bad field by name and the workflow never meets one.
//!
//! ```json
//! {"window": {"hours": ["09:00","19:00"], "sat": null},
//!  "retry": {"max_attempts": 3, "busy_mins": 10},
//!  "concurrency": 5, "calls_per_second": 1.0, "machine": "voicemail",
//!  "from_number": "+15005550006", "ring_timeout_secs": 25, "targets_per_run": 200,
//!  "default_region": "US"}
//! ```
//! Every key is optional; unknown keys are refused.

use super::{CallingWindow, RetryPolicy};
use crate::E164;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Calls one campaign may have live at once.
pub const MAX_CONCURRENCY: u32 = 100;
/// Twilio's default is one new outbound call per second per account; higher limits are bought.
pub const MAX_CALLS_PER_SECOND: f64 = 50.0;

/// Attempts one workflow run may make before it continues as new: each costs 22–25 history
/// events (more under Twilio faults and killed workers), so a run stays near 7,500, well under
/// 10,000.
pub const MAX_TARGETS_PER_RUN: u32 = 300;

/// What a call answered by a machine gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachinePolicy {
    /// The script's voicemail message, then hang up.
    #[default]
    Voicemail,
    /// Hang up at once.
    HangUp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignSettings {
    /// When recipients may be called, in their local time (never outside 08:00–21:00).
    pub window: CallingWindow,
    /// Retries for busy, no answer, failed and (optionally) voicemail.
    pub retry: RetryPolicy,
    /// Calls live at once.
    pub concurrency: u32,
    /// New calls started per second (pacing across the whole campaign).
    pub calls_per_second: f64,
    pub machine: MachinePolicy,
    /// The number calls come from; default: the agent's first number.
    pub from_number: Option<E164>,
    /// How long a recipient's phone rings before the attempt is `no_answer`.
    pub ring_timeout_secs: u32,
    /// Targets one workflow run handles before it continues as new (a bounded history).
    pub targets_per_run: u32,
    /// Region for numbers in an uploaded list written without a country code.
    pub default_region: Option<String>,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            window: CallingWindow::default(),
            retry: RetryPolicy::default(),
            concurrency: 5,
            calls_per_second: 1.0,
            machine: MachinePolicy::Voicemail,
            from_number: None,
            ring_timeout_secs: 25,
            targets_per_run: 200,
            default_region: None,
        }
    }
}

/// A setting that is not acceptable: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {problem}")]
pub struct SettingsError {
    /// The field's path, e.g. `settings.retry.max_attempts`.
    pub field: String,
    pub problem: String,
}

impl CampaignSettings {
    /// Reads and checks the stored JSON (`null` is every default).
    pub fn from_json(value: &Value) -> Result<Self, SettingsError> {
        let value = if value.is_null() {
            Value::Object(Default::default())
        } else {
            value.clone()
        };
        let Value::Object(map) = &value else {
            return Err(SettingsError {
                field: "settings".into(),
                problem: "must be an object".into(),
            });
        };
        // Each part on its own first, so the error names the field that is wrong.
        for (key, part) in map {
            fn check<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
                serde_json::from_value::<T>(v.clone())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            let checked = match key.as_str() {
                "window" => check::<CallingWindow>(part),
                "retry" => check::<RetryPolicy>(part),
                "concurrency" | "ring_timeout_secs" | "targets_per_run" => check::<u32>(part),
                "calls_per_second" => check::<f64>(part),
                "machine" => check::<MachinePolicy>(part),
                "from_number" => check::<Option<E164>>(part),
                "default_region" => check::<Option<String>>(part),
                _ => Err("is not a campaign setting".to_owned()),
            };
            if let Err(problem) = checked {
                return Err(SettingsError {
                    field: format!("settings.{key}"),
                    problem,
                });
            }
        }
        let settings: Self = serde_json::from_value(value).map_err(|e| SettingsError {
            field: "settings".into(),
            problem: e.to_string(),
        })?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), SettingsError> {
        let bad = |field: &str, problem: String| {
            Err(SettingsError {
                field: format!("settings.{field}"),
                problem,
            })
        };
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return bad(
                "concurrency",
                format!("must be 1 to {MAX_CONCURRENCY}, not {}", self.concurrency),
            );
        }
        if !(self.calls_per_second > 0.0 && self.calls_per_second <= MAX_CALLS_PER_SECOND) {
            return bad(
                "calls_per_second",
                format!("must be above 0 and at most {MAX_CALLS_PER_SECOND}"),
            );
        }
        if !(5..=120).contains(&self.ring_timeout_secs) {
            return bad(
                "ring_timeout_secs",
                format!("must be 5 to 120, not {}", self.ring_timeout_secs),
            );
        }
        if !(10..=MAX_TARGETS_PER_RUN).contains(&self.targets_per_run) {
            return bad(
                "targets_per_run",
                format!(
                    "must be 10 to {MAX_TARGETS_PER_RUN}, not {}",
                    self.targets_per_run
                ),
            );
        }
        Ok(())
    }

    /// Milliseconds between two dials of the campaign.
    pub fn dial_spacing_ms(&self) -> u64 {
        (1000.0 / self.calls_per_second).ceil() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nothing_set_is_every_default() {
        let s = CampaignSettings::from_json(&json!({})).unwrap();
        assert_eq!(s, CampaignSettings::default());
        assert_eq!(CampaignSettings::from_json(&Value::Null).unwrap(), s);
        assert_eq!(s.dial_spacing_ms(), 1000);
    }

    #[test]
    fn a_bad_setting_is_named() {
        let field = |v: Value| CampaignSettings::from_json(&v).unwrap_err().field;
        assert_eq!(field(json!({"concurrency": 0})), "settings.concurrency");
        assert_eq!(
            field(json!({"calls_per_second": 0})),
            "settings.calls_per_second"
        );
        assert_eq!(
            field(json!({"retry": {"max_attempts": 99}})),
            "settings.retry"
        );
        assert_eq!(
            field(json!({"window": {"hours": ["22:00", "23:00"]}})),
            "settings.window"
        );
        assert_eq!(field(json!({"machine": "shout"})), "settings.machine");
        assert_eq!(field(json!({"colour": "red"})), "settings.colour");
        assert_eq!(field(json!({"from_number": "555"})), "settings.from_number");
    }

    #[test]
    fn settings_round_trip() {
        let s = CampaignSettings::from_json(&json!({
            "window": {"hours": ["09:00", "18:00"], "sun": null},
            "retry": {"max_attempts": 2, "busy_secs": 20},
            "concurrency": 8, "calls_per_second": 4, "machine": "hang_up",
            "from_number": "+15005550006", "targets_per_run": 50
        }))
        .unwrap();
        assert_eq!(s.machine, MachinePolicy::HangUp);
        assert_eq!(s.dial_spacing_ms(), 250);
        let back = CampaignSettings::from_json(&serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
