//! A rule-based receptionist that stands in for the LLM when no provider is configured.
//!
//! [`RuleDialog::reply`] is a pure function of the conversation so far: the history is the
//! state. It replays every user turn and tool result through a small state machine (message
//! draft, what the agent last asked) and answers the last one, so the same history always gives
//! the same reply, and tool call ids (`rules_<messages so far>`) are unique within a call and
//! stable across activity retries.
//!
//! What it understands:
//! - taking a message with slot filling (who it is for, the caller's name, a callback number,
//!   the message): `take_message` runs as soon as the last detail is in, and the agent reads
//!   the saved message back for confirmation; a correction ("no, the number is …") saves it
//!   again with `replaces` set to the first message's id, so one message row holds the result;
//! - questions, answered from the best `lookup_knowledge` hit verbatim, never invented;
//! - "speak to / transfer me to / put me through to X" → `transfer_call`, and when transfers
//!   are not available an offer to take a message for X;
//! - yes/no in context, "repeat that", greetings and small talk, goodbyes → `end_call`;
//! - keypad presses (`[caller pressed 1]`) against a menu declared in the agent's instructions;
//! - a callback number that does not hang on speech recognition: with caller ID the agent
//!   offers it ("is the number you're calling from, ending 0199, the best one?"), after one
//!   failed spoken attempt it offers the keypad, keyed digits (`[caller pressed 4155550100#]`)
//!   fill the number, it reads numbers back in groups ("four one five, five five five, …") and
//!   the caller can correct one group ("the last four digits are 0101"). With no caller ID
//!   (`Caller ID: withheld`) it never offers the shortcut and mentions the keypad at once.
//!
//! # Agent instructions it reads (optional)
//!
//! The system message (the agent's instructions) may contain, one per line:
//!
//! ```text
//! Greeting: Thanks for calling Acme, how can I help?
//! Press 1: billing
//! Press 2 for the front desk
//! Caller ID: +14155550199
//! ```
//!
//! `Press <key>: <department>` (or `Press <key> for <department>`; key `0`–`9`, `*` or `#`,
//! optionally bulleted with `-` or `*`) declares a keypad menu: pressing the key offers to take
//! a message for that department. `Greeting:` is what the agent says back to a bare "hello".
//! `Caller ID:` (an E.164 number, or `withheld`) is added by the `llm_turn` activity.

mod extract;
mod lexicon;
mod speak;
mod utterance;

use domain::conversation::{ChatMessage, ChatRole, ChatToolCall, ToolName};
use extract::capitalize;
use lexicon::{
    CANCEL, GREETINGS, NAME_LEADS, NOT_NAMES, SAME_NUMBER, STRONG_GOODBYES, WEAK_GOODBYES,
};
use serde_json::{Value, json};
use speak::{speak_digits, speak_number};
use utterance::{Utterance, clean_target};

/// The rule-based dialog policy. Stateless: everything it knows comes from the history.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleDialog;

impl RuleDialog {
    pub fn new() -> Self {
        Self
    }

    /// The assistant's next message: text to speak, or one tool call.
    pub fn reply(&self, messages: &[ChatMessage]) -> ChatMessage {
        let agent = AgentHints::parse(messages);
        let mut state = State {
            caller_number: match &agent.caller_id {
                CallerHint::Number(n) => Some(n.clone()),
                CallerHint::Withheld | CallerHint::Unknown => None,
            },
            caller_withheld: agent.caller_id == CallerHint::Withheld,
            ..State::default()
        };
        let mut action = None;
        for (i, m) in messages.iter().enumerate() {
            let content = m.content.as_deref().unwrap_or("");
            match m.role {
                ChatRole::User => action = Some(step_user(&agent, &mut state, content)),
                ChatRole::Tool => {
                    let call = m
                        .tool_call_id
                        .as_deref()
                        .and_then(|id| find_call(&messages[..i], id));
                    action = Some(match call {
                        Some(call) => step_tool(&mut state, call, content),
                        None => Action::Say(HOW_CAN_I_HELP.into()),
                    });
                }
                ChatRole::System | ChatRole::Assistant => action = None,
            }
        }
        match action {
            Some(Action::Say(text)) => ChatMessage::assistant(text),
            Some(Action::Silent) => ChatMessage::assistant(""),
            Some(Action::Repeat) => ChatMessage::assistant(last_said(messages, &agent)),
            Some(Action::Call(tool, args)) => ChatMessage {
                role: ChatRole::Assistant,
                content: None,
                tool_calls: vec![ChatToolCall {
                    id: format!("rules_{}", messages.len()),
                    name: tool.as_str().into(),
                    arguments: args.to_string(),
                }],
                tool_call_id: None,
            },
            None => ChatMessage::assistant(
                agent
                    .greeting
                    .clone()
                    .unwrap_or_else(|| HOW_CAN_I_HELP.into()),
            ),
        }
    }
}

/// The system prompt line that carries the caller ID: `Caller ID: +14155550199` or
/// `Caller ID: withheld`.
pub const CALLER_ID_LINE: &str = "Caller ID:";

const HOW_CAN_I_HELP: &str = "How can I help you today?";
const KEYPAD_HINT: &str = "You can also key it in, followed by the pound key.";
const CAPABILITIES: &str =
    "I can answer questions, take a message, or try to put you through to someone.";
const ANYTHING_ELSE: &str = "Is there anything else I can help with?";
const GOODBYE: &str = "Thank you for calling. Goodbye!";
const NO_INFORMATION: &str =
    "I'm sorry, I don't have that information. Would you like to leave a message?";

/// What the agent's instructions declare for this policy.
#[derive(Debug, Default)]
struct AgentHints {
    greeting: Option<String>,
    /// Keypad key → department.
    menu: Vec<(char, String)>,
    caller_id: CallerHint,
}

/// What the `Caller ID:` line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum CallerHint {
    /// No line (or a history from before it was added).
    #[default]
    Unknown,
    /// An E.164 number.
    Number(String),
    Withheld,
}

impl AgentHints {
    fn parse(messages: &[ChatMessage]) -> Self {
        let mut hints = Self::default();
        let Some(system) = messages
            .iter()
            .find(|m| m.role == ChatRole::System)
            .and_then(|m| m.content.as_deref())
        else {
            return hints;
        };
        for line in system.lines() {
            let line = line.trim().trim_start_matches(['-', '*', '•']).trim();
            let lower = line.to_lowercase();
            if let Some(rest) = lower.strip_prefix(&CALLER_ID_LINE.to_lowercase()) {
                let value = rest.trim();
                let is_number = value.strip_prefix('+').is_some_and(|d| {
                    (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())
                });
                hints.caller_id = if is_number {
                    CallerHint::Number(value.to_owned())
                } else {
                    CallerHint::Withheld
                };
            } else if let Some(rest) = lower.strip_prefix("greeting:") {
                let text = line[line.len() - rest.len()..].trim();
                if !text.is_empty() && hints.greeting.is_none() {
                    hints.greeting = Some(text.to_owned());
                }
            } else if let Some(rest) = lower.strip_prefix("press ") {
                let rest_orig = line[line.len() - rest.len()..].trim_start();
                let mut chars = rest_orig.chars();
                let Some(key) = chars
                    .next()
                    .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#'))
                else {
                    continue;
                };
                let after = chars.as_str().trim_start();
                let label = if let Some(l) = after.strip_prefix(':') {
                    l
                } else if after.to_lowercase().starts_with("for ") {
                    &after[4..]
                } else {
                    continue;
                };
                let label = label.trim().trim_end_matches('.').trim();
                if !label.is_empty() && !hints.menu.iter().any(|(k, _)| *k == key) {
                    hints.menu.push((key, label.to_owned()));
                }
            }
        }
        hints
    }
}

