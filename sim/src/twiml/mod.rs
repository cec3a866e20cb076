//! TwiML → verb AST, with Twilio's names, defaults and error codes.
//!
//! [`parse`] reads a `<Response>` document into a list of [`Verb`]s. Attribute names are
//! Twilio's (case-sensitive, like Twilio's own parser); unknown attributes are ignored as
//! Twilio does. Numbers are parsed, booleans are `true`/`false` (any case), methods are
//! `GET`/`POST` (normalised to upper case). Entities and CDATA are resolved by the XML parser;
//! the text of a verb is the concatenation of all its descendant text (so `<Say>` with SSML
//! children such as `<break/>` or `<prosody>` yields the words), trimmed.
//!
//! Errors follow Twilio's codes: a document that is not XML or whose root is not `<Response>`
//! is [`TwimlError::DocumentParse`] (12100, "Document parse failure"); an unknown verb, a verb
//! nested where Twilio does not allow it, a missing required part or an invalid attribute value
//! is [`TwimlError::Schema`] (12200, "Schema validation warning"). Real Twilio verbs the
//! simulator does not implement are [`TwimlError::Unsupported`] (also reported as 12200).
//!
//! Each verb has its own struct ([`Say`], [`Gather`], [`Dial`], …) inside [`Verb`]; the
//! parsers are in the private `parse` module.

mod parse;

pub use parse::parse;

/// Twilio's code for a document that cannot be parsed as TwiML.
pub const DOCUMENT_PARSE_FAILURE: u32 = 12100;
/// Twilio's code for TwiML that does not validate against the schema.
pub const SCHEMA_VALIDATION: u32 = 12200;

/// Why a TwiML document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwimlError {
    /// Not well-formed XML, or the root element is not `<Response>` (Twilio 12100).
    #[error("12100 Document parse failure: {0}")]
    DocumentParse(String),
    /// Unknown verb, bad nesting, missing part or invalid attribute value (Twilio 12200).
    #[error("12200 Schema validation warning: {0}")]
    Schema(String),
    /// A real TwiML verb or noun that the simulator does not implement.
    #[error("12200 Schema validation warning: <{0}> is not supported by the simulator")]
    Unsupported(String),
}

impl TwimlError {
    /// The Twilio error code (12100 or 12200).
    pub fn code(&self) -> u32 {
        match self {
            TwimlError::DocumentParse(_) => DOCUMENT_PARSE_FAILURE,
            TwimlError::Schema(_) | TwimlError::Unsupported(_) => SCHEMA_VALIDATION,
        }
    }

    /// Human-readable detail (without the code and title).
    pub fn message(&self) -> String {
        match self {
            TwimlError::DocumentParse(m) | TwimlError::Schema(m) => m.clone(),
            TwimlError::Unsupported(verb) => {
                format!("<{verb}> is not supported by the simulator")
            }
        }
    }
}

/// What `<Gather>` listens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatherInput {
    Dtmf,
    Speech,
}

/// One `<Number>` of a `<Dial>` (or the bare text of `<Dial>+1555…</Dial>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialNumber {
    pub number: String,
    /// TwiML fetched and run on the called party before connecting (whisper).
    pub url: Option<String>,
    pub status_callback: Option<String>,
    /// `statusCallbackEvent`, split on spaces (`initiated ringing answered completed`).
    pub status_callback_event: Vec<String>,
}

/// `<Dial><Conference>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceSpec {
    pub name: String,
    pub wait_url: Option<String>,
    /// Default `true`.
    pub start_conference_on_enter: bool,
    /// Default `false`.
    pub end_conference_on_exit: bool,
    /// `true`, `false`, `onEnter` or `onExit`; default `"true"`.
    pub beep: String,
    pub muted: bool,
    pub status_callback: Option<String>,
    pub status_callback_event: Vec<String>,
}

/// Whom a `<Dial>` calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// One or more numbers, dialled simultaneously; the first to answer wins.
    Number(Vec<DialNumber>),
    Conference(ConferenceSpec),
    Client(String),
    Sip(String),
}

