//! [`ConversationMemory`]: what a call remembers of its cascaded conversation, bounded.
//!
//! The LLM sees a **window** of the most recent messages (always starting at a caller's turn, so
//! no tool result loses its call) and, once older messages have slid out of it, one system
//! message of **notes** on them: what the caller said, which tools ran and what they answered,
//! what the agent said — each note cut to a line, the notes together to [`MAX_NOTES_CHARS`]
//! (the first ones are kept, since a call's opening says who is calling and why, and the most
//! recent ones; the middle gives way). Both are deterministic, so the workflow can hold them.
//!
//! Each LLM request is therefore bounded whatever the call's length, and so is the memory a
//! workflow carries across continue-as-new.

use crate::conversation::{ChatMessage, ChatRole};
use serde::{Deserialize, Serialize};

/// The window grows to this many messages …
pub const MAX_WINDOW: usize = 32;
/// … and is then cut back to at most this many (from a caller's turn on).
pub const KEPT_WINDOW: usize = 16;
/// The notes on earlier messages, in characters at most.
pub const MAX_NOTES_CHARS: usize = 4_000;
/// One note, in characters at most.
const MAX_NOTE_CHARS: usize = 240;
/// The first notes are kept when the middle gives way: the opening of the call.
const OPENING_NOTES: usize = 6;
/// How the notes message starts (the rule dialog and tests know it by this).
pub const NOTES_HEADING: &str = "Earlier in this call";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationMemory {
    /// How many messages have slid out of the window since the call began.
    pub earlier: u32,
    /// One line per earlier message worth remembering.
    pub notes: Vec<String>,
    /// Notes dropped from the middle to keep within [`MAX_NOTES_CHARS`].
    pub notes_dropped: u32,
    /// The most recent messages, oldest first.
    pub window: Vec<ChatMessage>,
}

impl ConversationMemory {
    /// Adds a message; when the window is full, its oldest messages become notes.
    pub fn push(&mut self, message: ChatMessage) {
        self.window.push(message);
        if self.window.len() > MAX_WINDOW {
            self.slide();
        }
    }

    /// What the LLM gets after its system prompt: the notes (if any) and the window.
    pub fn request(&self) -> Vec<ChatMessage> {
        let mut out = Vec::with_capacity(self.window.len() + 1);
        if !self.notes.is_empty() {
            out.push(ChatMessage::system(self.notes_text()));
        }
        out.extend(self.window.iter().cloned());
        out
    }

    fn notes_text(&self) -> String {
        let mut text = format!(
            "{NOTES_HEADING} ({} earlier messages, in order; the latest messages follow):",
            self.earlier
        );
        for (i, note) in self.notes.iter().enumerate() {
            if i == OPENING_NOTES && self.notes_dropped > 0 {
                text.push_str(&format!("\n- … ({} notes left out)", self.notes_dropped));
            }
            text.push_str("\n- ");
            text.push_str(note);
        }
        text
    }

    /// Cuts the window back to at most [`KEPT_WINDOW`] messages, starting at a caller's turn.
    fn slide(&mut self) {
        let earliest_cut = self.window.len() - KEPT_WINDOW;
        let cut = (earliest_cut..self.window.len())
            .find(|&i| self.window[i].role == ChatRole::User)
            // No caller turn among the last messages (a long run of tool rounds): keep them all
            // rather than orphan a tool result; the window is cut at the next caller turn.
            .unwrap_or(0);
        for message in self.window.drain(..cut) {
            self.earlier += 1;
            if let Some(note) = note_of(&message) {
                self.notes.push(note);
            }
        }
        self.trim_notes();
    }

    fn trim_notes(&mut self) {
        let mut total: usize = self.notes.iter().map(|n| n.len() + 3).sum();
        while total > MAX_NOTES_CHARS && self.notes.len() > OPENING_NOTES + 1 {
            let removed = self.notes.remove(OPENING_NOTES);
            total -= removed.len() + 3;
            self.notes_dropped += 1;
        }
    }
}

