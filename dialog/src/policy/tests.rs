//! Whole conversations with the rules, the way the call workflow holds them: a caller's turns,
//! the tool calls they lead to and what the agent says.

use super::RuleDialog;
use crate::hints::CALLER_ID_LINE;
use crate::phrases::{GOODBYE, NO_INFORMATION};
use domain::conversation::{ChatMessage, ChatRole, ChatToolCall};
use serde_json::{Value, json};

const SYSTEM: &str = "You are the receptionist of Acme Plumbing.\n\
                      Greeting: Thanks for calling Acme Plumbing, how can I help?\n\
                      Press 1: billing\n\
                      - Press 2 for the front desk\n\n\
                      You are Acme on a phone call.";

type ToolRunner = Box<dyn Fn(&str, &Value) -> Value>;

/// Plays the call workflow's part: runs tool calls through `tools` and appends everything.
struct Call {
    /// The system prompt, then the whole conversation.
    messages: Vec<ChatMessage>,
    tools: ToolRunner,
    /// The rules see only a window of the conversation, the way a bounded history sends it.
    windowed: bool,
}

impl Call {
    fn new(tools: impl Fn(&str, &Value) -> Value + 'static) -> Self {
        Self {
            messages: vec![ChatMessage::system(SYSTEM)],
            tools: Box::new(tools),
            windowed: false,
        }
    }

    /// The same call, where every reply sees the system prompt, a summary of what came before
    /// and the conversation from the last user turn on.
    fn windowed() -> Self {
        Self {
            windowed: true,
            ..Self::workflow_tools()
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
            "transfer_call" => match args["target"].as_str().unwrap() {
                "Dr Smith" => {
                    json!({"ok": true, "status": "transferring", "target": "Dr. Alice Smith",
                    "say": "Please hold while I connect you to Dr. Alice Smith."})
                }
                _ => json!({"ok": false, "reason": "not_found", "target": args["target"]}),
            },
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
            let reply = self.reply();
            // Deterministic: the same history gives the same answer.
            assert_eq!(reply, self.reply());
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

    fn reply(&self) -> ChatMessage {
        if !self.windowed {
            return RuleDialog::new().reply(&self.messages, 0);
        }
        let start = self
            .messages
            .iter()
            .rposition(|m| m.role == ChatRole::User)
            .expect("a user turn");
        // The system prompt is not part of the conversation.
        let earlier = start - 1;
        let mut window = vec![self.messages[0].clone()];
        if earlier > 0 {
            // Not the agent's instructions: its lines declare nothing.
            window.push(ChatMessage::system(
                "Earlier in this call, the caller asked some questions.\n\
                 Greeting: Hi from the summary\n\
                 Press 9: sales",
            ));
        }
        window.extend_from_slice(&self.messages[start..]);
        RuleDialog::new().reply(&window, earlier)
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
        "I'm sorry, I can't put you through to billing right now. Would you like to leave a message for them?"
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
fn a_name_not_found_can_be_said_again() {
    let mut call = Call::workflow_tools();
    // What a recognizer made of "Doctor Smith": nobody by that name.
    let (calls, _) = call.say("Can I speak to doctors Ms please?");
    assert_eq!(args(&calls[0])["target"], "doctors Ms");
    let (calls, reply) = call.say("Dr Smith, please, it is Jordan calling.");
    assert_eq!(calls[0].name, "transfer_call");
    assert_eq!(args(&calls[0])["target"], "Dr Smith");
    assert_eq!(reply, "Please hold while I connect you to Dr. Alice Smith.");
}

#[test]
fn a_transfer_under_way_asks_the_caller_to_hold() {
    let mut call = Call::workflow_tools();
    let (calls, reply) = call.say("Can I speak to Dr. Smith?");
    assert_eq!(calls[0].name, "transfer_call");
    assert_eq!(reply, "Please hold while I connect you to Dr. Alice Smith.");
}

#[test]
fn back_from_a_transfer_the_caller_leaves_a_message_for_the_person() {
    let mut call = Call::workflow_tools();
    call.say("Can I speak to Dr. Smith?");
    call.messages
        .push(ChatMessage::system(domain::transfer::transfer_result_note(
            domain::transfer::TransferReason::NoAnswer,
            "Dr. Alice Smith",
        )));
    call.messages.push(ChatMessage::assistant(
        "I'm sorry, Dr. Alice Smith isn't answering right now. Would you like to leave a message for them?",
    ));
    let (_, reply) = call.say("Yes please.");
    assert!(
        reply.contains("take a message for Dr. Alice Smith"),
        "{reply}"
    );
    call.say("My name is Jordan and my number is 415 555 0100");
    let (calls, _) = call.say("Please call me back about my appointment");
    assert_eq!(calls[0].name, "take_message");
    assert_eq!(args(&calls[0])["for_whom"], "Dr. Alice Smith");
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

#[test]
fn a_tool_call_id_counts_the_messages_before_the_window() {
    let window = [
        ChatMessage::system(SYSTEM),
        ChatMessage::user("What are your hours?"),
    ];
    let reply = RuleDialog::new().reply(&window, 0);
    assert_eq!(reply.tool_calls[0].id, "rules_2");
    let reply = RuleDialog::new().reply(&window, 40);
    assert_eq!(reply.tool_calls[0].id, "rules_42");
}

#[test]
fn tool_call_ids_stay_unique_when_only_a_window_of_the_call_is_sent() {
    let turns = [
        "What are your hours?",
        "Do you do boilers?",
        "What are your hours?",
        "[caller pressed 9]",
        "bye",
    ];
    let mut whole = Call::workflow_tools();
    let mut windowed = Call::windowed();
    for text in turns {
        // Each turn stands on its own, so the window changes none of the words.
        assert_eq!(windowed.say(text).1, whole.say(text).1, "{text}");
    }
    let ids: Vec<&str> = windowed
        .messages
        .iter()
        .flat_map(|m| m.tool_calls.iter().map(|c| c.id.as_str()))
        .collect();
    assert_eq!(ids.len(), 4);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{ids:?}");
}
