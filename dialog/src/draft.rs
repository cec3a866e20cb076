//! A message being taken: its details (slots), which one is missing, how it is read back and
//! the arguments of `take_message`.

use crate::speak::speak_number;
use serde_json::{Value, json};

/// A message being taken.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Draft {
    pub(crate) for_whom: Option<String>,
    pub(crate) caller_name: Option<String>,
    /// Digits only.
    pub(crate) callback_number: Option<String>,
    /// The caller said there is no number to call back on.
    pub(crate) number_declined: bool,
    pub(crate) message: Option<String>,
}

impl Draft {
    /// The first detail still missing, in the order they are asked for.
    pub(crate) fn missing(&self) -> Option<Slot> {
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
    pub(crate) fn details(&self) -> String {
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

    /// The arguments of `take_message`.
    pub(crate) fn tool_arguments(&self) -> Value {
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

/// A detail of the message, asked for one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    ForWhom,
    Name,
    Number,
    Message,
}

impl Slot {
    pub(crate) fn prompt(self) -> &'static str {
        match self {
            Slot::ForWhom => "Who is the message for?",
            Slot::Name => "May I have your name, please?",
            Slot::Number => "What's the best number to call you back on?",
            Slot::Message => "What would you like the message to say?",
        }
    }
}