/// The line an earlier message leaves behind; `None` for what is not worth a line.
fn note_of(message: &ChatMessage) -> Option<String> {
    let content = message.content.as_deref().map(str::trim).unwrap_or("");
    let note = match message.role {
        ChatRole::System => return None,
        ChatRole::User => format!("Caller: {content}"),
        ChatRole::Assistant if !message.tool_calls.is_empty() => {
            let calls: Vec<String> = message
                .tool_calls
                .iter()
                .map(|c| format!("{}({})", c.name, c.arguments))
                .collect();
            format!("Agent called {}", calls.join(", "))
        }
        ChatRole::Assistant if content.is_empty() => return None,
        ChatRole::Assistant => format!("Agent: {content}"),
        ChatRole::Tool => format!("Tool result: {content}"),
    };
    Some(cut(&note, MAX_NOTE_CHARS))
}

fn cut(text: &str, max_chars: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::ChatToolCall;

    fn turn(memory: &mut ConversationMemory, n: usize) {
        memory.push(ChatMessage::user(format!("caller turn {n}")));
        memory.push(ChatMessage::assistant(format!("agent reply {n}")));
    }

    #[test]
    fn a_short_conversation_is_sent_whole() {
        let mut memory = ConversationMemory::default();
        for n in 0..10 {
            turn(&mut memory, n);
        }
        assert_eq!(memory.request(), memory.window);
        assert_eq!(memory.window.len(), 20);
        assert_eq!(memory.earlier, 0);
    }

    #[test]
    fn a_long_conversation_keeps_a_bounded_window_and_notes_of_the_opening() {
        let mut memory = ConversationMemory::default();
        memory.push(ChatMessage::user(
            "I'm Alice Quinn, calling about invoice 4471.",
        ));
        memory.push(ChatMessage::assistant("Thanks Alice."));
        for n in 1..1000 {
            turn(&mut memory, n);
        }
        assert_eq!(memory.earlier as usize + memory.window.len(), 2000);
        assert!(memory.window.len() <= MAX_WINDOW);
        assert_eq!(memory.window[0].role, ChatRole::User);
        let request = memory.request();
        let notes = request[0].content.clone().unwrap();
        assert!(notes.starts_with(NOTES_HEADING), "{notes}");
        assert!(
            notes.contains("Alice Quinn") && notes.contains("4471"),
            "{notes}"
        );
        assert!(notes.len() <= MAX_NOTES_CHARS + 200, "{}", notes.len());
        assert!(
            notes.contains("caller turn 98"),
            "recent notes stay: {notes}"
        );
        assert!(notes.contains("notes left out"), "{notes}");
        let json = serde_json::to_string(&memory).unwrap();
        assert!(json.len() < 12_000, "memory is {} bytes", json.len());
    }

    #[test]
    fn the_window_never_starts_at_a_tool_result() {
        let mut memory = ConversationMemory::default();
        for n in 0..200 {
            memory.push(ChatMessage::user(format!("turn {n}")));
            memory.push(ChatMessage {
                role: ChatRole::Assistant,
                content: None,
                tool_calls: vec![ChatToolCall {
                    id: format!("call_{n}"),
                    name: "lookup_knowledge".into(),
                    arguments: "{\"query\":\"hours\"}".into(),
                }],
                tool_call_id: None,
            });
            memory.push(ChatMessage::tool_result(
                format!("call_{n}"),
                "{\"results\":[]}",
            ));
            memory.push(ChatMessage::assistant("We open at nine."));
            assert_eq!(memory.window[0].role, ChatRole::User);
        }
        let notes = memory.request()[0].content.clone().unwrap();
        assert!(notes.contains("Agent called lookup_knowledge("), "{notes}");
        assert!(notes.contains("Tool result: {\"results\":[]}"), "{notes}");
    }

    #[test]
    fn a_long_note_is_cut_to_one_line() {
        let note = note_of(&ChatMessage::user("word\n".repeat(500))).unwrap();
        assert!(note.chars().count() <= MAX_NOTE_CHARS + 1);
        assert!(!note.contains('\n'));
        assert!(note.ends_with('…'));
    }
}