/// A message being taken.
#[derive(Debug, Clone, Default, PartialEq)]
struct Draft {
    for_whom: Option<String>,
    caller_name: Option<String>,
    /// Digits only.
    callback_number: Option<String>,
    /// The caller said there is no number to call back on.
    number_declined: bool,
    message: Option<String>,
}

impl Draft {
    fn missing(&self) -> Option<Slot> {
        if self.for_whom.is_none() {
            Some(Slot::ForWhom)
        } else if self.caller_name.is_none() {
            Some(Slot::Name)
        } else if self.callback_number.is_none() && !self.number_declined {
            Some(Slot::Number)
        } else if self.message.is_none() {
            Some(Slot::Message)
        } else {
            None
        }
    }

    /// "for the billing team, from Jordan, callback number four one five, five five five, zero one zero zero, saying: "…"".
    fn details(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.for_whom {
            parts.push(format!("for {f}"));
        }
        if let Some(n) = &self.caller_name {
            parts.push(format!("from {n}"));
        }
        parts.push(match &self.callback_number {
            Some(number) => format!("callback number {}", speak_number(number)),
            None => "with no callback number".to_owned(),
        });
        if let Some(m) = &self.message {
            parts.push(format!("saying: \"{}\"", m.trim_end_matches(['.', '!'])));
        }
        parts.join(", ")
    }

    fn tool_arguments(&self) -> Value {
        let mut args = json!({
            "caller_name": self.caller_name.clone().unwrap_or_default(),
            "message": self.message.clone().unwrap_or_default(),
        });
        if let Some(f) = &self.for_whom {
            args["for_whom"] = json!(f);
        }
        if let Some(n) = &self.callback_number {
            args["callback_number"] = json!(n);
        }
        args
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    ForWhom,
    Name,
    Number,
    Message,
}

impl Slot {
    fn prompt(self) -> &'static str {
        match self {
            Slot::ForWhom => "Who is the message for?",
            Slot::Name => "May I have your name, please?",
            Slot::Number => "What's the best number to call you back on?",
            Slot::Message => "What would you like the message to say?",
        }
    }
}

/// What the agent is waiting for.
#[derive(Debug, Clone, Default, PartialEq)]
enum Pending {
    #[default]
    Nothing,
    /// A slot of the draft.
    Slot(Slot),
    /// Yes/no on the read-back of the saved message.
    Confirm,
    /// Yes/no on "shall I try saving it again?".
    RetrySave,
    /// Which part of the draft to change.
    Change,
    /// Yes/no on "would you like to leave a message (for X)?".
    OfferMessage(Option<String>),
    /// Yes/no on "is the number you're calling from, ending 0199, the best one?".
    OfferCallerId,
    /// The caller is keying in the callback number; the digits so far are in `State::keyed`.
    KeyingNumber,
    /// After "anything else?": a no ends the call.
    AnythingElse,
    /// Who to transfer to.
    TransferTarget,
    /// `end_call` ran.
    Ended,
}

#[derive(Debug, Clone, Default)]
struct State {
    draft: Option<Draft>,
    /// The draft's message as `take_message` saved it, while the caller may still correct it.
    saved: Option<Saved>,
    pending: Pending,
    /// The caller ID (E.164), when the call has one.
    caller_number: Option<String>,
    /// The caller withheld their number: never offer the caller-ID shortcut.
    caller_withheld: bool,
    /// The caller-ID offer was made once this call.
    caller_id_offered: bool,
    /// Keys pressed for the callback number so far.
    keyed: String,
}

#[derive(Debug, Clone)]
struct Saved {
    message_id: String,
    draft: Draft,
}

impl State {
    /// The message is settled (confirmed, cancelled or sent): forget the draft.
    fn close_draft(&mut self) {
        self.draft = None;
        self.saved = None;
    }
}

enum Action {
    Say(String),
    /// Say nothing (the caller is keying in digits).
    Silent,
    Repeat,
    Call(ToolName, Value),
}

fn say(text: impl Into<String>) -> Action {
    Action::Say(text.into())
}

fn find_call<'a>(messages: &'a [ChatMessage], id: &str) -> Option<&'a ChatToolCall> {
    messages
        .iter()
        .rev()
        .filter(|m| m.role == ChatRole::Assistant)
        .flat_map(|m| m.tool_calls.iter())
        .find(|c| c.id == id)
}

/// The last thing the agent said, for "say that again".
fn last_said(messages: &[ChatMessage], agent: &AgentHints) -> String {
    messages
        .iter()
        .rev()
        .filter(|m| m.role == ChatRole::Assistant)
        .find_map(|m| {
            m.content
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
        })
        .map(str::to_owned)
        .or_else(|| agent.greeting.clone())
        .unwrap_or_else(|| HOW_CAN_I_HELP.into())
}

// ---------------------------------------------------------------------------------------------
// Tool results

