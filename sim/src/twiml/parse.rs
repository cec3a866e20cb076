//! The parsers: one per verb, and the attribute readers with Twilio's rules.

use roxmltree::{Document, Node};

use super::{
    ConferenceSpec, Connect, Dial, DialNumber, DialTarget, Enqueue, Gather, GatherInput, Pause,
    Play, Record, Redirect, Reject, Say, StreamSpec, TwimlError, Verb,
};

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
    Ok(match node.tag_name().name() {
        "Say" => Verb::Say(parse_say(node)?),
        "Play" => Verb::Play(parse_play(node)?),
        "Pause" => Verb::Pause(Pause {
            length_secs: u32_attr(node, "length")?.unwrap_or(1),
        }),
        "Gather" => Verb::Gather(parse_gather(node)?),
        "Dial" => Verb::Dial(parse_dial(node)?),
        "Connect" => Verb::Connect(parse_connect(node)?),
        "Record" => Verb::Record(parse_record(node)?),
        "Redirect" => Verb::Redirect(parse_redirect(node)?),
        "Hangup" => Verb::Hangup,
        "Reject" => Verb::Reject(parse_reject(node)?),
        "Enqueue" => Verb::Enqueue(parse_enqueue(node)?),
        "Leave" => Verb::Leave,
        other if UNSUPPORTED_VERBS.contains(&other) => {
            return Err(TwimlError::Unsupported(other.into()));
        }
        other => return Err(TwimlError::Schema(format!("unknown verb <{other}>"))),
    })
}

fn parse_say(node: Node<'_, '_>) -> Result<Say, TwimlError> {
    Ok(Say {
        text: text_of(node),
        voice: str_attr(node, "voice"),
        language: str_attr(node, "language"),
        loop_count: u32_attr(node, "loop")?.unwrap_or(1),
    })
}

fn parse_play(node: Node<'_, '_>) -> Result<Play, TwimlError> {
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
    Ok(Play {
        url,
        loop_count: u32_attr(node, "loop")?.unwrap_or(1),
        digits,
    })
}

/// `input`: `dtmf` and/or `speech`, space-separated; default (or empty) `dtmf`.
fn gather_input(node: Node<'_, '_>) -> Result<Vec<GatherInput>, TwimlError> {
    let Some(raw) = str_attr(node, "input") else {
        return Ok(vec![GatherInput::Dtmf]);
    };
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
        input.push(GatherInput::Dtmf);
    }
    Ok(input)
}

fn parse_gather(node: Node<'_, '_>) -> Result<Gather, TwimlError> {
    let input = gather_input(node)?;
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
    Ok(Gather {
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

fn parse_dial(node: Node<'_, '_>) -> Result<Dial, TwimlError> {
    Ok(Dial {
        target: dial_target(node)?,
        action: str_attr(node, "action"),
        method: method_attr(node, "method")?,
        timeout_secs: u32_attr(node, "timeout")?.unwrap_or(30),
        caller_id: str_attr(node, "callerId"),
        record: str_attr(node, "record"),
        time_limit_secs: u32_attr(node, "timeLimit")?,
        hangup_on_star: bool_attr(node, "hangupOnStar")?.unwrap_or(false),
    })
}

/// What a `<Dial>` holds: its `<Number>`s, one other noun, and bare text.
#[derive(Default)]
struct DialChildren {
    numbers: Vec<DialNumber>,
    other: Option<DialTarget>,
    bare: String,
}

/// Whom the `<Dial>` calls: `<Number>`s, one `<Conference>` / `<Client>` / `<Sip>`, or a
/// bare number, never a mix.
fn dial_target(node: Node<'_, '_>) -> Result<DialTarget, TwimlError> {
    let mut children = DialChildren::default();
    for child in node.children() {
        if child.is_text() {
            children.bare.push_str(child.text().unwrap_or(""));
        } else if child.is_element() {
            dial_child(child, &mut children)?;
        }
    }
    let DialChildren {
        numbers,
        other,
        bare,
    } = children;
    let bare = bare.trim();
    let kinds = usize::from(!numbers.is_empty())
        + usize::from(other.is_some())
        + usize::from(!bare.is_empty());
    if kinds > 1 {
        return Err(TwimlError::Schema(
            "<Dial> mixes different kinds of targets".into(),
        ));
    }
    match other {
        Some(target) => Ok(target),
        None if !numbers.is_empty() => Ok(DialTarget::Number(numbers)),
        None if !bare.is_empty() => Ok(DialTarget::Number(vec![DialNumber {
            number: bare.to_owned(),
            url: None,
            status_callback: None,
            status_callback_event: Vec::new(),
        }])),
        None => Err(TwimlError::Schema("<Dial> has nothing to dial".into())),
    }
}

fn dial_child(child: Node<'_, '_>, into: &mut DialChildren) -> Result<(), TwimlError> {
    let name = child.tag_name().name();
    match name {
        "Number" => {
            let number = text_of(child);
            if number.is_empty() {
                return Err(TwimlError::Schema("<Number> needs a phone number".into()));
            }
            into.numbers.push(DialNumber {
                number,
                url: str_attr(child, "url"),
                status_callback: str_attr(child, "statusCallback"),
                status_callback_event: list_attr(child, "statusCallbackEvent"),
            });
        }
        "Conference" | "Client" | "Sip" => {
            if into.other.is_some() {
                return Err(TwimlError::Schema(format!(
                    "<Dial> can hold only one <{name}>"
                )));
            }
            let text = text_of(child);
            if text.is_empty() {
                return Err(TwimlError::Schema(format!("<{name}> needs a value")));
            }
            into.other = Some(match name {
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
    Ok(())
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

fn parse_connect(node: Node<'_, '_>) -> Result<Connect, TwimlError> {
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
    Ok(Connect { stream })
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

fn parse_record(node: Node<'_, '_>) -> Result<Record, TwimlError> {
    Ok(Record {
        action: str_attr(node, "action"),
        method: method_attr(node, "method")?,
        max_length_secs: u32_attr(node, "maxLength")?.unwrap_or(3600),
        timeout_secs: u32_attr(node, "timeout")?.unwrap_or(5),
        finish_on_key: str_attr(node, "finishOnKey").unwrap_or_else(|| "1234567890*#".to_owned()),
        play_beep: bool_attr(node, "playBeep")?.unwrap_or(true),
        recording_status_callback: str_attr(node, "recordingStatusCallback"),
        transcribe: bool_attr(node, "transcribe")?.unwrap_or(false),
    })
}

fn parse_redirect(node: Node<'_, '_>) -> Result<Redirect, TwimlError> {
    let url = text_of(node);
    if url.is_empty() {
        return Err(TwimlError::Schema("<Redirect> needs a URL".into()));
    }
    Ok(Redirect {
        url,
        method: method_attr(node, "method")?,
    })
}

fn parse_reject(node: Node<'_, '_>) -> Result<Reject, TwimlError> {
    let reason = str_attr(node, "reason").unwrap_or_else(|| "rejected".to_owned());
    if reason != "rejected" && reason != "busy" {
        return Err(invalid_value(node, "reason", &reason));
    }
    Ok(Reject { reason })
}

fn parse_enqueue(node: Node<'_, '_>) -> Result<Enqueue, TwimlError> {
    let queue_name = text_of(node);
    if queue_name.is_empty() {
        return Err(TwimlError::Schema("<Enqueue> needs a queue name".into()));
    }
    Ok(Enqueue {
        queue_name,
        action: str_attr(node, "action"),
        method: method_attr(node, "method")?,
        wait_url: str_attr(node, "waitUrl"),
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
