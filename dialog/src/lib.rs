//! A rule-based receptionist that stands in for the LLM when no provider is configured.
//!
//! [`RuleDialog::reply`] is a pure function of the conversation so far: the history is the
//! state. It replays every user turn and tool result through a small state machine (message
//! draft, what the agent last asked) and answers the last one, so the same history always gives
//! the same reply, and tool call ids (`rules_<messages so far>`) are unique within a call and
//! stable across activity retries. It may be given only a window of the conversation (the
//! most recent turns, after the system prompt and perhaps a summary): the window is then the
//! history it replays, and the number of messages before it keeps the ids counting.
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
//! The first system message (the agent's instructions; a later one, such as a summary of
//! earlier turns, is not read for these) may contain, one per line:
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
//!
//! # Outbound campaign calls
//!
//! Instructions with a `Campaign script: {…}` line ([`campaign::CampaignScript`], written by
//! [`CampaignScript::to_instruction_line`]) make the call an outbound campaign call, which
//! follows the script instead of the receptionist's rules: its opening is the greeting, then
//! it confirms the person, states the goal, offers a slot or takes a counter-proposal
//! ("Wednesday at 3 works better", resolved by [`when`] against the script's `now_local`) and
//! calls `book_appointment`, `request_callback`, `do_not_call` (above all else, at any point)
//! and `end_call` with the outcome as its reason. A system message
//! [`ANSWERED_BY_MACHINE`] makes the agent leave the voicemail message and end the call. See
//! [`campaign`].
//!
//! # Modules
//!
//! - `policy`: [`RuleDialog`], which replays the conversation and answers its last turn.
//! - [`campaign`]: outbound campaign calls — the script, and their own replay, turns and tool
//!   results.
//! - [`when`]: words to a local date and time ("tomorrow morning at 9") and back; re-exported
//!   from `domain::when`, which post-call analysis reads the same words with.
//! - `history`: reading the conversation back (the tool call a result answers).
//! - `turn`: a caller turn — what any turn may do, then the answer to what the agent is waiting
//!   for (`pending`, one handler per state), then what the caller wants.
//! - `pending`: one handler per state the agent waits in (read-back, a detail asked for, the
//!   caller-ID offer, …).
//! - `keypad`: keys pressed — a callback number keyed in, or a choice from the menu.
//! - `tools`: what the agent says when a tool's result comes back, one handler per tool.
//! - `moves`: the moves several states make (carry on with the message, transfer, end the call).
//! - `state`, `action`: what the policy knows between turns, and what it answers with.
//! - `draft`, `fill`: a message being taken, and filling its details from what the caller said.
//! - `hints`: what the agent's instructions declare (greeting, keypad menu, caller ID).
//! - `phrases`: what the agent says in more than one place.
//! - `utterance`, `extract`, `lexicon`, `speak`: the language pieces — a turn's words and
//!   intents, the details it carries (numbers, names, recipients, messages), the word lists, and
//!   numbers read back.
//! - `phone`: a phone number's digits, with or without the North American country code.

mod action;
pub mod campaign;
mod draft;
mod extract;
mod fill;
mod hints;
mod history;
mod keypad;
mod lexicon;
mod moves;
mod pending;
mod phone;
mod phrases;
mod policy;
mod speak;
mod state;
mod tools;
mod turn;
mod utterance;

pub use domain::when;

pub use campaign::{ANSWERED_BY_MACHINE, CAMPAIGN_SCRIPT_LINE, CampaignScript};
pub use hints::CALLER_ID_LINE;
pub use policy::RuleDialog;