fn step_tool(state: &mut State, call: &ChatToolCall, output: &str) -> Action {
    let result: Value = serde_json::from_str(output).unwrap_or(Value::Null);
    let args: Value = serde_json::from_str(&call.arguments).unwrap_or(Value::Null);
    let ok = result.get("ok").and_then(Value::as_bool);
    match ToolName::parse(&call.name) {
        Some(ToolName::EndCall) => {
            state.pending = Pending::Ended;
            state.close_draft();
            say(GOODBYE)
        }
        Some(ToolName::LookupKnowledge) => {
            let answer = result
                .get("results")
                .and_then(Value::as_array)
                .and_then(|hits| hits.first())
                .and_then(|hit| hit.get("answer"))
                .and_then(Value::as_str)
                .map(short_answer)
                .filter(|a| !a.is_empty());
            match (answer, state.draft.clone()) {
                (Some(answer), Some(draft)) => {
                    // A question in the middle of a message: answer, then carry on.
                    let resume = resume_draft(state, draft);
                    prefixed(format!("{answer} Now, back to your message."), resume)
                }
                (Some(answer), None) => {
                    state.pending = Pending::Nothing;
                    say(answer)
                }
                (None, Some(draft)) => {
                    let resume = resume_draft(state, draft);
                    prefixed(
                        "I'm sorry, I don't have that information. Back to your message.",
                        resume,
                    )
                }
                (None, None) => {
                    state.pending = Pending::OfferMessage(None);
                    say(NO_INFORMATION)
                }
            }
        }
        Some(ToolName::TakeMessage) => {
            let message_id = result.get("message_id").and_then(Value::as_str);
            match (ok, message_id, state.draft.clone()) {
                (Some(true), Some(id), Some(draft)) => {
                    let replaced = args.get("replaces").is_some();
                    state.saved = Some(Saved {
                        message_id: id.to_owned(),
                        draft: draft.clone(),
                    });
                    state.pending = Pending::Confirm;
                    let details = draft.details();
                    say(if replaced {
                        format!("Thanks, I've updated your message: {details}. Is that right now?")
                    } else {
                        let thanks = match &draft.caller_name {
                            Some(n) => format!("Thanks {n}"),
                            None => "Thank you".into(),
                        };
                        format!("{thanks}, I've taken your message {details}. Is that correct?")
                    })
                }
                (Some(true), _, _) => {
                    // Saved, but not a draft of ours (or no id to correct it by).
                    state.close_draft();
                    state.pending = Pending::AnythingElse;
                    say(format!(
                        "Thank you, I've passed your message on. {ANYTHING_ELSE}"
                    ))
                }
                _ => {
                    state.pending = if state.draft.is_some() {
                        Pending::RetrySave
                    } else {
                        Pending::Nothing
                    };
                    say("I'm sorry, I couldn't save your message just now. Shall I try again?")
                }
            }
        }
        Some(ToolName::TransferCall) => {
            let target = text_arg(&args, "target");
            if ok == Some(true) {
                state.pending = Pending::Nothing;
                return say("Please hold while I put you through.");
            }
            let text = match &target {
                Some(t) => format!(
                    "I'm sorry, I can't transfer calls yet. Would you like to leave a message for {t}?"
                ),
                None => "I'm sorry, I can't transfer calls yet. Would you like to leave a message?"
                    .to_owned(),
            };
            state.pending = Pending::OfferMessage(target);
            say(text)
        }
        None => {
            state.pending = Pending::Nothing;
            say(format!("I'm sorry, something went wrong. {HOW_CAN_I_HELP}"))
        }
    }
}

fn text_arg(args: &Value, key: &str) -> Option<String> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// At most two sentences of a knowledge base answer, word for word.
fn short_answer(answer: &str) -> String {
    let answer = answer.trim();
    let mut end = answer.len();
    let mut sentences = 0;
    let bytes = answer.as_bytes();
    for (i, c) in answer.char_indices() {
        if matches!(c, '.' | '!' | '?') && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace())
        {
            sentences += 1;
            if sentences == 2 {
                end = i + 1;
                break;
            }
        }
    }
    answer[..end].to_owned()
}

// ---------------------------------------------------------------------------------------------
// User turns

