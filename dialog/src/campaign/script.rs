//! The campaign script an outbound call carries in its instructions: what the call is for, the
//! words to open with and to leave on a machine, the slots to offer, who is called, and "now" in
//! their time zone (the dialog never reads the clock, so a call replays the same every time).

use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// The instructions line that carries the script: `Campaign script: {"goal": …}` (one line of
/// JSON, as [`CampaignScript::to_instruction_line`] writes it).
pub const CAMPAIGN_SCRIPT_LINE: &str = "Campaign script:";

/// A system message the workflow adds to the conversation when answering-machine detection says
/// a machine picked up: the agent then only leaves the voicemail message and ends the call.
pub const ANSWERED_BY_MACHINE: &str = "Answered by: machine";

/// What an outbound campaign call is about. Texts may hold placeholders: `{name}`, `{vehicle}`,
/// and any other field of [`Recipient::fields`] (`{dealer}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignScript {
    /// One spoken sentence on why we call, said once the person is confirmed ("Your {vehicle}
    /// is due for its 12-month service.").
    pub goal: String,
    /// The agent's first words. Unless it ends in a question, "Am I speaking with {name}?" is
    /// added: the call goes on only once the person is confirmed.
    pub opening: String,
    /// Questions for the model to ask (the rule dialog does not ask them).
    #[serde(default)]
    pub questions: Vec<String>,
    /// Details for the model to collect (the rule dialog does not collect them).
    #[serde(default)]
    pub collect: Vec<String>,
    /// Left on an answering machine; empty: the opening and a request to call back.
    #[serde(default)]
    pub voicemail_message: String,
    /// Appointment times to offer, in order, in the recipient's time zone.
    #[serde(default)]
    pub offer_slots: Vec<LocalDateTime>,
    pub recipient: Recipient,
    /// The time in the recipient's zone when the call started: "tomorrow" and "Wednesday" are
    /// resolved against it.
    pub now_local: LocalDateTime,
}

/// The person called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
    /// IANA time zone (`America/New_York`), passed on to `book_appointment`.
    pub time_zone: String,
    /// Other placeholders the script uses, by name.
    #[serde(flatten)]
    pub fields: BTreeMap<String, String>,
}

/// A wall-clock time with no zone, written `2026-12-08T10:00` (seconds are accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDateTime(pub NaiveDateTime);

impl LocalDateTime {
    const FORMAT: &'static str = "%Y-%m-%dT%H:%M";

    pub fn parse(text: &str) -> Result<Self, chrono::ParseError> {
        NaiveDateTime::parse_from_str(text, Self::FORMAT)
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
            .map(Self)
    }
}

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format(Self::FORMAT))
    }
}

impl Serialize for LocalDateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalDateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Words a goal written as a sentence starts with.
const SENTENCE_STARTS: [&str; 10] = [
    "i", "i'm", "we", "we're", "it", "it's", "this", "you", "your", "our",
];

/// `goal` as a spoken sentence: a bare purpose gets "I'm calling to", and every sentence
/// starts with a capital and ends with a stop.
fn spoken_goal(goal: &str) -> String {
    let goal = goal.trim();
    if goal.is_empty() {
        return String::new();
    }
    let first = goal
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let mut line = if SENTENCE_STARTS.contains(&first.as_str()) {
        let mut chars = goal.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        let mut chars = goal.chars();
        let lowered: String = chars
            .next()
            .map(|c| c.to_lowercase().chain(chars).collect())
            .unwrap_or_default();
        format!("I'm calling to {lowered}")
    };
    if !line.ends_with(['.', '!', '?']) {
        line.push('.');
    }
    line
}

impl CampaignScript {
    /// The line to put in the agent's instructions (on a line of its own).
    pub fn to_instruction_line(&self) -> Result<String, serde_json::Error> {
        Ok(format!(
            "{CAMPAIGN_SCRIPT_LINE} {}",
            serde_json::to_string(self)?
        ))
    }

    /// The script of an instructions line; `None` when the line is not a script line (the
    /// prefix is matched without regard to case).
    pub fn from_instruction_line(line: &str) -> Option<Result<Self, serde_json::Error>> {
        let line = line.trim();
        let prefix = line.get(..CAMPAIGN_SCRIPT_LINE.len())?;
        prefix
            .eq_ignore_ascii_case(CAMPAIGN_SCRIPT_LINE)
            .then(|| serde_json::from_str(&line[prefix.len()..]))
    }

    /// The agent's first words, filled in: the opening and, unless it asks already, whether
    /// this is the person.
    pub fn opening_line(&self) -> String {
        let opening = self.fill(&self.opening);
        if opening.ends_with('?') {
            opening
        } else {
            format!("{opening} {}", self.identity_question())
        }
    }

    /// What is left on an answering machine, filled in.
    pub fn voicemail_line(&self) -> String {
        if self.voicemail_message.trim().is_empty() {
            let opening = self.fill(&self.opening);
            return format!("{opening} Please give us a call back when it suits you. Thank you!");
        }
        self.fill(&self.voicemail_message)
    }

    /// The goal, filled in.
    /// The goal as the agent says it: a sentence of its own ("I'm calling to book a service
    /// visit."), however the script wrote it ("book a service visit").
    pub fn goal_line(&self) -> String {
        spoken_goal(&self.fill(&self.goal))
    }

    pub(crate) fn identity_question(&self) -> String {
        format!("Am I speaking with {}?", self.recipient.name.trim())
    }

    /// `template` with its placeholders replaced: a missing vehicle is "vehicle" ("your
    /// vehicle's service" still reads), an unknown placeholder is dropped.
    pub fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            out.push_str(&self.placeholder(&rest[open + 1..open + close]));
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn placeholder(&self, key: &str) -> String {
        let r = &self.recipient;
        match key.trim() {
            "name" => r.name.trim().to_owned(),
            "vehicle" => r.vehicle.clone().unwrap_or_else(|| "vehicle".into()),
            other => r.fields.get(other).cloned().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod goal_tests {
    use super::spoken_goal;

    #[test]
    fn a_goal_is_said_as_a_sentence() {
        assert_eq!(
            spoken_goal("book a service visit"),
            "I'm calling to book a service visit."
        );
        assert_eq!(
            spoken_goal("Schedule the annual service"),
            "I'm calling to schedule the annual service."
        );
        assert_eq!(
            spoken_goal("it's time for your check-up!"),
            "It's time for your check-up!"
        );
        assert_eq!(spoken_goal("  "), "");
    }
}
