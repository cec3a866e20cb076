//! Whole campaign calls with the rules, the way the call workflow holds them: the script in the
//! instructions, the person's turns, the tool calls they lead to and what the agent says.

use super::{ANSWERED_BY_MACHINE, CampaignScript};
use crate::RuleDialog;
use domain::conversation::{ChatMessage, ChatToolCall};
use serde_json::{Value, json};

fn script() -> CampaignScript {
    serde_json::from_value(json!({
        "goal": "Your {vehicle} is due for its 12-month service, and I'd be happy to book it in.",
        "opening": "Hi {name}, this is Sam from Acme Motors about your {vehicle}'s service.",
        "questions": ["Any warning lights on?"],
        "collect": ["mileage"],
        "voicemail_message": "Hi {name}, this is Sam from Acme Motors. Your {vehicle} is due for service; call us on 555 0100.",
        "offer_slots": ["2026-12-08T10:00", "2026-12-09T14:30"],
        "recipient": {"name": "Jordan", "vehicle": "2019 Civic", "time_zone": "America/New_York"},
        "now_local": "2026-12-05T14:00"
    }))
    .unwrap()
}

type ToolRunner = Box<dyn Fn(&str, &Value) -> Value>;

/// Plays the call workflow's part: runs tool calls through `tools` and appends everything.
struct Call {
    messages: Vec<ChatMessage>,
    tools: ToolRunner,
}

impl Call {
    fn new(tools: impl Fn(&str, &Value) -> Value + 'static) -> Self {
        let instructions = format!(
            "You are Sam, calling for Acme Motors.\n{}",
            script().to_instruction_line().unwrap()
        );
        Self {
            messages: vec![ChatMessage::system(instructions)],
            tools: Box::new(tools),
        }
    }

    fn workflow_tools() -> Self {
        Self::new(|name, args| match name {
            "end_call" => {
                json!({"ok": true, "next": "Say a short goodbye now; the call ends after it."})
            }
            "book_appointment" => json!({"ok": true, "appointment_id": "a-1"}),
            "request_callback" | "do_not_call" => json!({"ok": true}),
            "lookup_knowledge" if args["query"].as_str().unwrap().contains("cost") => {
                json!({"results": [{"category": "service", "question": "Price?", "answer": "The 12-month service is $149. It takes about an hour."}]})
            }
            "lookup_knowledge" => json!({"results": []}),
            other => panic!("unexpected tool {other}"),
        })
    }

    /// What the agent says first, before anyone speaks.
    fn greeting(&self) -> String {
        let reply = RuleDialog::new().reply(&self.messages, 0);
        reply.content.expect("a spoken greeting")
    }

    /// One turn of the person called: the tool calls made on the way and the spoken reply.
    fn say(&mut self, text: &str) -> (Vec<ChatToolCall>, String) {
        self.messages.push(ChatMessage::user(text));
        self.run()
    }

