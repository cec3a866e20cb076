//! People: a section headed by a person's name whose blocks give a role ("Role:", "Title:",
//! "Position:") or a department ("Department:", "Team:"), and maybe a phone and an email.

use crate::{facts, phones};
use domain::site::{Contact, Section};

const ROLE_LABELS: &[&str] = &["role:", "title:", "position:", "job title:"];
const DEPARTMENT_LABELS: &[&str] = &["department:", "team:", "dept.:", "dept:"];

/// The text after one of `labels`, case-insensitively, in any block.
fn labelled(section: &Section, labels: &[&str]) -> Option<String> {
    section.blocks.iter().find_map(|b| {
        let text = b.text();
        let lower = text.to_lowercase();
        labels.iter().find_map(|l| {
            lower
                .strip_prefix(l)
                .map(|_| text[l.len()..].trim().to_owned())
        })
    })
}

/// 2–4 capitalised alphabetic words, no question: "Maria Moretti", "Mary-Ann de Vries".
pub fn looks_like_name(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && words[0].starts_with(|c: char| c.is_uppercase())
        && words
            .last()
            .is_some_and(|w| w.starts_with(|c: char| c.is_uppercase()))
        && words.iter().all(|w| {
            w.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '.'))
        })
}

/// The section's person, when it is one (a name alone is not enough: "Frequently Asked
/// Questions" looks like one).
pub fn contact(section: &Section, source_url: &str) -> Option<Contact> {
    let name = section.heading.as_deref().filter(|h| looks_like_name(h))?;
    let role = labelled(section, ROLE_LABELS);
    let department = labelled(section, DEPARTMENT_LABELS);
    let text: String = section.blocks.iter().map(|b| b.text() + "\n").collect();
    let phone = phones::find(&text).into_iter().next().map(|f| f.e164);
    let email = facts::emails(&text).into_iter().next();
    (role.is_some() || department.is_some()).then(|| Contact {
        name: name.trim().to_owned(),
        role,
        department,
        phone,
        email,
        source_url: source_url.to_owned(),
    })
}

/// What the agent says about a person: who they are, and how to reach them.
pub fn describe(contact: &Contact, written_phone: Option<&str>) -> String {
    let first = contact
        .name
        .split_whitespace()
        .next()
        .unwrap_or(&contact.name);
    let who = match (&contact.role, &contact.department) {
        (Some(r), Some(d)) => format!("{} is our {r}, in the {d} department.", contact.name),
        (Some(r), None) => format!("{} is our {r}.", contact.name),
        (None, Some(d)) => format!("{} works in our {d} department.", contact.name),
        (None, None) => format!("{} is on our team.", contact.name),
    };
    match written_phone {
        Some(p) => format!("{who} You can reach {first} directly at {p}."),
        None => who,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::site::Block;

    #[test]
    fn a_person_section_becomes_a_contact() {
        let section = Section {
            heading: Some("Grace Chen".into()),
            level: 3,
            trail: vec![],
            blocks: vec![
                Block::ListItem("Role: Heating Technician".into()),
                Block::ListItem("Department: Heating".into()),
                Block::ListItem("Direct line: (415) 555-0154".into()),
                Block::ListItem("Email: grace@example.com".into()),
            ],
        };
        let c = contact(&section, "http://x/team");
        let c = c.as_ref();
        assert_eq!(
            c.and_then(|c| c.role.as_deref()),
            Some("Heating Technician")
        );
        assert_eq!(c.and_then(|c| c.department.as_deref()), Some("Heating"));
        assert_eq!(c.and_then(|c| c.phone.as_deref()), Some("+14155550154"));
        assert_eq!(
            c.and_then(|c| c.email.as_deref()),
            Some("grace@example.com")
        );
        assert!(!looks_like_name("What we do"));
        assert!(!looks_like_name("Plumbing emergency?"));
    }
}