fn step_user(agent: &AgentHints, state: &mut State, text: &str) -> Action {
    let text = text.trim();
    let u = Utterance::new(text);
    if u.tokens.is_empty() && !text.starts_with('[') {
        return say(format!("Sorry, I didn't catch that. {HOW_CAN_I_HELP}"));
    }
    if u.is_repeat_request() {
        return Action::Repeat;
    }
    if let Some(keys) = dtmf_keys(text) {
        return step_keys(agent, state, &keys);
    }
    if state.pending == Pending::KeyingNumber {
        // Speaking instead of keying: the number is asked for again, by voice.
        state.keyed.clear();
        state.pending = Pending::Slot(Slot::Number);
    }
    if state.pending == Pending::Ended || u.has_any(STRONG_GOODBYES) {
        return end_call(state);
    }
    if state.draft.is_some() && u.has_any(CANCEL) {
        let already_saved = state.saved.is_some();
        state.close_draft();
        state.pending = Pending::AnythingElse;
        return say(if already_saved {
            format!(
                "All right. It's already been passed on, so I'll leave it there. {ANYTHING_ELSE}"
            )
        } else {
            format!("No problem, I won't send it. {ANYTHING_ELSE}")
        });
    }
    let yes_no = u.yes_no();
    match state.pending.clone() {
        Pending::Confirm => {
            let mut draft = state.draft.clone().unwrap_or_default();
            if let Some(number) = corrected_part(&draft, &u) {
                draft.callback_number = Some(number);
                return resume_draft(state, draft);
            }
            let changed = fill_from(&mut draft, &u, None);
            if changed {
                return resume_draft(state, draft);
            }
            match yes_no {
                Some(true) => return confirmed(state, &draft),
                Some(false) => {
                    state.pending = Pending::Change;
                    return say(
                        "No problem. What would you like to change: who it's for, your name, the \
                         number, or the message?",
                    );
                }
                None => {}
            }
        }
        Pending::Change => {
            let mut draft = state.draft.clone().unwrap_or_default();
            if let Some(number) = corrected_part(&draft, &u) {
                draft.callback_number = Some(number);
                return resume_draft(state, draft);
            }
            if fill_from(&mut draft, &u, None) {
                return resume_draft(state, draft);
            }
            let field = if u.has_any(&["name"]) {
                Some(Slot::Name)
            } else if u.has_any(&["number", "phone"]) {
                Some(Slot::Number)
            } else if u.has_any(&["message", "text", "wording"]) {
                Some(Slot::Message)
            } else if u.has_any(&["who", "for", "recipient", "person", "team", "department"]) {
                Some(Slot::ForWhom)
            } else {
                None
            };
            if let Some(field) = field {
                match field {
                    Slot::Name => draft.caller_name = None,
                    Slot::Number => {
                        draft.callback_number = None;
                        draft.number_declined = false;
                    }
                    Slot::Message => draft.message = None,
                    Slot::ForWhom => draft.for_whom = None,
                }
                state.draft = Some(draft);
                state.pending = Pending::Slot(field);
                return say(format!("Sure. {}", field.prompt()));
            }
            if yes_no == Some(true) || u.has_any(&["nothing", "it's fine", "that's fine"]) {
                return resume_draft(state, draft);
            }
            return say(
                "Sorry, which part should I change: who it's for, your name, the number, or the \
                 message?",
            );
        }
        Pending::OfferCallerId => {
            let mut draft = state.draft.clone().unwrap_or_default();
            if u.phone_number().is_some() {
                fill_from(&mut draft, &u, None);
                return resume_draft(state, draft);
            }
            if yes_no == Some(true) || (yes_no.is_none() && u.has_any(SAME_NUMBER)) {
                draft.callback_number = state.caller_number.clone();
                draft.number_declined = false;
                return resume_draft(state, draft);
            }
            if yes_no == Some(false) {
                state.draft = Some(draft);
                state.pending = Pending::Slot(Slot::Number);
                return say(format!("No problem. {}", Slot::Number.prompt()));
            }
        }
        Pending::Slot(Slot::Number)
            if state.caller_number.is_some()
                && u.phone_number().is_none()
                && u.has_any(SAME_NUMBER) =>
        {
            let mut draft = state.draft.clone().unwrap_or_default();
            draft.callback_number = state.caller_number.clone();
            draft.number_declined = false;
            return resume_draft(state, draft);
        }
        Pending::Slot(slot) => {
            let mut draft = state.draft.clone().unwrap_or_default();
            match fill_slot(&mut draft, slot, &u) {
                None => return resume_draft(state, draft),
                // Not an answer but a question of its own: answer it, then carry on.
                Some(_) if u.is_question() => {}
                Some(reply) => {
                    state.draft = Some(draft);
                    return say(reply);
                }
            }
        }
        Pending::RetrySave => {
            if yes_no == Some(true) {
                let draft = state.draft.clone().unwrap_or_default();
                return resume_draft(state, draft);
            }
            if yes_no == Some(false) {
                state.close_draft();
                state.pending = Pending::AnythingElse;
                return say(format!("I'm sorry about that. {ANYTHING_ELSE}"));
            }
        }
        Pending::OfferMessage(for_whom) => {
            if u.has_message_intent() || yes_no == Some(true) {
                let draft = Draft {
                    for_whom: for_whom.clone(),
                    ..Draft::default()
                };
                return start_message(state, draft, &u);
            }
            if (yes_no == Some(false) || u.has_any(WEAK_GOODBYES)) && !u.has_other_intent() {
                state.pending = Pending::AnythingElse;
                return say(format!("All right. {ANYTHING_ELSE}"));
            }
        }
        Pending::AnythingElse => {
            if yes_no == Some(false) && !u.has_other_intent() {
                return end_call(state);
            }
            if yes_no == Some(true) && u.tokens.len() <= 2 {
                state.pending = Pending::Nothing;
                return say("Sure, what can I help you with?");
            }
        }
        Pending::TransferTarget => {
            if !u.has_message_intent() && yes_no.is_none() && !u.is_question() {
                let target = clean_target(&u.words_from(0));
                if !target.is_empty() {
                    return transfer(state, target);
                }
            }
        }
        Pending::KeyingNumber | Pending::Nothing | Pending::Ended => {}
    }

    // No context claimed the turn: what does the caller want?
    if u.has_any(WEAK_GOODBYES) {
        return end_call(state);
    }
    if u.has_message_intent() {
        let draft = state.draft.clone().unwrap_or_default();
        return start_message(state, draft, &u);
    }
    if let Some(target) = u.transfer_target() {
        return if target.is_empty() {
            state.pending = Pending::TransferTarget;
            say("Of course. Who would you like to speak to?")
        } else {
            transfer(state, target)
        };
    }
    if u.is_question() {
        return Action::Call(ToolName::LookupKnowledge, json!({ "query": text }));
    }
    if u.has_any(&["how are you", "how's it going", "how are you doing"]) {
        return say(format!("I'm doing well, thank you! {HOW_CAN_I_HELP}"));
    }
    if u.has_any(&["thanks", "thank you", "cheers"]) {
        state.pending = Pending::AnythingElse;
        return say(format!("You're welcome! {ANYTHING_ELSE}"));
    }
    if u.has_any(GREETINGS) {
        return say(match &agent.greeting {
            Some(g) => g.clone(),
            None => format!("Hello! {HOW_CAN_I_HELP} {CAPABILITIES}"),
        });
    }
    match yes_no {
        Some(true) => return say(format!("Great. {HOW_CAN_I_HELP}")),
        Some(false) => {
            state.pending = Pending::AnythingElse;
            return say(format!("All right. {ANYTHING_ELSE}"));
        }
        None => {}
    }
    if let Some(draft) = state.draft.clone() {
        return resume_draft(state, draft);
    }
    say(format!(
        "I'm sorry, I didn't quite get that. {CAPABILITIES} What would you like to do?"
    ))
}

fn end_call(state: &mut State) -> Action {
    state.pending = Pending::Nothing;
    Action::Call(ToolName::EndCall, json!({ "reason": "caller is done" }))
}

fn transfer(state: &mut State, target: String) -> Action {
    state.pending = Pending::Nothing;
    Action::Call(ToolName::TransferCall, json!({ "target": target }))
}

/// The caller confirmed the read-back.
fn confirmed(state: &mut State, draft: &Draft) -> Action {
    state.close_draft();
    state.pending = Pending::AnythingElse;
    say(match &draft.for_whom {
        Some(f) => format!("Great, I'll make sure {f} gets it. {ANYTHING_ELSE}"),
        None => format!("Great, I'll make sure it gets to them. {ANYTHING_ELSE}"),
    })
}

/// Asks for the next missing detail; once all are there, saves the message with
/// `take_message` (a correction replaces the one already saved), or, when the saved one is
/// unchanged, asks again whether it is right.
fn resume_draft(state: &mut State, draft: Draft) -> Action {
    if let Some(slot) = draft.missing() {
        state.draft = Some(draft);
        if slot == Slot::Number
            && !state.caller_id_offered
            && let Some(number) = &state.caller_number
        {
            state.caller_id_offered = true;
            state.pending = Pending::OfferCallerId;
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            let last_four = &digits[digits.len().saturating_sub(4)..];
            return say(format!(
                "Is the number you're calling from, ending {}, the best one to reach you?",
                speak_digits(last_four)
            ));
        }
        state.pending = Pending::Slot(slot);
        if slot == Slot::Number && state.caller_withheld {
            return say(format!("{} {KEYPAD_HINT}", slot.prompt()));
        }
        return say(slot.prompt());
    }
    let saved_id = match &state.saved {
        Some(saved) if saved.draft == draft => {
            state.draft = Some(draft);
            state.pending = Pending::Confirm;
            return say("Is everything in your message correct?");
        }
        Some(saved) => Some(saved.message_id.clone()),
        None => None,
    };
    let mut args = draft.tool_arguments();
    if let Some(id) = saved_id {
        args["replaces"] = json!(id);
    }
    state.draft = Some(draft);
    state.pending = Pending::Nothing;
    Action::Call(ToolName::TakeMessage, args)
}

/// `lead` before what `action` says; a tool call goes first and `lead` is dropped (the tool's
/// result brings its own words).
fn prefixed(lead: impl Into<String>, action: Action) -> Action {
    match action {
        Action::Say(text) => say(format!("{} {text}", lead.into())),
        other => other,
    }
}

fn start_message(state: &mut State, mut draft: Draft, u: &Utterance) -> Action {
    fill_from(&mut draft, u, None);
    let opening = match &draft.for_whom {
        Some(f) => format!("Sure, I can take a message for {f}."),
        None => "Sure, I can take a message.".to_owned(),
    };
    let next = resume_draft(state, draft);
    prefixed(opening, next)
}

