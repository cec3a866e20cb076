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

use roxmltree::{Document, Node};

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

/// A TwiML verb with its attributes (defaults applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Say {
        text: String,
        voice: Option<String>,
        language: Option<String>,
        /// `loop`; default 1. Twilio treats 0 as "repeat (nearly) forever"; kept as written.
        loop_count: u32,
    },
    Play {
        url: Option<String>,
        /// `loop`; default 1, 0 as for `Say`.
        loop_count: u32,
        /// `digits`: DTMF tones to play (`w` = half-second wait).
        digits: Option<String>,
    },
    Pause {
        /// `length`; default 1.
        length_secs: u32,
    },
    Gather {
        /// `input` split on spaces; default `[Dtmf]`.
        input: Vec<GatherInput>,
        /// `timeout`; default 5.
        timeout_secs: u32,
        num_digits: Option<u32>,
        /// `finishOnKey`; default `"#"` (empty = none).
        finish_on_key: String,
        action: Option<String>,
        /// Default `POST`.
        method: String,
        /// `speechTimeout`: seconds or `auto`, as written.
        speech_timeout: Option<String>,
        /// `actionOnEmptyResult`; default false.
        action_on_empty_result: bool,
        /// Prompts played while gathering: only `Say`, `Play` and `Pause`.
        nested: Vec<Verb>,
    },
    Dial {
        target: DialTarget,
        action: Option<String>,
        /// Default `POST`.
        method: String,
        /// `timeout` (ring time); default 30.
        timeout_secs: u32,
        caller_id: Option<String>,
        /// `record`, as written (`record-from-answer`, `do-not-record`, …).
        record: Option<String>,
        /// `timeLimit`; Twilio's default is 4 hours when absent.
        time_limit_secs: Option<u32>,
        hangup_on_star: bool,
    },
    Connect {
        stream: Option<StreamSpec>,
    },
    Record {
        action: Option<String>,
        /// Default `POST`.
        method: String,
        /// `maxLength`; default 3600.
        max_length_secs: u32,
        /// `timeout` (silence that ends the recording); default 5.
        timeout_secs: u32,
        /// `finishOnKey`; default `"1234567890*#"`.
        finish_on_key: String,
        /// `playBeep`; default true.
        play_beep: bool,
        recording_status_callback: Option<String>,
        transcribe: bool,
    },
    Redirect {
        url: String,
        /// Default `POST`.
        method: String,
    },
    Hangup,
    Reject {
        /// `rejected` (default) or `busy`.
        reason: String,
    },
    Enqueue {
        queue_name: String,
        action: Option<String>,
        /// Default `POST`.
        method: String,
        wait_url: Option<String>,
    },
    Leave,
}

impl Verb {
    /// The TwiML element name of the verb.
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Say { .. } => "Say",
            Verb::Play { .. } => "Play",
            Verb::Pause { .. } => "Pause",
            Verb::Gather { .. } => "Gather",
            Verb::Dial { .. } => "Dial",
            Verb::Connect { .. } => "Connect",
            Verb::Record { .. } => "Record",
            Verb::Redirect { .. } => "Redirect",
            Verb::Hangup => "Hangup",
            Verb::Reject { .. } => "Reject",
            Verb::Enqueue { .. } => "Enqueue",
            Verb::Leave => "Leave",
        }
    }
}

/// Real TwiML verbs/nouns the simulator refuses with [`TwimlError::Unsupported`].
const UNSUPPORTED_VERBS: &[&str] = &[
    "Start", "Stop", "Sms", "Message", "Pay", "Refer", "Echo", "Prompt",
];

