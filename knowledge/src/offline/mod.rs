//! The rule-based extractor: no model, no network. Facts first (name, phone numbers, email,
//! address, time zone, hours, people), then each page's sections: question/answer pairs
//! ([`crate::faq`]), prices ([`crate::prices`]), tables, and the rest as "what can you tell me
//! about {heading}?" entries, each in the category [`crate::category`] gives its page or heading.
//!
//! Pages are read in a fixed order (contact page, home, about, then by URL) so the output does
//! not depend on the order the crawler found them; entries are de-duplicated by question and
//! sorted by category (in `KnowledgeCategory::ALL` order), then by that reading order.

mod entries;
mod sections;

use crate::{facts, hours, phones, team};
use domain::KnowledgeCategory;
use domain::site::{Contact, ExtractedKnowledge, Page};
use entries::Entries;
use std::collections::HashMap;

/// The knowledge the rules find in `pages`.
pub fn extract(pages: &[Page]) -> ExtractedKnowledge {
    let ordered = reading_order(pages);
    let mut out = ExtractedKnowledge {
        business_name: facts::business_name(&ordered),
        ..Default::default()
    };
    let mut entries = Entries::default();
    phone_facts(&ordered, &mut out, &mut entries);
    place_facts(&ordered, &mut out, &mut entries);
    let (week, source) = hours::from_pages(&ordered);
    if let Some(url) = source.filter(|_| !week.is_empty()) {
        let answer = hours::spoken(&week);
        entries.push(
            KnowledgeCategory::BusinessInformation,
            "What are your opening hours?",
            &answer,
            &url,
        );
    }
    out.hours = week;
    out.contacts = people(&ordered, &mut entries);
    for page in &ordered {
        sections::page_entries(page, &mut entries);
    }
    out.entries = entries.finish();
    out
}

/// Contact page, home, about pages, then the rest; each group by URL.
fn reading_order(pages: &[Page]) -> Vec<&Page> {
    let rank = |p: &Page| match p.path() {
        path if path.starts_with("/contact") => 0,
        "/" => 1,
        path if path.starts_with("/about") => 2,
        _ => 3,
    };
    let mut ordered: Vec<&Page> = pages.iter().collect();
    ordered.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.url.cmp(&b.url)));
    ordered.dedup_by(|a, b| a.url == b.url);
    ordered
}

/// A number's mentions: (times, first seen, as written, source URL).
type Mentions = HashMap<String, (usize, usize, String, String)>;

fn note(mentions: &mut Mentions, found: &phones::Found, url: &str) {
    let seen = mentions.len();
    let entry = mentions.entry(found.e164.clone()).or_insert((
        0,
        seen,
        found.written.clone(),
        url.to_owned(),
    ));
    entry.0 += 1;
}

fn most_mentioned(mentions: &Mentions, except: Option<&str>) -> Option<(String, String, String)> {
    mentions
        .iter()
        .filter(|(n, _)| Some(n.as_str()) != except)
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(n, (_, _, written, url))| (n.clone(), written.clone(), url.clone()))
}

/// The main line (most mentioned without emergency words around it) and the emergency line.
fn phone_facts(pages: &[&Page], out: &mut ExtractedKnowledge, entries: &mut Entries) {
    let (mut plain, mut urgent) = (Mentions::new(), Mentions::new());
    let mut around_the_clock = false;
    for page in pages {
        for section in &page.sections {
            let heading = section.heading.clone().unwrap_or_default();
            for block in &section.blocks {
                for sentence in crate::text::sentences(&block.text()) {
                    let context = format!("{} {heading} {sentence}", page.path());
                    for found in phones::find(&sentence) {
                        let emergency = phones::is_emergency(&context);
                        around_the_clock |= emergency && context.contains("24/7");
                        note(
                            if emergency { &mut urgent } else { &mut plain },
                            &found,
                            &page.url,
                        );
                    }
                }
            }
        }
    }
    if let Some((e164, written, url)) = most_mentioned(&plain, None) {
        let answer = format!("You can reach us at {written}.");
        entries.push(
            KnowledgeCategory::BusinessInformation,
            "What is your phone number?",
            &answer,
            &url,
        );
        out.phone = Some(e164);
    }
    if let Some((e164, written, url)) = most_mentioned(&urgent, out.phone.as_deref()) {
        let line = if around_the_clock {
            "24/7 emergency line"
        } else {
            "emergency line"
        };
        let answer = format!("For emergencies, call our {line} at {written}.");
        entries.push(
            KnowledgeCategory::EmergencyContact,
            "Do you have an emergency line?",
            &answer,
            &url,
        );
        out.emergency_phone = Some(e164);
    }
}

/// Email, street address and time zone.
fn place_facts(pages: &[&Page], out: &mut ExtractedKnowledge, entries: &mut Entries) {
    let mut state = None;
    for page in pages {
        let text = page.text();
        if out.email.is_none()
            && let Some(email) = facts::emails(&text).into_iter().next()
        {
            let answer = format!("You can email us at {email}.");
            entries.push(
                KnowledgeCategory::BusinessInformation,
                "What is your email address?",
                &answer,
                &page.url,
            );
            out.email = Some(email);
        }
        if out.address.is_none()
            && let Some((address, st)) = facts::addresses(&text).into_iter().next()
        {
            let answer = format!("We're at {address}.");
            entries.push(
                KnowledgeCategory::BusinessInformation,
                "Where are you located?",
                &answer,
                &page.url,
            );
            out.address = Some(address);
            state = Some(st);
        }
    }
    let zone = state
        .as_deref()
        .and_then(facts::zone_of_state)
        .or_else(|| out.phone.as_deref().and_then(facts::zone_of_phone));
    out.time_zone = zone.map(str::to_owned);
}

/// The people the site lists, each also an entry ("Who is Maria Moretti?").
fn people(pages: &[&Page], entries: &mut Entries) -> Vec<Contact> {
    let mut contacts: Vec<Contact> = Vec::new();
    for page in pages {
        for section in &page.sections {
            let Some(contact) = team::contact(section, &page.url) else {
                continue;
            };
            if contacts.iter().any(|c| c.name == contact.name) {
                continue;
            }
            let text: String = section.blocks.iter().map(|b| b.text() + "\n").collect();
            let written = phones::find(&text).into_iter().next().map(|f| f.written);
            let answer = team::describe(&contact, written.as_deref());
            let question = format!("Who is {}?", contact.name);
            entries.push(
                KnowledgeCategory::BusinessInformation,
                &question,
                &answer,
                &page.url,
            );
            if let Some(dept) = &contact.department {
                let question = format!("Who handles {}?", dept.to_lowercase());
                entries.push(
                    KnowledgeCategory::BusinessInformation,
                    &question,
                    &answer,
                    &page.url,
                );
            }
            contacts.push(contact);
        }
    }
    contacts
}
