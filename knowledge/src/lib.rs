//! Knowledge from a business's crawled website, for the agent builder.
//!
//! - [`offline`]: the rule-based extractor ([`offline::extract`]), used with no LLM key. Its
//!   rules, each in its own module: [`category`] (keyword tables: page path, heading, title →
//!   one of the 18 categories), [`faq`] (question/answer pairs), [`hours`] (opening hours),
//!   [`phones`] (US numbers → E.164, the emergency line by context), [`prices`], [`facts`]
//!   (email, street address, time zone, business name), [`team`] (people → contacts), [`text`]
//!   (speakable answers: two sentences, 300 characters).
//! - [`agent`]: a [`agent::GeneratedAgent`] (name, greeting, instructions, hours, directory)
//!   from extracted knowledge.
//! - [`llm`]: the pure parts of the LLM extractor: chunking to a token budget, the prompt, the
//!   response's JSON Schema and its strict parsing.

pub mod agent;
pub mod category;
pub mod facts;
pub mod faq;
pub mod hours;
pub mod llm;
pub mod offline;
pub mod phones;
pub mod prices;
pub mod team;
pub mod text;

pub use agent::{GeneratedAgent, generate};
pub use llm::LlmExtractError;
pub use offline::extract;
