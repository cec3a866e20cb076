//! An agent generated from extracted knowledge: its name, greeting and instructions, with the
//! hours, time zone and directory it works from.

use domain::site::{Contact, DayHours, ExtractedKnowledge};
use serde::{Deserialize, Serialize};

/// The persona's name when none is requested.
pub const DEFAULT_AGENT_NAME: &str = "Sam";

/// A phone agent, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedAgent {
    /// The persona's first name ("Sam").
    pub name: String,
    pub business_name: String,
    /// "Thanks for calling Bayside Plumbing & Heating, this is Sam, how can I help?"
    pub greeting: String,
    /// The system instructions: role, tone, what it knows, transfers, messages, emergencies.
    pub instructions: String,
    /// As extracted: seven days, Monday first, or none.
    pub hours: Vec<DayHours>,
    pub time_zone: Option<String>,
    pub phone: Option<String>,
    pub emergency_phone: Option<String>,
    pub directory: Vec<Contact>,
    /// How many knowledge entries the agent answers from.
    pub knowledge_entries: usize,
}

/// The agent for `knowledge`, named `requested_name` (trimmed, non-empty) or [`DEFAULT_AGENT_NAME`].
pub fn generate(knowledge: &ExtractedKnowledge, requested_name: Option<&str>) -> GeneratedAgent {
    let name = requested_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_AGENT_NAME)
        .to_owned();
    let business = knowledge
        .business_name
        .clone()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "our office".to_owned());
    GeneratedAgent {
        greeting: format!("Thanks for calling {business}, this is {name}, how can I help?"),
        instructions: instructions(knowledge, &name, &business),
        name,
        business_name: business,
        hours: knowledge.hours.clone(),
        time_zone: knowledge.time_zone.clone(),
        phone: knowledge.phone.clone(),
        emergency_phone: knowledge.emergency_phone.clone(),
        directory: knowledge.contacts.clone(),
        knowledge_entries: knowledge.entries.len(),
    }
}

fn topics(knowledge: &ExtractedKnowledge) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for entry in &knowledge.entries {
        let topic = entry.category.as_str();
        if !seen.contains(&topic) {
            seen.push(topic);
        }
    }
    seen.iter()
        .map(|t| t.replace('_', " "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn instructions(knowledge: &ExtractedKnowledge, name: &str, business: &str) -> String {
    let mut lines = vec![
        format!("You are {name}, the phone receptionist of {business}. You answer calls from customers and people who want to become customers."),
        "Be warm, brief and plain-spoken: one or two short sentences at a time, no lists, no jargon. Ask one question at a time.".to_owned(),
        format!("Answer only from the knowledge base (look it up before answering); it covers: {}.", topics(knowledge)),
        "Never invent prices, times, policies or promises. If the knowledge base does not say, say you don't know and offer to take a message.".to_owned(),
    ];
    if !knowledge.hours.is_empty() {
        let tz = knowledge.time_zone.as_deref().unwrap_or("local time");
        lines.push(format!(
            "Opening hours are in {tz}: {}",
            crate::hours::spoken(&knowledge.hours)
        ));
    }
    if !knowledge.contacts.is_empty() {
        let people: Vec<String> = knowledge.contacts.iter().map(describe).collect();
        lines.push(format!("Transfer a caller who asks for a person or department, when they are available: {}. Otherwise take a message with the caller's name, number and reason.", people.join("; ")));
    } else {
        lines.push(
            "When a caller asks for someone, take a message with their name, number and reason."
                .to_owned(),
        );
    }
    if let Some(emergency) = &knowledge.emergency_phone {
        lines.push(format!("If the caller has an emergency (a burst pipe, flooding, a gas smell, no heat), give them the emergency line {emergency} right away; for a gas smell, tell them to leave the building and call the gas company first."));
    }
    if let Some(address) = &knowledge.address {
        lines.push(format!("The business is at {address}."));
    }
    lines.join("\n")
}

fn describe(c: &Contact) -> String {
    let what: Vec<&str> = [c.role.as_deref(), c.department.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if what.is_empty() {
        c.name.clone()
    } else {
        format!("{} ({})", c.name, what.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requested_name_replaces_the_default_and_blank_is_ignored() {
        let k = ExtractedKnowledge {
            business_name: Some("Acme Plumbing".into()),
            ..Default::default()
        };
        assert_eq!(
            generate(&k, Some(" Ava ")).greeting,
            "Thanks for calling Acme Plumbing, this is Ava, how can I help?"
        );
        assert_eq!(generate(&k, Some("  ")).name, DEFAULT_AGENT_NAME);
        assert!(
            generate(&ExtractedKnowledge::default(), None)
                .greeting
                .contains("our office")
        );
    }
}