fn step_dtmf(agent: &AgentHints, state: &mut State, key: char) -> Action {
    if let Some((_, label)) = agent.menu.iter().find(|(k, _)| *k == key) {
        let draft = Draft {
            for_whom: Some(label.clone()),
            ..state.draft.clone().unwrap_or_default()
        };
        let next = resume_draft(state, draft);
        return prefixed(
            format!("You chose {label}. I can take a message for {label}."),
            next,
        );
    }
    if agent.menu.is_empty() {
        return say(format!(
            "Sorry, I can't use the keypad on this line. {HOW_CAN_I_HELP}"
        ));
    }
    let options = agent
        .menu
        .iter()
        .map(|(k, l)| format!("press {k} for {l}"))
        .collect::<Vec<_>>()
        .join(", ");
    say(format!("Sorry, {key} isn't an option. Please {options}."))
}

/// Keys the caller pressed: while a callback number is asked for they fill it, and while a
/// message is read back a whole number keyed in replaces its callback number (a caller who
/// hears a wrong number back keys the right one); else the first key chooses from the keypad
/// menu.
fn step_keys(agent: &AgentHints, state: &mut State, keys: &str) -> Action {
    let asked = matches!(
        state.pending,
        Pending::Slot(Slot::Number) | Pending::OfferCallerId | Pending::KeyingNumber
    );
    let correcting = matches!(state.pending, Pending::Confirm | Pending::Change)
        && keys.chars().filter(char::is_ascii_digit).count() >= 7;
    let collecting = (asked || correcting) && state.draft.is_some();
    if !collecting {
        return match keys.chars().next() {
            Some(key) => step_dtmf(agent, state, key),
            None => Action::Silent,
        };
    }
    let mut restarted = false;
    for key in keys.chars() {
        match key {
            '0'..='9' => state.keyed.push(key),
            '*' => {
                state.keyed.clear();
                restarted = true;
            }
            '#' => return finish_keyed(state),
            _ => {}
        }
    }
    if (10..=11).contains(&state.keyed.len()) {
        // A whole number, and the caller stopped keying without the pound key.
        return finish_keyed(state);
    }
    state.pending = Pending::KeyingNumber;
    if restarted && state.keyed.is_empty() {
        return say("Let's start again. Key in the number, then press the pound key.");
    }
    Action::Silent
}

/// The keyed-in number is complete (pound, or a whole number): fill it or ask again.
fn finish_keyed(state: &mut State) -> Action {
    let digits = std::mem::take(&mut state.keyed);
    let mut draft = state.draft.clone().unwrap_or_default();
    if (10..=15).contains(&digits.len()) {
        let same = draft
            .callback_number
            .as_deref()
            .is_some_and(|had| national_digits(had) == national_digits(&digits));
        if !same {
            draft.callback_number = Some(digits);
        }
        draft.number_declined = false;
        let lead = if same {
            "Thank you, that's the number I have."
        } else {
            "Thank you."
        };
        return prefixed(lead, resume_draft(state, draft));
    }
    state.draft = Some(draft);
    state.pending = Pending::Slot(Slot::Number);
    say(if digits.is_empty() {
        "I didn't get any digits. Please key in the number, then press the pound key.".to_owned()
    } else {
        format!(
            "I only got {} digits. Please key in the full number, including the area code, then \
             press the pound key.",
            digits.len()
        )
    })
}

/// A number's digits without a leading North American `1`: "+14155550100" and "4155550100"
/// are the same number.
fn national_digits(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix('1') {
        Some(rest) if digits.len() == 11 => rest.to_owned(),
        _ => digits,
    }
}

/// `[caller pressed 5]` → `5`; `[caller pressed 4155550100#]` → `4155550100#`.
fn dtmf_keys(text: &str) -> Option<String> {
    let inner = text
        .trim()
        .strip_prefix('[')?
        .strip_suffix(']')?
        .trim()
        .strip_prefix("caller pressed")?
        .trim();
    let keys: String = inner
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#'))
        .collect();
    (!keys.is_empty()).then_some(keys)
}

/// "No, the last four digits are 0101": the callback number with that one group replaced.
/// Groups are those of a North American number (3-3-4, after an optional leading 1); the part
/// is named ("area code", "middle", "last") or, for four digits, implied.
fn corrected_part(draft: &Draft, u: &Utterance) -> Option<String> {
    let number = draft.callback_number.as_deref()?;
    if u.phone_number().is_some() {
        return None;
    }
    let part = u
        .digit_runs()
        .into_iter()
        .map(|(_, _, d)| d)
        .find(|d| (3..=4).contains(&d.len()))?;
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let (country, national) = match digits.len() {
        11 if digits.starts_with('1') => ("1", &digits[1..]),
        10 => ("", &digits[..]),
        _ => return None,
    };
    let (start, len) = if u.has_any(&["area code", "first part", "first three", "beginning"]) {
        (0, 3)
    } else if u.has_any(&["middle", "second part", "middle part", "next three"]) {
        (3, 3)
    } else if part.len() == 4 || u.has_any(&["last", "ending", "ends", "end"]) {
        (6, 4)
    } else {
        return None;
    };
    if part.len() != len {
        return None;
    }
    let fixed = format!("{}{part}{}", &national[..start], &national[start + len..]);
    let plus = if number.starts_with('+') { "+" } else { "" };
    let corrected = format!("{plus}{country}{fixed}");
    (corrected != number).then_some(corrected)
}

/// Fill the asked slot from the caller's answer; `Some(reply)` when the answer did not fit.
fn fill_slot(draft: &mut Draft, slot: Slot, u: &Utterance) -> Option<String> {
    if slot == Slot::Message {
        let text = u
            .explicit_message()
            .unwrap_or_else(|| u.text.trim().to_owned());
        draft.message = Some(text);
        return None;
    }
    fill_from(draft, u, Some(slot));
    match slot {
        Slot::Name if draft.caller_name.is_none() => {
            Some("Sorry, I didn't catch your name. Could you say it again?".into())
        }
        Slot::Number if draft.callback_number.is_none() && !draft.number_declined => {
            let digits = u.longest_digit_run();
            Some(if digits.len() >= 3 {
                format!(
                    "I only got {} digits. Could you say the full number, including the area \
                     code? {KEYPAD_HINT}",
                    digits.len()
                )
            } else {
                format!(
                    "Sorry, I didn't catch the number. Could you say it again, digit by digit? \
                     {KEYPAD_HINT}"
                )
            })
        }
        Slot::ForWhom if draft.for_whom.is_none() => {
            Some("Sorry, who should I pass the message to?".into())
        }
        _ => None,
    }
}