    /// The agent's replies until it speaks.
    fn run(&mut self) -> (Vec<ChatToolCall>, String) {
        let mut calls = Vec::new();
        for _ in 0..4 {
            let reply = RuleDialog::new().reply(&self.messages, 0);
            assert_eq!(reply, RuleDialog::new().reply(&self.messages, 0));
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

fn names(calls: &[ChatToolCall]) -> Vec<&str> {
    calls.iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn the_offered_slot_is_booked_confirmed_and_the_call_ends() {
    let mut call = Call::workflow_tools();
    assert_eq!(
        call.greeting(),
        "Hi Jordan, this is Sam from Acme Motors about your 2019 Civic's service. Am I speaking \
         with Jordan?"
    );
    let (calls, reply) = call.say("Yes, speaking.");
    assert!(calls.is_empty());
    assert_eq!(
        reply,
        "Great, thank you. Your 2019 Civic is due for its 12-month service, and I'd be happy to \
         book it in. Would Tuesday December 8th at 10 am work for you?"
    );
    let (calls, reply) = call.say("Yeah that works");
    assert_eq!(names(&calls), ["book_appointment", "end_call"]);
    let booking = args(&calls[0]);
    assert_eq!(booking["starts_at_local"], "2026-12-08T10:00");
    assert_eq!(booking["time_zone"], "America/New_York");
    assert!(
        booking["notes"]
            .as_str()
            .unwrap()
            .contains("Yeah that works"),
        "{booking}"
    );
    assert_eq!(args(&calls[1])["reason"], "appointment_booked");
    assert_eq!(
        reply,
        "You're all set for Tuesday December 8th at 10 am. Thank you, Jordan, we'll see you \
         then. Goodbye!"
    );
}

#[test]
fn a_counter_proposal_is_resolved_against_now_and_booked() {
    for (said, at) in [
        ("Wednesday at 3 works better", "2026-12-09T15:00"),
        ("Could you do tomorrow morning at 9?", "2026-12-06T09:00"),
        ("no, next Monday 10:30", "2026-12-07T10:30"),
        ("how about 2 pm instead", "2026-12-08T14:00"),
    ] {
        let mut call = Call::workflow_tools();
        call.say("yes it is");
        let (calls, reply) = call.say(said);
        assert_eq!(names(&calls), ["book_appointment", "end_call"], "{said}");
        assert_eq!(args(&calls[0])["starts_at_local"], at, "{said}");
        assert!(reply.starts_with("You're all set for"), "{reply}");
    }
}

#[test]
fn a_day_without_a_time_is_asked_about_and_a_no_gets_the_next_slot() {
    let mut call = Call::workflow_tools();
    call.say("that's me");
    let (calls, reply) = call.say("No, that doesn't work for me.");
    assert!(calls.is_empty());
    assert_eq!(
        reply,
        "No problem. Would Wednesday December 9th at 2:30 pm work for you?"
    );
    let (_, reply) = call.say("Thursday would be better");
    assert_eq!(reply, "What time on Thursday December 10th works for you?");
    let (calls, _) = call.say("around 11");
    assert_eq!(args(&calls[0])["starts_at_local"], "2026-12-10T11:00");
}

#[test]
fn a_slot_that_cannot_be_booked_gets_the_next_one() {
    let mut call = Call::new(|name, args| match name {
        "book_appointment" if args["starts_at_local"] == "2026-12-08T10:00" => {
            json!({"ok": false, "reason": "slot_taken"})
        }
        "book_appointment" | "end_call" => json!({"ok": true}),
        other => panic!("unexpected tool {other}"),
    });
    call.say("yes");
    let (calls, reply) = call.say("sure");
    assert_eq!(names(&calls), ["book_appointment"]);
    assert_eq!(
        reply,
        "I'm sorry, Tuesday December 8th at 10 am isn't available after all. Would Wednesday \
         December 9th at 2:30 pm work for you?"
    );
    let (calls, _) = call.say("ok");
    assert_eq!(args(&calls[0])["starts_at_local"], "2026-12-09T14:30");
}

#[test]
fn a_wrong_number_is_apologised_for_and_ends_the_call() {
    for said in [
        "Sorry, wrong number",
        "There's no one here by that name",
        "No.",
    ] {
        let mut call = Call::workflow_tools();
        let (calls, reply) = call.say(said);
        assert_eq!(names(&calls), ["end_call"], "{said}");
        assert_eq!(args(&calls[0])["reason"], "wrong_number");
        assert_eq!(
            reply,
            "I'm so sorry to have bothered you. Have a good day, goodbye!"
        );
    }
}

#[test]
fn a_do_not_call_request_mid_booking_outranks_the_booking() {
    let mut call = Call::workflow_tools();
    call.say("yes");
    call.say("Thursday would be better");
    // What the recognizer made of "please stop calling me, take me off your list".
    let (calls, reply) = call.say("pleese stop callin me, Thursday or not");
    assert_eq!(names(&calls), ["do_not_call", "end_call"]);
    assert_eq!(
        args(&calls[0])["reason"],
        "pleese stop callin me, Thursday or not"
    );
    assert_eq!(args(&calls[1])["reason"], "do_not_call");
    assert!(
        reply.starts_with("Understood. I've taken your number off our call list"),
        "{reply}"
    );
}

#[test]
fn a_do_not_call_request_is_heard_at_any_step() {
    for said in [
        "take me off your list",
        "Don't call again.",
        "remove my number please",
    ] {
        let mut call = Call::workflow_tools();
        let (calls, _) = call.say(said);
        assert_eq!(names(&calls), ["do_not_call", "end_call"], "{said}");
    }
}

#[test]
fn not_interested_closes_politely() {
    let mut call = Call::workflow_tools();
    call.say("yes this is Jordan");
    let (calls, reply) = call.say("I'm not intrested, thanks");
    assert_eq!(names(&calls), ["end_call"]);
    assert_eq!(args(&calls[0])["reason"], "not_interested");
    assert_eq!(
        reply,
        "No problem at all, thank you for your time. Goodbye!"
    );
}

#[test]
fn a_call_back_is_noted_with_when_and_the_call_ends() {
    let mut call = Call::workflow_tools();
    call.say("yes");
    let (calls, reply) = call.say("I'm driving, can you call me back tomorrow at 5?");
    assert_eq!(names(&calls), ["request_callback", "end_call"]);
    assert_eq!(args(&calls[0])["when_local"], "2026-12-06T17:00");
    assert_eq!(args(&calls[1])["reason"], "callback_requested");
    assert_eq!(
        reply,
        "No problem, we'll call you back on Sunday December 6th at 5 pm. Thank you, goodbye!"
    );
    // Without a time, none is made up.
    let mut call = Call::workflow_tools();
    let (calls, reply) = call.say("Jordan's not home right now");
    assert_eq!(names(&calls), ["request_callback", "end_call"]);
    assert!(args(&calls[0]).get("when_local").is_none());
    assert!(reply.contains("another time"), "{reply}");
}

#[test]
fn silence_is_asked_again_once_then_a_call_back_is_offered() {
    let mut call = Call::workflow_tools();
    call.say("yes");
    let (_, reply) = call.say("");
    assert_eq!(
        reply,
        "Sorry, I didn't catch that. Would Tuesday December 8th at 10 am work for you?"
    );
    let (_, reply) = call.say("purple monkey dishwasher");
    assert_eq!(
        reply,
        "I'm sorry, I'm having trouble hearing you. Would it be better if we called you back \
         another time?"
    );
    let (calls, _) = call.say("yes please");
    assert_eq!(names(&calls), ["request_callback", "end_call"]);
}

#[test]
fn a_machine_gets_the_voicemail_message_and_nothing_else() {
    let mut call = Call::workflow_tools();
    call.messages.push(ChatMessage::system(ANSWERED_BY_MACHINE));
    let (calls, reply) = call.run();
    assert_eq!(names(&calls), ["end_call"]);
    assert_eq!(args(&calls[0])["reason"], "voicemail");
    assert_eq!(
        reply,
        "Hi Jordan, this is Sam from Acme Motors. Your 2019 Civic is due for service; call us \
         on 555 0100."
    );
}

#[test]
fn a_question_the_script_does_not_cover_is_looked_up_then_the_offer_stands() {
    let mut call = Call::workflow_tools();
    call.say("yes");
    let (calls, reply) = call.say("How much does the service cost?");
    assert_eq!(names(&calls), ["lookup_knowledge"]);
    assert_eq!(
        reply,
        "The 12-month service is $149. It takes about an hour. Would Tuesday December 8th at \
         10 am work for you?"
    );
    let (_, reply) = call.say("Who is this again?");
    assert!(
        reply.starts_with("Hi Jordan, this is Sam from Acme Motors"),
        "{reply}"
    );
}

#[test]
fn the_script_round_trips_through_its_instructions_line() {
    let line = script().to_instruction_line().unwrap();
    assert!(line.starts_with("Campaign script: {"), "{line}");
    assert!(!line.contains('\n'));
    assert!(line.contains("\"2026-12-08T10:00\""), "{line}");
    let parsed = CampaignScript::from_instruction_line(&line)
        .unwrap()
        .unwrap();
    assert_eq!(parsed, script());
    assert!(CampaignScript::from_instruction_line("Greeting: hi").is_none());
}

#[test]
fn an_inbound_call_is_not_a_campaign_call() {
    let inbound = [
        ChatMessage::system("You are the receptionist.\nGreeting: Thanks for calling Acme."),
        ChatMessage::user("please stop calling me, can I book an appointment?"),
    ];
    let reply = RuleDialog::new().reply(&inbound, 0);
    assert_eq!(reply.tool_calls[0].name, "lookup_knowledge");
}
