//! What the agent says when a tool's result comes back: one handler per tool.

use crate::action::{Action, prefixed, say};
use crate::draft::Draft;
use crate::moves::resume_draft;
use crate::phrases::{ANYTHING_ELSE, GOODBYE, HOW_CAN_I_HELP, NO_INFORMATION};
use crate::state::{Pending, Saved, State};
use domain::conversation::{ChatToolCall, ToolName};
use serde_json::Value;

/// `output` is what the tool `call` returned.
pub(crate) fn step_tool(state: &mut State, call: &ChatToolCall, output: &str) -> Action {
    let result: Value = serde_json::from_str(output).unwrap_or(Value::Null);
    let args: Value = serde_json::from_str(&call.arguments).unwrap_or(Value::Null);
    match ToolName::parse(&call.name) {
        Some(ToolName::EndCall) => {
            state.pending = Pending::Ended;
            state.close_draft();
            say(GOODBYE)
        }
        Some(ToolName::LookupKnowledge) => knowledge_found(state, &result),
        Some(ToolName::TakeMessage) => message_taken(state, &args, &result),
        Some(ToolName::TransferCall) => transfer_tried(state, &args, &result),
        Some(ToolName::FindPersonOrDepartment | ToolName::CheckAvailability) => {
            directory_answered(state, &result)
        }
        // The campaign tools are never called on an inbound call.
        Some(ToolName::BookAppointment | ToolName::RequestCallback | ToolName::DoNotCall)
        | None => {
            state.pending = Pending::Nothing;
            say(format!("I'm sorry, something went wrong. {HOW_CAN_I_HELP}"))
        }
    }
}

/// The best knowledge base hit, word for word; none offers a message. A question asked in the
/// middle of a message is answered and the message carries on.
fn knowledge_found(state: &mut State, result: &Value) -> Action {
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

/// A saved draft is read back for confirmation; a failed save is offered again.
fn message_taken(state: &mut State, args: &Value, result: &Value) -> Action {
    let ok = result.get("ok").and_then(Value::as_bool);
    let message_id = result.get("message_id").and_then(Value::as_str);
    match (ok, message_id, state.draft.clone()) {
        (Some(true), Some(id), Some(draft)) => {
            let replaced = args.get("replaces").is_some();
            read_back(state, id, draft, replaced)
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

/// The saved message read back; the caller may still correct it (it is then saved again with
/// `replaces` set to `message_id`).
fn read_back(state: &mut State, message_id: &str, draft: Draft, replaced: bool) -> Action {
    state.saved = Some(Saved {
        message_id: message_id.to_owned(),
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

/// A transfer under way: the agent asks the caller to hold (the call then moves). One that
/// could not be made (nobody by that name, outside their hours) turns into an offer to take a
/// message for its target, in the tool's own words when it gives them.
fn transfer_tried(state: &mut State, args: &Value, result: &Value) -> Action {
    let ok = result.get("ok").and_then(Value::as_bool);
    let target = text_arg(result, "target").or_else(|| text_arg(args, "target"));
    let said = text_arg(result, "say");
    if ok == Some(true) {
        state.pending = Pending::Nothing;
        return say(said.unwrap_or_else(|| match &target {
            Some(t) => format!("Please hold while I put you through to {t}."),
            None => "Please hold while I put you through.".to_owned(),
        }));
    }
    let text = said.unwrap_or_else(|| match &target {
        Some(t) => format!(
            "I'm sorry, I can't put you through to {t} right now. Would you like to leave a message for them?"
        ),
        None => "I'm sorry, I can't put you through right now. Would you like to leave a message?"
            .to_owned(),
    });
    // Nobody by that name (often a misheard one): the caller may say it again.
    state.pending = if result.get("reason").and_then(Value::as_str) == Some("not_found") {
        Pending::TargetOrMessage(target)
    } else {
        Pending::OfferMessage(target)
    };
    say(text)
}

/// A directory search or availability check: its sentence, word for word.
fn directory_answered(state: &mut State, result: &Value) -> Action {
    state.pending = Pending::Nothing;
    say(text_arg(result, "say").unwrap_or_else(|| HOW_CAN_I_HELP.to_owned()))
}

fn text_arg(args: &Value, key: &str) -> Option<String> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// At most two sentences of a knowledge base answer, word for word.
pub(crate) fn short_answer(answer: &str) -> String {
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
