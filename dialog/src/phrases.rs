//! What the agent says in more than one place.

pub(crate) const HOW_CAN_I_HELP: &str = "How can I help you today?";
pub(crate) const KEYPAD_HINT: &str = "You can also key it in, followed by the pound key.";
pub(crate) const CAPABILITIES: &str =
    "I can answer questions, take a message, or try to put you through to someone.";
pub(crate) const ANYTHING_ELSE: &str = "Is there anything else I can help with?";
pub(crate) const GOODBYE: &str = "Thank you for calling. Goodbye!";
pub(crate) const NO_INFORMATION: &str =
    "I'm sorry, I don't have that information. Would you like to leave a message?";
