//! What the agent says when a campaign tool's result comes back: one handler per tool. Every
//! ending goes through `end_call`, and the closing words are said after its result.

use super::moves::{close, offer_next, prompt, speak_when_local};
use super::script::{CampaignScript, LocalDateTime};
use super::state::{CampaignState, Step};
use crate::action::{Action, prefixed, say};
use crate::tools::short_answer;
use crate::when::speak_date_time;
use domain::campaign::analysis::OutcomeClass;
use domain::conversation::{ChatToolCall, ToolName};
use serde_json::Value;

/// `output` is what the tool `call` returned.
pub(crate) fn step_tool(
    script: &CampaignScript,
    state: &mut CampaignState,
    call: &ChatToolCall,
    output: &str,
) -> Action {
    let result: Value = serde_json::from_str(output).unwrap_or(Value::Null);
    let args: Value = serde_json::from_str(&call.arguments).unwrap_or(Value::Null);
    let ok = result.get("ok").and_then(Value::as_bool) == Some(true);
    match ToolName::parse(&call.name) {
        Some(ToolName::EndCall) => closed(state),
        Some(ToolName::BookAppointment) => booked(script, state, &args, ok),
        Some(ToolName::RequestCallback) => callback_noted(state, &args, ok),
        Some(ToolName::DoNotCall) => no_more_calls(state, ok),
        Some(ToolName::LookupKnowledge) => knowledge_found(script, state, &result),
        _ => say(prompt(script, state.step)),
    }
}

/// The call is ending: its closing words (a goodbye when there are none).
fn closed(state: &mut CampaignState) -> Action {
    state.step = Step::Ended;
    say(match &state.closing {
        Some(closing) => closing.text.clone(),
        None => "Thank you for your time. Goodbye!".to_owned(),
    })
}

/// Booked: confirm and close. Not booked: the next slot, or a question for another time.
fn booked(script: &CampaignScript, state: &mut CampaignState, args: &Value, ok: bool) -> Action {
    let at = args
        .get("starts_at_local")
        .and_then(Value::as_str)
        .and_then(|s| LocalDateTime::parse(s).ok())
        .map(|at| speak_date_time(at.0));
    let Some(at) = at else {
        return say(prompt(script, state.step));
    };
    if ok {
        let name = script.recipient.name.trim();
        let text =
            format!("You're all set for {at}. Thank you, {name}, we'll see you then. Goodbye!");
        return close(state, OutcomeClass::AppointmentBooked, text);
    }
    prefixed(
        format!("I'm sorry, {at} isn't available after all."),
        offer_next(script, state),
    )
}

fn callback_noted(state: &mut CampaignState, args: &Value, ok: bool) -> Action {
    if !ok {
        let text = "I'm sorry, I couldn't note that just now. Please call us back whenever it \
                    suits you. Goodbye!";
        return close(state, OutcomeClass::CompletedOther, text.to_owned());
    }
    let when = speak_when_local(args.get("when_local").and_then(Value::as_str));
    let text = format!("No problem, we'll call you back {when}. Thank you, goodbye!");
    close(state, OutcomeClass::CallbackRequested, text)
}

/// The request is honoured whatever the tool answered: the call ends at once, and a failure to
/// record it is said plainly (the transcript still carries the request).
fn no_more_calls(state: &mut CampaignState, ok: bool) -> Action {
    let text = if ok {
        "Understood. I've taken your number off our call list, and we won't call you again. \
         Sorry for the trouble. Goodbye."
    } else {
        "Understood, and I'm sorry: I couldn't update our call list just now, but your request \
         is noted on this call. Goodbye."
    };
    close(state, OutcomeClass::DoNotCall, text.to_owned())
}

/// The best knowledge base hit word for word (or that there is none), then the question the
/// agent was waiting on.
fn knowledge_found(script: &CampaignScript, state: &mut CampaignState, result: &Value) -> Action {
    let answer = result
        .get("results")
        .and_then(Value::as_array)
        .and_then(|hits| hits.first())
        .and_then(|hit| hit.get("answer"))
        .and_then(Value::as_str)
        .map(short_answer)
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "I'm sorry, I don't have that information.".to_owned());
    say(format!("{answer} {}", prompt(script, state.step)))
}