/// `<Connect><Stream>` / `<Start><Stream>`: a media stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    pub url: String,
    pub name: Option<String>,
    /// `inbound_track`, `outbound_track` or `both_tracks`, as written.
    pub track: Option<String>,
    pub status_callback: Option<String>,
    /// Default `POST`.
    pub status_callback_method: String,
    /// `<Parameter name value/>` children, in document order (Twilio's `customParameters`).
    pub parameters: Vec<(String, String)>,
}

/// `<Say>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    pub text: String,
    pub voice: Option<String>,
    pub language: Option<String>,
    /// `loop`; default 1. Twilio treats 0 as "repeat (nearly) forever"; kept as written.
    pub loop_count: u32,
}

/// `<Play>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Play {
    pub url: Option<String>,
    /// `loop`; default 1, 0 as for `Say`.
    pub loop_count: u32,
    /// `digits`: DTMF tones to play (`w` = half-second wait).
    pub digits: Option<String>,
}

/// `<Pause>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    /// `length`; default 1.
    pub length_secs: u32,
}

/// `<Gather>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gather {
    /// `input` split on spaces; default `[Dtmf]`.
    pub input: Vec<GatherInput>,
    /// `timeout`; default 5.
    pub timeout_secs: u32,
    pub num_digits: Option<u32>,
    /// `finishOnKey`; default `"#"` (empty = none).
    pub finish_on_key: String,
    pub action: Option<String>,
    /// Default `POST`.
    pub method: String,
    /// `speechTimeout`: seconds or `auto`, as written.
    pub speech_timeout: Option<String>,
    /// `actionOnEmptyResult`; default false.
    pub action_on_empty_result: bool,
    /// Prompts played while gathering: only `Say`, `Play` and `Pause`.
    pub nested: Vec<Verb>,
}

/// `<Dial>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    pub target: DialTarget,
    pub action: Option<String>,
    /// Default `POST`.
    pub method: String,
    /// `timeout` (ring time); default 30.
    pub timeout_secs: u32,
    pub caller_id: Option<String>,
    /// `record`, as written (`record-from-answer`, `do-not-record`, …).
    pub record: Option<String>,
    /// `timeLimit`; Twilio's default is 4 hours when absent.
    pub time_limit_secs: Option<u32>,
    pub hangup_on_star: bool,
}

/// `<Connect>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    pub stream: Option<StreamSpec>,
}

/// `<Record>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub action: Option<String>,
    /// Default `POST`.
    pub method: String,
    /// `maxLength`; default 3600.
    pub max_length_secs: u32,
    /// `timeout` (silence that ends the recording); default 5.
    pub timeout_secs: u32,
    /// `finishOnKey`; default `"1234567890*#"`.
    pub finish_on_key: String,
    /// `playBeep`; default true.
    pub play_beep: bool,
    pub recording_status_callback: Option<String>,
    pub transcribe: bool,
}

/// `<Redirect>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub url: String,
    /// Default `POST`.
    pub method: String,
}

/// `<Reject>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// `rejected` (default) or `busy`.
    pub reason: String,
}

/// `<Enqueue>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueue {
    pub queue_name: String,
    pub action: Option<String>,
    /// Default `POST`.
    pub method: String,
    pub wait_url: Option<String>,
}

/// A TwiML verb with its attributes (defaults applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Say(Say),
    Play(Play),
    Pause(Pause),
    Gather(Gather),
    Dial(Dial),
    Connect(Connect),
    Record(Record),
    Redirect(Redirect),
    Hangup,
    Reject(Reject),
    Enqueue(Enqueue),
    Leave,
}

impl Verb {
    /// The TwiML element name of the verb.
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Say(_) => "Say",
            Verb::Play(_) => "Play",
            Verb::Pause(_) => "Pause",
            Verb::Gather(_) => "Gather",
            Verb::Dial(_) => "Dial",
            Verb::Connect(_) => "Connect",
            Verb::Record(_) => "Record",
            Verb::Redirect(_) => "Redirect",
            Verb::Hangup => "Hangup",
            Verb::Reject(_) => "Reject",
            Verb::Enqueue(_) => "Enqueue",
            Verb::Leave => "Leave",
        }
    }
}

#[cfg(test)]
mod tests;