/// Take whatever the caller said about the message; returns whether anything changed.
/// `asked` is the slot just asked for, whose bare answer is accepted.
fn fill_from(draft: &mut Draft, u: &Utterance, asked: Option<Slot>) -> bool {
    let before = draft.clone();
    let mut used = vec![false; u.tokens.len()];

    if let Some((start, end, digits)) = u.phone_number() {
        used[start..end].iter_mut().for_each(|x| *x = true);
        draft.callback_number = Some(digits);
        draft.number_declined = false;
    } else if asked == Some(Slot::Number)
        && (u.yes_no() == Some(false)
            || u.has_any(&[
                "don't have",
                "do not have",
                "this number",
                "same number",
                "calling from",
                "you have it",
                "skip",
                "none",
            ]))
    {
        draft.number_declined = true;
        used.iter_mut().for_each(|x| *x = true);
    }

    if let Some((start, end, name)) = u.name(asked == Some(Slot::Name)) {
        used[start..end].iter_mut().for_each(|x| *x = true);
        draft.caller_name = Some(name);
    }

    if let Some((start, end, for_whom)) = u.for_whom(asked == Some(Slot::ForWhom)) {
        used[start..end].iter_mut().for_each(|x| *x = true);
        draft.for_whom = Some(for_whom);
    }

    if let Some(message) = u.explicit_message() {
        draft.message = Some(message);
        used.iter_mut().for_each(|x| *x = true);
    }

    // A bare answer to the question just asked.
    let rest = u.unused_words(&used);
    match asked {
        Some(Slot::Name) if draft.caller_name.is_none() => {
            let words: Vec<&str> = rest
                .iter()
                .map(String::as_str)
                .skip_while(|w| NAME_LEADS.contains(&w.to_lowercase().as_str()))
                .collect();
            if (1..=3).contains(&words.len())
                && words.iter().all(|w| w.chars().all(char::is_alphabetic))
                && !NOT_NAMES.contains(&words[0].to_lowercase().as_str())
            {
                draft.caller_name = Some(capitalize(&words.join(" ")));
                used.iter_mut().for_each(|x| *x = true);
            }
        }
        Some(Slot::ForWhom) if draft.for_whom.is_none() => {
            let target = clean_target(&rest);
            if !target.is_empty() {
                draft.for_whom = Some(target);
                used.iter_mut().for_each(|x| *x = true);
            }
        }
        _ => {}
    }

    // What the caller said about the message, when they gave no explicit text.
    if draft.message.is_none()
        && let Some(implicit) = u.implicit_message(&used)
    {
        draft.message = Some(implicit);
    }
    *draft != before
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: &str = "You are the receptionist of Acme Plumbing.\n\
                          Greeting: Thanks for calling Acme Plumbing, how can I help?\n\
                          Press 1: billing\n\
                          - Press 2 for the front desk\n\n\
                          You are Acme on a phone call.";

    type ToolRunner = Box<dyn Fn(&str, &Value) -> Value>;

    /// Plays the call workflow's part: runs tool calls through `tools` and appends everything.
    struct Call {
        messages: Vec<ChatMessage>,
        tools: ToolRunner,
    }

    impl Call {
        fn new(tools: impl Fn(&str, &Value) -> Value + 'static) -> Self {
            Self {
                messages: vec![ChatMessage::system(SYSTEM)],
                tools: Box::new(tools),
            }
        }

        /// The same call, with the `Caller ID:` line the `llm_turn` activity adds.
        fn with_caller_id(caller_id: &str) -> Self {
            let mut call = Self::workflow_tools();
            call.messages = vec![ChatMessage::system(format!(
                "{SYSTEM}\n\n{CALLER_ID_LINE} {caller_id}"
            ))];
            call
        }

        fn workflow_tools() -> Self {
            Self::new(|name, args| match name {
                "end_call" => {
                    json!({"ok": true, "next": "Say a short goodbye now; the call ends after it."})
                }
                "transfer_call" => {
                    json!({"ok": false, "error": "Transfers are not available yet. Offer to take a message instead."})
                }
                "take_message" => json!({"ok": true, "message_id": "m-1"}),
                "lookup_knowledge" => {
                    if args["query"].as_str().unwrap().contains("hours") {
                        json!({"results": [
                            {"category": "hours", "question": "When are you open?", "answer": "We're open 8am to 6pm, Monday to Friday."},
                            {"category": "hours", "question": "Weekends?", "answer": "Closed on weekends."}
                        ]})
                    } else {
                        json!({"results": [], "note": "Nothing in the knowledge base answers this."})
                    }
                }
                other => panic!("unexpected tool {other}"),
            })
        }

        /// One user turn: the tool calls made on the way and the spoken reply.
        fn say(&mut self, text: &str) -> (Vec<ChatToolCall>, String) {
            self.messages.push(ChatMessage::user(text));
            let mut calls = Vec::new();
            for _ in 0..4 {
                let reply = RuleDialog::new().reply(&self.messages);
                // Deterministic: the same history gives the same answer.
                assert_eq!(reply, RuleDialog::new().reply(&self.messages));
                self.messages.push(reply.clone());
                if reply.tool_calls.is_empty() {
                    return (calls, reply.content.expect("a spoken reply"));
                }
                for call in reply.tool_calls {
                    let args: Value = serde_json::from_str(&call.arguments).unwrap();
                    let output = (self.tools)(&call.name, &args);
                    self.messages.push(ChatMessage::tool_result(
                        call.id.clone(),
                        output.to_string(),
                    ));
                    calls.push(call);
                }
            }
            panic!("no spoken reply after 4 rounds");
        }
    }

    fn args(call: &ChatToolCall) -> Value {
        serde_json::from_str(&call.arguments).unwrap()
    }

    #[test]
    fn takes_a_message_as_soon_as_it_is_complete_and_reads_it_back() {
        let mut call = Call::workflow_tools();
        let (calls, reply) = call.say("I'd like to leave a message for the billing team");
        assert!(calls.is_empty());
        assert!(reply.contains("the billing team"), "{reply}");
        assert!(reply.contains("name"), "{reply}");

        // The last missing details arrive: the message is saved in the same turn.
        let (calls, reply) = call.say("My name is Jordan, please call me back on 415 555 0100");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].name, "take_message");
        let a = args(&calls[0]);
        assert!(a["for_whom"].as_str().unwrap().contains("billing"));
        assert_eq!(a["caller_name"], "Jordan");
        assert_eq!(a["callback_number"], "4155550100");
        assert_eq!(a["message"], "please call me back");
        assert!(a.get("replaces").is_none(), "{a}");
        assert_eq!(
            reply,
            "Thanks Jordan, I've taken your message for the billing team, from Jordan, callback \
             number four one five, five five five, zero one zero zero, saying: \"please call me \
             back\". Is that correct?"
        );

        let (calls, reply) = call.say("yes");
        assert!(calls.is_empty());
        assert_eq!(
            reply,
            "Great, I'll make sure the billing team gets it. Is there anything else I can help with?"
        );
        let (calls, reply) = call.say("no");
        assert_eq!(calls[0].name, "end_call");
        assert_eq!(reply, GOODBYE);
    }

    #[test]
    fn asks_for_each_missing_slot_and_a_correction_replaces_the_saved_message() {
        let mut call = Call::workflow_tools();
        let (_, reply) = call.say("Can I leave a message?");
        assert!(reply.contains("Who is the message for?"), "{reply}");
        let (_, reply) = call.say("Sam");
        assert!(reply.contains("your name"), "{reply}");
        let (_, reply) = call.say("it's jordan lee");
        assert!(reply.contains("number"), "{reply}");
        let (_, reply) = call.say("four one five five five five oh one double oh");
        assert!(reply.contains("message to say"), "{reply}");
        let (calls, reply) = call.say("The boiler is leaking again.");
        assert_eq!(calls[0].name, "take_message");
        assert!(
            reply.contains("for Sam, from Jordan Lee, callback number four one five, five five five, zero one zero zero"),
            "{reply}"
        );
        assert!(reply.contains("The boiler is leaking again"), "{reply}");

        let (calls, reply) = call.say("no");
        assert!(calls.is_empty());
        assert!(reply.contains("What would you like to change"), "{reply}");
        let (_, reply) = call.say("the number");
        assert!(reply.contains("number"), "{reply}");
        let (calls, reply) = call.say("it's 415 555 0199");
        assert_eq!(calls.len(), 1);
        let a = args(&calls[0]);
        assert_eq!(a["replaces"], "m-1", "{a}");
        assert_eq!(a["callback_number"], "4155550199");
        assert_eq!(a["caller_name"], "Jordan Lee");
        assert_eq!(a["for_whom"], "Sam");
        assert!(
            reply.starts_with("Thanks, I've updated your message"),
            "{reply}"
        );
        assert!(
            reply.contains("four one five, five five five, zero one nine nine"),
            "{reply}"
        );

        // A correction straight after the read-back works too, and nothing changed is no save.
        let (calls, reply) = call.say("no, my name is Jordan Leigh");
        assert_eq!(args(&calls[0])["caller_name"], "Jordan Leigh");
        assert_eq!(args(&calls[0])["replaces"], "m-1");
        assert!(reply.contains("from Jordan Leigh"), "{reply}");
        let (calls, reply) = call.say("yes that's right");
        assert!(calls.is_empty());
        assert!(
            reply.starts_with("Great, I'll make sure Sam gets it."),
            "{reply}"
        );
    }

    #[test]
    fn a_failed_save_is_offered_again() {
        let mut call = Call::new(|name, _| match name {
            "take_message" => json!({"ok": false, "error": "the message could not be saved"}),
            other => panic!("unexpected tool {other}"),
        });
        let (_, reply) = call.say("I'd like to leave a message for Sam");
        assert!(reply.contains("your name"), "{reply}");
        let (calls, reply) = call.say("My name is Jordan, please call me back on 415 555 0100");
        assert_eq!(calls[0].name, "take_message", "{reply}");
        assert!(reply.contains("Shall I try again?"), "{reply}");
        let (calls, _) = call.say("yes");
        assert_eq!(calls[0].name, "take_message");
        let (calls, reply) = call.say("no");
        assert!(calls.is_empty());
        assert!(reply.contains("anything else"), "{reply}");
    }

    #[test]
    fn answers_questions_from_the_knowledge_base_only() {
        let mut call = Call::workflow_tools();
        let (calls, reply) = call.say("What are your opening hours?");
        assert_eq!(calls[0].name, "lookup_knowledge");
        assert_eq!(args(&calls[0])["query"], "What are your opening hours?");
        assert_eq!(reply, "We're open 8am to 6pm, Monday to Friday.");

        let (calls, reply) = call.say("Do you fix swimming pools?");
        assert_eq!(calls[0].name, "lookup_knowledge");
        assert_eq!(reply, NO_INFORMATION);
        let (_, reply) = call.say("yes");
        assert!(reply.contains("Who is the message for?"), "{reply}");
    }

    #[test]
    fn failed_transfer_offers_a_message_for_the_target() {
        let mut call = Call::workflow_tools();
        let (calls, reply) = call.say("Could you put me through to someone in billing please");
        assert_eq!(calls[0].name, "transfer_call");
        assert_eq!(args(&calls[0])["target"], "billing");
        assert_eq!(
            reply,
            "I'm sorry, I can't transfer calls yet. Would you like to leave a message for billing?"
        );
        let (_, reply) = call.say("yes please");
        assert!(reply.contains("take a message for billing"), "{reply}");
        assert!(reply.contains("your name"), "{reply}");
        let (_, reply) = call.say("This is Priya and my number is 212 555 0142");
        assert!(reply.contains("message to say"), "{reply}");
        let (calls, reply) = call.say("Tell them my invoice is wrong");
        assert_eq!(calls[0].name, "take_message");
        assert!(
            reply.contains("for billing, from Priya, callback number two one two, five five five, zero one four two"),
            "{reply}"
        );
        assert!(reply.contains("my invoice is wrong"), "{reply}");
    }

    #[test]
    fn a_yes_to_the_caller_id_offer_fills_the_callback_number() {
        let mut call = Call::with_caller_id("+14155550123");
        call.say("I'd like to leave a message for the billing team");
        let (calls, reply) = call.say("My name is Jordan, please call me back");
        assert!(calls.is_empty());
        assert_eq!(
            reply,
            "Is the number you're calling from, ending zero one two three, the best one to reach \
             you?"
        );
        let (calls, reply) = call.say("Yes, that's fine.");
        assert_eq!(calls[0].name, "take_message");
        assert_eq!(args(&calls[0])["callback_number"], "+14155550123");
        assert!(
            reply.contains("callback number four one five, five five five, zero one two three"),
            "{reply}"
        );
    }

    #[test]
    fn a_no_to_the_caller_id_offer_asks_for_the_number_once() {
        let mut call = Call::with_caller_id("+14155550123");
        call.say("I'd like to leave a message for Sam");
        call.say("This is Jordan, tell him the boiler is leaking");
        let (_, reply) = call.say("no");
        assert!(reply.contains("best number to call you back"), "{reply}");
        let (calls, _) = call.say("it's 212 555 0142");
        assert_eq!(args(&calls[0])["callback_number"], "2125550142");
        // A spoken number in answer to the offer is taken as said, and the offer is not repeated.
        let mut call = Call::with_caller_id("+14155550123");
        call.say("I'd like to leave a message for Sam");
        call.say("This is Jordan, tell him the boiler is leaking");
        let (calls, _) = call.say("No, call me on 212 555 0142");
        assert_eq!(args(&calls[0])["callback_number"], "2125550142");
    }

    #[test]
    fn a_garbled_number_gets_the_keypad_and_keyed_digits_fill_it() {
        let mut call = Call::with_caller_id("withheld");
        call.say("I'd like to leave a message for the billing team");
        // No caller ID: no shortcut, and the keypad is mentioned at once.
        let (_, reply) = call.say("My name is Jordan, please call me back");
        assert!(!reply.contains("calling from"), "{reply}");
        assert!(reply.contains("key it in"), "{reply}");
        // What a speech recognizer made of "415 555 0100" on a bad line.
        let (calls, reply) = call.say("Please call me back on 415-SI-SI-SI-0100.");
        assert!(calls.is_empty());
        assert!(
            reply.contains("key it in, followed by the pound key"),
            "{reply}"
        );
        // Keys arrive as one entry or in pieces; the agent is silent until the pound key.
        let (calls, reply) = call.say("[caller pressed 415]");
        assert!(calls.is_empty());
        assert_eq!(reply, "");
        let (calls, reply) = call.say("[caller pressed 5550100#]");
        assert_eq!(calls[0].name, "take_message");
        assert_eq!(args(&calls[0])["callback_number"], "4155550100");
        assert!(reply.contains("four one five, five five five"), "{reply}");
        // After the read-back the keypad is the menu again, not a number.
        let (calls, reply) = call.say("[caller pressed 7]");
        assert!(calls.is_empty());
        assert!(reply.contains("7 isn't an option"), "{reply}");
    }

    #[test]
    fn too_few_keyed_digits_are_asked_for_again_and_star_starts_over() {
        let mut call = Call::with_caller_id("withheld");
        call.say("I'd like to leave a message for the billing team");
        call.say("My name is Jordan, please call me back");
        let (_, reply) = call.say("[caller pressed 5550100#]");
        assert!(reply.contains("only got 7 digits"), "{reply}");
        let (_, reply) = call.say("[caller pressed 41*]");
        assert!(reply.contains("start again"), "{reply}");
        let (calls, _) = call.say("[caller pressed 4155550100]");
        assert_eq!(args(&calls[0])["callback_number"], "4155550100");
    }

    #[test]
    fn a_number_keyed_in_at_the_read_back_replaces_a_misheard_one() {
        let mut call = Call::workflow_tools();
        call.say("I'd like to leave a message for the billing team");
        // The recognizer got one group wrong; the caller hears it read back and keys the number.
        let (calls, _) = call.say("My name is Jordan, please call me back on 415 565 0100");
        assert_eq!(args(&calls[0])["callback_number"], "4155650100");
        let (calls, reply) = call.say("[caller pressed 4155550100#]");
        assert_eq!(calls[0].name, "take_message");
        assert_eq!(args(&calls[0])["callback_number"], "4155550100");
        assert_eq!(args(&calls[0])["replaces"], "m-1");
        assert!(
            reply.contains("five five five, zero one zero zero"),
            "{reply}"
        );
        // The same number keyed again changes nothing and saves nothing.
        let (calls, reply) = call.say("[caller pressed 14155550100#]");
        assert!(calls.is_empty());
        assert!(
            reply.starts_with("Thank you, that's the number I have."),
            "{reply}"
        );
        // A single key at the read-back is still the menu's.
        let (calls, reply) = call.say("[caller pressed 7]");
        assert!(calls.is_empty());
        assert!(!reply.contains("number I have"), "{reply}");
    }

    #[test]
    fn one_group_of_the_number_can_be_corrected() {
        let mut call = Call::workflow_tools();
        call.say("I'd like to leave a message for the billing team");
        let (calls, _) = call.say("My name is Jordan, please call me back on 415 555 0100");
        assert_eq!(calls[0].name, "take_message");
        let (calls, reply) = call.say("No, the last four digits are 0101");
        assert_eq!(args(&calls[0])["callback_number"], "4155550101");
        assert_eq!(args(&calls[0])["replaces"], "m-1");
        assert!(reply.contains("zero one zero one"), "{reply}");
        let (calls, _) = call.say("no, the area code is 212");
        assert_eq!(args(&calls[0])["callback_number"], "2125550101");
        let (calls, _) = call.say("sorry, the middle part is 556");
        assert_eq!(args(&calls[0])["callback_number"], "2125560101");
    }

    #[test]
    fn repeats_the_last_thing_said() {
        let mut call = Call::workflow_tools();
        let (_, first) = call.say("I want to leave a message for Dana");
        let (calls, again) = call.say("Sorry, could you repeat that?");
        assert!(calls.is_empty());
        assert_eq!(again, first);
        // The context survives the repeat: the name is still what is asked for.
        let (_, reply) = call.say("Jordan");
        assert!(reply.contains("number"), "{reply}");
    }

    #[test]
    fn keypad_menu_chooses_a_department() {
        let mut call = Call::workflow_tools();
        let (calls, reply) = call.say("[caller pressed 1]");
        assert!(calls.is_empty());
        assert!(reply.starts_with("You chose billing."), "{reply}");
        assert!(reply.contains("your name"), "{reply}");
        let (_, reply) = call.say("[caller pressed 2]");
        assert!(reply.contains("the front desk"), "{reply}");
        let (_, reply) = call.say("[caller pressed 7]");
        assert!(reply.contains("press 1 for billing"), "{reply}");
        assert!(reply.contains("press 2 for the front desk"), "{reply}");

        let hints = AgentHints::parse(&[ChatMessage::system(SYSTEM)]);
        assert_eq!(
            hints.greeting.as_deref(),
            Some("Thanks for calling Acme Plumbing, how can I help?")
        );
        assert_eq!(
            hints.menu,
            vec![
                ('1', "billing".to_owned()),
                ('2', "the front desk".to_owned())
            ]
        );
    }

    #[test]
    fn goodbye_ends_the_call() {
        for text in ["That's all, thanks", "bye", "No thanks", "goodbye!"] {
            let mut call = Call::workflow_tools();
            let (calls, reply) = call.say(text);
            assert_eq!(calls.len(), 1, "{text}");
            assert_eq!(calls[0].name, "end_call");
            assert_eq!(reply, GOODBYE);
        }
    }

    #[test]
    fn greetings_and_unknown_turns_get_a_polite_prompt() {
        let mut call = Call::workflow_tools();
        let (calls, reply) = call.say("Hello there");
        assert!(calls.is_empty());
        assert_eq!(reply, "Thanks for calling Acme Plumbing, how can I help?");
        let (calls, reply) = call.say("purple monkey dishwasher");
        assert!(calls.is_empty());
        assert!(
            reply.starts_with("I'm sorry, I didn't quite get that."),
            "{reply}"
        );
    }

    #[test]
    fn tool_call_ids_are_unique_and_deterministic() {
        let mut call = Call::workflow_tools();
        call.say("What are your hours?");
        call.say("Do you do boilers?");
        call.say("bye");
        let ids: Vec<&str> = call
            .messages
            .iter()
            .flat_map(|m| m.tool_calls.iter().map(|c| c.id.as_str()))
            .collect();
        assert_eq!(ids.len(), 3);
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 3);
        assert_eq!(ids[0], "rules_2");
    }
}