/// Parse a TwiML document. The root must be `<Response>`; an empty response is an empty list.
pub fn parse(xml: &str) -> Result<Vec<Verb>, TwimlError> {
    let doc = Document::parse(xml).map_err(|e| TwimlError::DocumentParse(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Response" {
        return Err(TwimlError::DocumentParse(format!(
            "the root element is <{}>, expected <Response>",
            root.tag_name().name()
        )));
    }
    let mut verbs = Vec::new();
    for child in root.children() {
        if top_level_child(child, "Response")?.is_some() {
            verbs.push(parse_verb(child)?);
        }
    }
    Ok(verbs)
}

/// Classify a child node: `Some(())` for an element, `None` for ignorable nodes (whitespace,
/// comments, processing instructions); stray text is a schema error.
fn top_level_child(node: Node<'_, '_>, parent: &str) -> Result<Option<()>, TwimlError> {
    if node.is_element() {
        Ok(Some(()))
    } else if node.is_text() && !node.text().unwrap_or("").trim().is_empty() {
        Err(TwimlError::Schema(format!(
            "unexpected text {:?} in <{parent}>",
            node.text().unwrap_or("").trim()
        )))
    } else {
        Ok(None)
    }
}

fn parse_verb(node: Node<'_, '_>) -> Result<Verb, TwimlError> {
    let name = node.tag_name().name();
    match name {
        "Say" => parse_say(node),
        "Play" => parse_play(node),
        "Pause" => Ok(Verb::Pause {
            length_secs: u32_attr(node, "length")?.unwrap_or(1),
        }),
        "Gather" => parse_gather(node),
        "Dial" => parse_dial(node),
        "Connect" => parse_connect(node),
        "Record" => Ok(Verb::Record {
            action: str_attr(node, "action"),
            method: method_attr(node, "method")?,
            max_length_secs: u32_attr(node, "maxLength")?.unwrap_or(3600),
            timeout_secs: u32_attr(node, "timeout")?.unwrap_or(5),
            finish_on_key: str_attr(node, "finishOnKey")
                .unwrap_or_else(|| "1234567890*#".to_owned()),
            play_beep: bool_attr(node, "playBeep")?.unwrap_or(true),
            recording_status_callback: str_attr(node, "recordingStatusCallback"),
            transcribe: bool_attr(node, "transcribe")?.unwrap_or(false),
        }),
        "Redirect" => {
            let url = text_of(node);
            if url.is_empty() {
                return Err(TwimlError::Schema("<Redirect> needs a URL".into()));
            }
            Ok(Verb::Redirect {
                url,
                method: method_attr(node, "method")?,
            })
        }
        "Hangup" => Ok(Verb::Hangup),
        "Reject" => {
            let reason = str_attr(node, "reason").unwrap_or_else(|| "rejected".to_owned());
            if reason != "rejected" && reason != "busy" {
                return Err(invalid_value(node, "reason", &reason));
            }
            Ok(Verb::Reject { reason })
        }
        "Enqueue" => {
            let queue_name = text_of(node);
            if queue_name.is_empty() {
                return Err(TwimlError::Schema("<Enqueue> needs a queue name".into()));
            }
            Ok(Verb::Enqueue {
                queue_name,
                action: str_attr(node, "action"),
                method: method_attr(node, "method")?,
                wait_url: str_attr(node, "waitUrl"),
            })
        }
        "Leave" => Ok(Verb::Leave),
        other if UNSUPPORTED_VERBS.contains(&other) => Err(TwimlError::Unsupported(other.into())),
        other => Err(TwimlError::Schema(format!("unknown verb <{other}>"))),
    }
}

fn parse_say(node: Node<'_, '_>) -> Result<Verb, TwimlError> {
    Ok(Verb::Say {
        text: text_of(node),
        voice: str_attr(node, "voice"),
        language: str_attr(node, "language"),
        loop_count: u32_attr(node, "loop")?.unwrap_or(1),
    })
}

fn parse_play(node: Node<'_, '_>) -> Result<Verb, TwimlError> {
    let url = Some(text_of(node)).filter(|u| !u.is_empty());
    let digits = str_attr(node, "digits");
    if let Some(d) = &digits
        && let Some(bad) = d
            .chars()
            .find(|c| !(c.is_ascii_digit() || matches!(c, '*' | '#' | 'w' | 'W')))
    {
        return Err(invalid_value(node, "digits", &bad.to_string()));
    }
    if url.is_none() && digits.is_none() {
        return Err(TwimlError::Schema(
            "<Play> needs a URL or a digits attribute".into(),
        ));
    }
    Ok(Verb::Play {
        url,
        loop_count: u32_attr(node, "loop")?.unwrap_or(1),
        digits,
    })
}

fn parse_gather(node: Node<'_, '_>) -> Result<Verb, TwimlError> {
    let input = match str_attr(node, "input") {
        None => vec![GatherInput::Dtmf],
        Some(raw) => {
            let mut input = Vec::new();
            for token in raw.split_whitespace() {
                let kind = match token {
                    "dtmf" => GatherInput::Dtmf,
                    "speech" => GatherInput::Speech,
                    _ => return Err(invalid_value(node, "input", &raw)),
                };
                if !input.contains(&kind) {
                    input.push(kind);
                }
            }
            if input.is_empty() {
                vec![GatherInput::Dtmf]
            } else {
                input
            }
        }
    };
    let mut nested = Vec::new();
    for child in node.children() {
        if top_level_child(child, "Gather")?.is_none() {
            continue;
        }
        match child.tag_name().name() {
            "Say" | "Play" | "Pause" => nested.push(parse_verb(child)?),
            other => {
                return Err(TwimlError::Schema(format!(
                    "<{other}> is not allowed inside <Gather> (only Say, Play, Pause)"
                )));
            }
        }
    }
    Ok(Verb::Gather {
        input,
        timeout_secs: u32_attr(node, "timeout")?.unwrap_or(5),
        num_digits: u32_attr(node, "numDigits")?,
        finish_on_key: str_attr(node, "finishOnKey").unwrap_or_else(|| "#".to_owned()),
        action: str_attr(node, "action"),
        method: method_attr(node, "method")?,
        speech_timeout: str_attr(node, "speechTimeout"),
        action_on_empty_result: bool_attr(node, "actionOnEmptyResult")?.unwrap_or(false),
        nested,
    })
}

fn parse_dial(node: Node<'_, '_>) -> Result<Verb, TwimlError> {
    let mut numbers = Vec::new();
    let mut other: Option<DialTarget> = None;
    let mut bare = String::new();
    for child in node.children() {
        if child.is_text() {
            bare.push_str(child.text().unwrap_or(""));
            continue;
        }
        if !child.is_element() {
            continue;
        }
        let name = child.tag_name().name();
        match name {
            "Number" => {
                let number = text_of(child);
                if number.is_empty() {
                    return Err(TwimlError::Schema("<Number> needs a phone number".into()));
                }
                numbers.push(DialNumber {
                    number,
                    url: str_attr(child, "url"),
                    status_callback: str_attr(child, "statusCallback"),
                    status_callback_event: list_attr(child, "statusCallbackEvent"),
                });
            }
            "Conference" | "Client" | "Sip" => {
                if other.is_some() {
                    return Err(TwimlError::Schema(format!(
                        "<Dial> can hold only one <{name}>"
                    )));
                }
                let text = text_of(child);
                if text.is_empty() {
                    return Err(TwimlError::Schema(format!("<{name}> needs a value")));
                }
                other = Some(match name {
                    "Conference" => DialTarget::Conference(parse_conference(child, text)?),
                    "Client" => DialTarget::Client(text),
                    _ => DialTarget::Sip(text),
                });
            }
            "Queue" | "Application" | "WhatsApp" => {
                return Err(TwimlError::Unsupported(name.into()));
            }
            _ => {
                return Err(TwimlError::Schema(format!(
                    "<{name}> is not allowed inside <Dial>"
                )));
            }
        }
    }
    let bare = bare.trim();
    let kinds = usize::from(!numbers.is_empty())
        + usize::from(other.is_some())
        + usize::from(!bare.is_empty());
    if kinds > 1 {
        return Err(TwimlError::Schema(
            "<Dial> mixes different kinds of targets".into(),
        ));
    }
    let target = if let Some(target) = other {
        target
    } else if !numbers.is_empty() {
        DialTarget::Number(numbers)
    } else if !bare.is_empty() {
        DialTarget::Number(vec![DialNumber {
            number: bare.to_owned(),
            url: None,
            status_callback: None,
            status_callback_event: Vec::new(),
        }])
    } else {
        return Err(TwimlError::Schema("<Dial> has nothing to dial".into()));
    };
    Ok(Verb::Dial {
        target,
        action: str_attr(node, "action"),
        method: method_attr(node, "method")?,
        timeout_secs: u32_attr(node, "timeout")?.unwrap_or(30),
        caller_id: str_attr(node, "callerId"),
        record: str_attr(node, "record"),
        time_limit_secs: u32_attr(node, "timeLimit")?,
        hangup_on_star: bool_attr(node, "hangupOnStar")?.unwrap_or(false),
    })
}

fn parse_conference(node: Node<'_, '_>, name: String) -> Result<ConferenceSpec, TwimlError> {
    let beep = str_attr(node, "beep").unwrap_or_else(|| "true".to_owned());
    if !["true", "false", "onEnter", "onExit"].contains(&beep.as_str()) {
        return Err(invalid_value(node, "beep", &beep));
    }
    Ok(ConferenceSpec {
        name,
        wait_url: str_attr(node, "waitUrl"),
        start_conference_on_enter: bool_attr(node, "startConferenceOnEnter")?.unwrap_or(true),
        end_conference_on_exit: bool_attr(node, "endConferenceOnExit")?.unwrap_or(false),
        beep,
        muted: bool_attr(node, "muted")?.unwrap_or(false),
        status_callback: str_attr(node, "statusCallback"),
        status_callback_event: list_attr(node, "statusCallbackEvent"),
    })
}

fn parse_connect(node: Node<'_, '_>) -> Result<Verb, TwimlError> {
    let mut stream = None;
    for child in node.children() {
        if top_level_child(child, "Connect")?.is_none() {
            continue;
        }
        match child.tag_name().name() {
            "Stream" => {
                if stream.is_some() {
                    return Err(TwimlError::Schema(
                        "<Connect> can hold only one <Stream>".into(),
                    ));
                }
                stream = Some(parse_stream(child)?);
            }
            "Room" | "Conversation" | "VirtualAgent" | "Autopilot" | "ConversationRelay" => {
                return Err(TwimlError::Unsupported(child.tag_name().name().into()));
            }
            other => {
                return Err(TwimlError::Schema(format!(
                    "<{other}> is not allowed inside <Connect>"
                )));
            }
        }
    }
    Ok(Verb::Connect { stream })
}

fn parse_stream(node: Node<'_, '_>) -> Result<StreamSpec, TwimlError> {
    let url = str_attr(node, "url")
        .ok_or_else(|| TwimlError::Schema("<Stream> needs a url attribute".into()))?;
    let mut parameters = Vec::new();
    for child in node.children() {
        if top_level_child(child, "Stream")?.is_none() {
            continue;
        }
        if child.tag_name().name() != "Parameter" {
            return Err(TwimlError::Schema(format!(
                "<{}> is not allowed inside <Stream>",
                child.tag_name().name()
            )));
        }
        let name = str_attr(child, "name")
            .ok_or_else(|| TwimlError::Schema("<Parameter> needs a name".into()))?;
        let value = child.attribute("value").unwrap_or("").to_owned();
        parameters.push((name, value));
    }
    Ok(StreamSpec {
        url,
        name: str_attr(node, "name"),
        track: str_attr(node, "track"),
        status_callback: str_attr(node, "statusCallback"),
        status_callback_method: method_attr(node, "statusCallbackMethod")?,
        parameters,
    })
}

/// All descendant text, trimmed (entities and CDATA already resolved).
fn text_of(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

fn str_attr(node: Node<'_, '_>, name: &str) -> Option<String> {
    node.attribute(name).map(str::to_owned)
}

fn list_attr(node: Node<'_, '_>, name: &str) -> Vec<String> {
    node.attribute(name)
        .map(|v| {
            v.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn invalid_value(node: Node<'_, '_>, attr: &str, value: &str) -> TwimlError {
    TwimlError::Schema(format!(
        "invalid value {value:?} for attribute {attr} of <{}>",
        node.tag_name().name()
    ))
}

fn u32_attr(node: Node<'_, '_>, name: &str) -> Result<Option<u32>, TwimlError> {
    node.attribute(name)
        .map(|v| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| invalid_value(node, name, v))
        })
        .transpose()
}

fn bool_attr(node: Node<'_, '_>, name: &str) -> Result<Option<bool>, TwimlError> {
    node.attribute(name)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(invalid_value(node, name, v)),
        })
        .transpose()
}

/// An HTTP method attribute: `GET` or `POST` (any case), default `POST`.
fn method_attr(node: Node<'_, '_>, name: &str) -> Result<String, TwimlError> {
    match node.attribute(name) {
        None => Ok("POST".to_owned()),
        Some(v) => match v.trim().to_ascii_uppercase().as_str() {
            m @ ("GET" | "POST") => Ok(m.to_owned()),
            _ => Err(invalid_value(node, name, v)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telephony::twiml::{StreamParameter, TwiML};

    fn one(xml: &str) -> Verb {
        let mut verbs = parse(xml).expect("valid TwiML");
        assert_eq!(verbs.len(), 1, "{verbs:?}");
        verbs.remove(0)
    }

    fn resp(body: &str) -> String {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{body}</Response>")
    }

    #[test]
    fn empty_response_is_no_verbs() {
        assert_eq!(parse("<Response/>").unwrap(), vec![]);
        assert_eq!(parse(&resp("\n  <!-- nothing -->\n")).unwrap(), vec![]);
    }

    #[test]
    fn say_defaults_and_attributes() {
        assert_eq!(
            one(&resp("<Say>Hello there</Say>")),
            Verb::Say {
                text: "Hello there".into(),
                voice: None,
                language: None,
                loop_count: 1
            }
        );
        assert_eq!(
            one(&resp(
                r#"<Say voice="Polly.Joanna" language="en-US" loop="0">Hi</Say>"#
            )),
            Verb::Say {
                text: "Hi".into(),
                voice: Some("Polly.Joanna".into()),
                language: Some("en-US".into()),
                loop_count: 0
            }
        );
    }

    #[test]
    fn say_resolves_entities_cdata_and_ssml_text() {
        let v = one(&resp(
            "<Say>Tom &amp; Jerry&apos;s <![CDATA[<shop> & more]]></Say>",
        ));
        assert!(matches!(v, Verb::Say { ref text, .. } if text == "Tom & Jerry's <shop> & more"));
        let v = one(&resp(
            r#"<Say>Hello <break time="1s"/><prosody rate="slow">world</prosody></Say>"#,
        ));
        assert!(matches!(v, Verb::Say { ref text, .. } if text == "Hello world"));
    }

    #[test]
    fn play_url_digits_and_loop() {
        assert_eq!(
            one(&resp("<Play loop=\"3\">https://example.com/a.mp3</Play>")),
            Verb::Play {
                url: Some("https://example.com/a.mp3".into()),
                loop_count: 3,
                digits: None
            }
        );
        assert_eq!(
            one(&resp(r#"<Play digits="ww1234#"/>"#)),
            Verb::Play {
                url: None,
                loop_count: 1,
                digits: Some("ww1234#".into())
            }
        );
        assert_eq!(parse(&resp("<Play/>")).unwrap_err().code(), 12200);
        assert_eq!(
            parse(&resp(r#"<Play digits="12x"/>"#)).unwrap_err().code(),
            12200
        );
    }

    #[test]
    fn pause_default_and_length() {
        assert_eq!(one(&resp("<Pause/>")), Verb::Pause { length_secs: 1 });
        assert_eq!(
            one(&resp(r#"<Pause length="7"/>"#)),
            Verb::Pause { length_secs: 7 }
        );
    }

    #[test]
    fn gather_defaults() {
        assert_eq!(
            one(&resp("<Gather/>")),
            Verb::Gather {
                input: vec![GatherInput::Dtmf],
                timeout_secs: 5,
                num_digits: None,
                finish_on_key: "#".into(),
                action: None,
                method: "POST".into(),
                speech_timeout: None,
                action_on_empty_result: false,
                nested: vec![],
            }
        );
    }

    #[test]
    fn gather_with_nested_prompts_and_attributes() {
        let v = one(&resp(
            r#"<Gather input="speech dtmf" timeout="3" numDigits="1" finishOnKey=""
                 action="/menu?x=1&amp;y=2" method="get" speechTimeout="auto"
                 actionOnEmptyResult="true">
                 <Say>Press one</Say><Pause length="2"/><Play>https://e.com/b.wav</Play>
               </Gather>"#,
        ));
        let Verb::Gather {
            input,
            timeout_secs,
            num_digits,
            finish_on_key,
            action,
            method,
            speech_timeout,
            action_on_empty_result,
            nested,
        } = v
        else {
            panic!("not a gather: {v:?}");
        };
        assert_eq!(input, vec![GatherInput::Speech, GatherInput::Dtmf]);
        assert_eq!(timeout_secs, 3);
        assert_eq!(num_digits, Some(1));
        assert_eq!(finish_on_key, "");
        assert_eq!(action.as_deref(), Some("/menu?x=1&y=2"));
        assert_eq!(method, "GET");
        assert_eq!(speech_timeout.as_deref(), Some("auto"));
        assert!(action_on_empty_result);
        assert_eq!(
            nested.iter().map(Verb::name).collect::<Vec<_>>(),
            ["Say", "Pause", "Play"]
        );
    }

    #[test]
    fn gather_refuses_other_nested_verbs_and_bad_input() {
        let e = parse(&resp("<Gather><Dial>+15551234567</Dial></Gather>")).unwrap_err();
        assert_eq!(e.code(), 12200);
        assert!(e.message().contains("Gather"), "{e}");
        let e = parse(&resp("<Gather><Gather/></Gather>")).unwrap_err();
        assert_eq!(e.code(), 12200);
        let e = parse(&resp(r#"<Gather input="telepathy"/>"#)).unwrap_err();
        assert_eq!(e.code(), 12200);
    }

    #[test]
    fn dial_bare_number_with_defaults() {
        assert_eq!(
            one(&resp("<Dial> +15551234567 </Dial>")),
            Verb::Dial {
                target: DialTarget::Number(vec![DialNumber {
                    number: "+15551234567".into(),
                    url: None,
                    status_callback: None,
                    status_callback_event: vec![],
                }]),
                action: None,
                method: "POST".into(),
                timeout_secs: 30,
                caller_id: None,
                record: None,
                time_limit_secs: None,
                hangup_on_star: false,
            }
        );
    }

    #[test]
    fn dial_numbers_with_attributes() {
        let v = one(&resp(
            r#"<Dial action="/dialed" method="GET" timeout="20" callerId="+15550000000"
                  record="record-from-answer" timeLimit="600" hangupOnStar="true">
                 <Number url="/whisper" statusCallback="/st"
                         statusCallbackEvent="initiated ringing answered completed">+15551111111</Number>
                 <Number>+15552222222</Number>
               </Dial>"#,
        ));
        let Verb::Dial {
            target: DialTarget::Number(numbers),
            action,
            method,
            timeout_secs,
            caller_id,
            record,
            time_limit_secs,
            hangup_on_star,
        } = v
        else {
            panic!("not a dial of numbers: {v:?}");
        };
        assert_eq!(numbers.len(), 2);
        assert_eq!(numbers[0].number, "+15551111111");
        assert_eq!(numbers[0].url.as_deref(), Some("/whisper"));
        assert_eq!(numbers[0].status_callback.as_deref(), Some("/st"));
        assert_eq!(
            numbers[0].status_callback_event,
            ["initiated", "ringing", "answered", "completed"]
        );
        assert_eq!(numbers[1].number, "+15552222222");
        assert_eq!(action.as_deref(), Some("/dialed"));
        assert_eq!(method, "GET");
        assert_eq!(timeout_secs, 20);
        assert_eq!(caller_id.as_deref(), Some("+15550000000"));
        assert_eq!(record.as_deref(), Some("record-from-answer"));
        assert_eq!(time_limit_secs, Some(600));
        assert!(hangup_on_star);
    }

    #[test]
    fn dial_conference_defaults_and_attributes() {
        let v = one(&resp("<Dial><Conference>Room 1</Conference></Dial>"));
        assert!(matches!(
            v,
            Verb::Dial { target: DialTarget::Conference(ConferenceSpec {
                ref name, wait_url: None, start_conference_on_enter: true,
                end_conference_on_exit: false, ref beep, muted: false, .. }), .. }
            if name == "Room 1" && beep == "true"
        ));
        let v = one(&resp(
            r#"<Dial><Conference waitUrl="" startConferenceOnEnter="false"
                 endConferenceOnExit="true" beep="onExit" muted="true"
                 statusCallback="/conf" statusCallbackEvent="start end join leave">support</Conference></Dial>"#,
        ));
        let Verb::Dial {
            target: DialTarget::Conference(c),
            ..
        } = v
        else {
            panic!("not a conference: {v:?}");
        };
        assert_eq!(c.wait_url.as_deref(), Some(""));
        assert!(!c.start_conference_on_enter);
        assert!(c.end_conference_on_exit);
        assert_eq!(c.beep, "onExit");
        assert!(c.muted);
        assert_eq!(c.status_callback.as_deref(), Some("/conf"));
        assert_eq!(c.status_callback_event, ["start", "end", "join", "leave"]);
        let e = parse(&resp(
            r#"<Dial><Conference beep="loud">x</Conference></Dial>"#,
        ))
        .unwrap_err();
        assert_eq!(e.code(), 12200);
    }

    #[test]
    fn dial_client_and_sip() {
        assert!(matches!(
            one(&resp("<Dial><Client>agent_7</Client></Dial>")),
            Verb::Dial { target: DialTarget::Client(ref c), .. } if c == "agent_7"
        ));
        assert!(matches!(
            one(&resp("<Dial><Sip>sip:bob@example.com</Sip></Dial>")),
            Verb::Dial { target: DialTarget::Sip(ref s), .. } if s == "sip:bob@example.com"
        ));
    }

    #[test]
    fn dial_refuses_empty_mixed_and_unknown_targets() {
        for body in [
            "<Dial/>",
            "<Dial>+1555<Client>x</Client></Dial>",
            "<Dial><Number>+1</Number><Conference>c</Conference></Dial>",
            "<Dial><Say>hi</Say></Dial>",
            r#"<Dial timeout="soon">+1555</Dial>"#,
            r#"<Dial hangupOnStar="yes">+1555</Dial>"#,
            r#"<Dial method="PUT">+1555</Dial>"#,
        ] {
            let e = parse(&resp(body)).unwrap_err();
            assert_eq!(e.code(), 12200, "{body}: {e}");
        }
        assert_eq!(
            parse(&resp("<Dial><Queue>q</Queue></Dial>")).unwrap_err(),
            TwimlError::Unsupported("Queue".into())
        );
    }

    #[test]
    fn connect_stream_with_parameters() {
        let v = one(&resp(
            r#"<Connect><Stream url="wss://h/twilio/media" name="s1" track="inbound_track"
                 statusCallback="/ss" statusCallbackMethod="GET">
                 <Parameter name="a" value="1"/><Parameter name="b" value="x &amp; y"/>
               </Stream></Connect>"#,
        ));
        assert_eq!(
            v,
            Verb::Connect {
                stream: Some(StreamSpec {
                    url: "wss://h/twilio/media".into(),
                    name: Some("s1".into()),
                    track: Some("inbound_track".into()),
                    status_callback: Some("/ss".into()),
                    status_callback_method: "GET".into(),
                    parameters: vec![("a".into(), "1".into()), ("b".into(), "x & y".into())],
                })
            }
        );
        assert_eq!(
            parse(&resp("<Connect><Stream/></Connect>"))
                .unwrap_err()
                .code(),
            12200
        );
        assert_eq!(
            parse(&resp(
                r#"<Connect><Stream url="u"><Say>x</Say></Stream></Connect>"#
            ))
            .unwrap_err()
            .code(),
            12200
        );
    }

    #[test]
    fn round_trips_what_the_product_builds() {
        let xml = TwiML::new()
            .say("Tom & Jerry's <shop>")
            .pause(2)
            .connect_stream(
                "wss://example.com/twilio/media?a=1&b=2",
                Some("https://example.com/twilio/stream-status"),
                &[
                    StreamParameter {
                        name: "callSid".into(),
                        value: "CA\"x".into(),
                    },
                    StreamParameter {
                        name: "agent".into(),
                        value: "it's <ok>".into(),
                    },
                ],
            )
            .hangup()
            .build();
        let verbs = parse(&xml).unwrap();
        assert_eq!(
            verbs,
            vec![
                Verb::Say {
                    text: "Tom & Jerry's <shop>".into(),
                    voice: None,
                    language: None,
                    loop_count: 1
                },
                Verb::Pause { length_secs: 2 },
                Verb::Connect {
                    stream: Some(StreamSpec {
                        url: "wss://example.com/twilio/media?a=1&b=2".into(),
                        name: None,
                        track: None,
                        status_callback: Some("https://example.com/twilio/stream-status".into()),
                        status_callback_method: "POST".into(),
                        parameters: vec![
                            ("callSid".into(), "CA\"x".into()),
                            ("agent".into(), "it's <ok>".into()),
                        ],
                    })
                },
                Verb::Hangup,
            ]
        );
    }

    #[test]
    fn record_defaults_and_attributes() {
        assert_eq!(
            one(&resp("<Record/>")),
            Verb::Record {
                action: None,
                method: "POST".into(),
                max_length_secs: 3600,
                timeout_secs: 5,
                finish_on_key: "1234567890*#".into(),
                play_beep: true,
                recording_status_callback: None,
                transcribe: false,
            }
        );
        assert_eq!(
            one(&resp(
                r##"<Record action="/rec" method="GET" maxLength="30" timeout="2" finishOnKey="#"
                     playBeep="false" recordingStatusCallback="/rs" transcribe="true"/>"##
            )),
            Verb::Record {
                action: Some("/rec".into()),
                method: "GET".into(),
                max_length_secs: 30,
                timeout_secs: 2,
                finish_on_key: "#".into(),
                play_beep: false,
                recording_status_callback: Some("/rs".into()),
                transcribe: true,
            }
        );
    }

    #[test]
    fn redirect_hangup_reject() {
        let verbs = parse(&resp(
            r#"<Redirect>/next</Redirect><Redirect method="GET">https://e.com/x</Redirect>
               <Reject/><Reject reason="busy"/><Hangup/>"#,
        ))
        .unwrap();
        assert_eq!(
            verbs,
            vec![
                Verb::Redirect {
                    url: "/next".into(),
                    method: "POST".into()
                },
                Verb::Redirect {
                    url: "https://e.com/x".into(),
                    method: "GET".into()
                },
                Verb::Reject {
                    reason: "rejected".into()
                },
                Verb::Reject {
                    reason: "busy".into()
                },
                Verb::Hangup,
            ]
        );
        assert_eq!(
            parse(&resp(r#"<Reject reason="nope"/>"#))
                .unwrap_err()
                .code(),
            12200
        );
        assert_eq!(parse(&resp("<Redirect/>")).unwrap_err().code(), 12200);
    }

    #[test]
    fn enqueue_leave_minimal_and_unsupported_verbs() {
        assert_eq!(
            one(&resp(r#"<Enqueue waitUrl="/wait">support</Enqueue>"#)),
            Verb::Enqueue {
                queue_name: "support".into(),
                action: None,
                method: "POST".into(),
                wait_url: Some("/wait".into()),
            }
        );
        assert_eq!(one(&resp("<Leave/>")), Verb::Leave);
        for verb in ["Start", "Stop", "Sms"] {
            let e = parse(&resp(&format!("<{verb}/>"))).unwrap_err();
            assert_eq!(e, TwimlError::Unsupported(verb.into()));
            assert_eq!(e.code(), 12200);
        }
    }

    #[test]
    fn invalid_documents_are_12100() {
        for xml in [
            "",
            "not xml at all",
            "<Response><Say>unclosed</Response>",
            "<Response><Say>a & b</Say></Response>",
            "<Foo><Say>x</Say></Foo>",
            "<response/>",
        ] {
            let e = parse(xml).unwrap_err();
            assert_eq!(e.code(), 12100, "{xml:?}: {e}");
            assert!(e.to_string().contains("Document parse failure"));
        }
    }

    #[test]
    fn schema_errors_are_12200() {
        for body in [
            "<Shout>hi</Shout>",
            "<say>lowercase verbs are unknown</say>",
            "stray text",
            r#"<Pause length="-1"/>"#,
            r#"<Say loop="many">x</Say>"#,
            r#"<Record playBeep="maybe"/>"#,
        ] {
            let e = parse(&resp(body)).unwrap_err();
            assert_eq!(e.code(), 12200, "{body:?}: {e}");
            assert!(e.to_string().contains("Schema validation warning"));
        }
    }

    #[test]
    fn unknown_attributes_are_ignored() {
        assert_eq!(
            one(&resp(r#"<Pause length="2" flavour="mint"/>"#)),
            Verb::Pause { length_secs: 2 }
        );
    }
}
