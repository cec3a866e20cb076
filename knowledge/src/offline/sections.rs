//! Entries from one page's sections: question/answer pairs, prices, tables and text.

use super::entries::Entries;
use crate::text::{MAX_ANSWER_CHARS, lower_title, with_stop};
use crate::{category, faq, hours, phones, prices, team};
use domain::KnowledgeCategory as C;
use domain::site::{Block, Page, Section};
use std::collections::HashSet;

/// Headings of link lists, not knowledge.
const LINK_LISTS: &[&str] = &[
    "learn more",
    "more",
    "related",
    "see also",
    "quick links",
    "links",
    "resources",
    "share",
];

/// Headings that label a price, so the page's `<h1>` names the service.
const PRICE_HEADINGS: &[&str] = &["price", "prices", "pricing", "cost", "rates"];

/// What the page is about: its `<h1>`, else the first part of its title.
fn subject(page: &Page) -> String {
    page.sections
        .iter()
        .find(|s| s.level == 1)
        .and_then(|s| s.heading.clone())
        .unwrap_or_else(|| {
            page.title
                .split(" | ")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
}

/// The subject as a question names it: "About Acme" is about "Acme".
fn topic(subject: &str) -> String {
    let lower = lower_title(subject);
    lower
        .strip_prefix("about ")
        .map_or(lower.clone(), str::to_owned)
}

pub(super) fn page_entries(page: &Page, entries: &mut Entries) {
    let subject = subject(page);
    let path_category = category::of_path(page);
    let faq_page = path_category == Some(C::SupportFaq);
    for section in &page.sections {
        if team::contact(section, &page.url).is_some() {
            continue;
        }
        let category = category::of_section(page, section.heading.as_deref());
        for pair in faq::pairs(section, faq_page) {
            let c = if faq_page { C::SupportFaq } else { category };
            entries.push(c, &pair.question, &pair.answer, &page.url);
        }
        let priced = price_entries(page, section, &subject, entries);
        table_entries(page, section, category, &priced, entries);
        text_entry(page, section, category, &subject, &priced, entries);
    }
}

/// Prices on pricing and service pages, or under a pricing heading: the blocks used.
fn price_entries(
    page: &Page,
    section: &Section,
    subject: &str,
    entries: &mut Entries,
) -> HashSet<usize> {
    let heading = section.heading.as_deref().unwrap_or_default();
    let price_heading = PRICE_HEADINGS.contains(&heading.to_lowercase().as_str());
    let pricey = matches!(
        category::of_path(page),
        Some(C::ProductsServices | C::PricingBilling)
    ) || category::from_text(heading) == Some(C::PricingBilling);
    let mut used = HashSet::new();
    if !pricey {
        return used;
    }
    let fallback = price_heading.then_some(subject);
    for (i, block) in section.blocks.iter().enumerate() {
        let price = match block {
            Block::TableRow(cells) => prices::from_row(cells),
            Block::Paragraph(t) | Block::ListItem(t) => prices::from_line(t, fallback),
            Block::Definition { .. } => None,
        };
        if let Some(price) = price {
            entries.push(
                C::PricingBilling,
                &price.question(),
                &price.answer(),
                &page.url,
            );
            used.insert(i);
        }
    }
    used
}

/// "a, b, and c" from as many parts as fit in `room` characters.
fn list_that_fits(parts: &[String], room: usize) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut len = 0;
    for part in parts {
        len += part.chars().count() + 6;
        if len > room {
            break;
        }
        kept.push(part.trim_end_matches('.'));
    }
    match kept.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// A table (not hours, not prices): a summary entry, and one per row for specs and stock.
fn table_entries(
    page: &Page,
    section: &Section,
    category: C,
    used: &HashSet<usize>,
    entries: &mut Entries,
) {
    let rows: Vec<&Vec<String>> = section
        .blocks
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .filter_map(|(_, b)| {
            if let Block::TableRow(cells) = b {
                Some(cells)
            } else {
                None
            }
        })
        .collect();
    if rows.is_empty()
        || rows
            .iter()
            .any(|r| !hours::parse_line(&r.join(" | ")).is_empty())
    {
        return;
    }
    let is_header = |r: &Vec<String>| {
        r.iter()
            .all(|c| !c.contains(|ch: char| ch.is_ascii_digit() || ch == '$'))
    };
    let (header, body) = match rows.split_first() {
        Some((h, rest)) if is_header(h) => (Some(*h), rest.to_vec()),
        _ => (None, rows.clone()),
    };
    if body.is_empty() {
        return;
    }
    let heading = section.heading.clone().unwrap_or_else(|| subject(page));
    let items: Vec<String> = body
        .iter()
        .filter_map(|r| match r.as_slice() {
            [name, value] => Some(format!("{name} ({value})")),
            [name, ..] => Some(name.clone()),
            [] => None,
        })
        .collect();
    let summary = format!(
        "{heading}: {}.",
        list_that_fits(&items, MAX_ANSWER_CHARS.saturating_sub(heading.len() + 4))
    );
    let question = format!("What can you tell me about {}?", lower_title(&heading));
    entries.push(category, &question, &summary, &page.url);
    for row in body {
        row_entry(page, category, header, row, entries);
    }
}

fn row_entry(
    page: &Page,
    category: C,
    header: Option<&Vec<String>>,
    row: &[String],
    entries: &mut Entries,
) {
    let Some((name, values)) = row.split_first() else {
        return;
    };
    let (question, answer) = match category {
        C::InventoryStock => (
            format!("Do you have the {name} in stock?"),
            format!("We have {} of the {name} in stock.", values.join(", ")),
        ),
        _ => {
            let labels = header.map(|h| {
                h.iter()
                    .skip(1)
                    .map(|l| l.to_lowercase())
                    .collect::<Vec<_>>()
            });
            let described: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| match labels.as_ref().and_then(|l| l.get(i)) {
                    Some(label) => format!("{label} {v}"),
                    None => v.clone(),
                })
                .collect();
            let q = if category == C::TechnicalSpecs {
                "What are the specs of the"
            } else {
                "What about"
            };
            (
                format!("{q} {name}?"),
                format!("The {name} has {}.", list_that_fits(&described, 240)),
            )
        }
    };
    entries.push(category, &question, &answer, &page.url);
}

/// The question a section's text answers.
fn text_question(page: &Page, section: &Section, subject: &str) -> String {
    let heading = section.heading.as_deref().filter(|_| section.level >= 2);
    match heading {
        None => format!("What can you tell me about {}?", topic(subject)),
        Some(h) if page.path() == "/" || h.split_whitespace().count() >= 3 => {
            format!("What can you tell me about {}?", lower_title(h))
        }
        Some(h) => format!(
            "What can you tell me about {}: {}?",
            topic(subject),
            lower_title(h)
        ),
    }
}

/// The section's paragraphs (each with a stop; a short line with a phone number left out),
/// its list items (numbering dropped), and whether the list comes first. Blocks in `used` and
/// question/answer blocks are skipped.
fn usable_text(section: &Section, used: &HashSet<usize>) -> (Vec<String>, Vec<String>, bool) {
    let usable = |(i, b): &(usize, &Block)| !used.contains(i) && !faq::is_qa_block(b);
    let blocks: Vec<&Block> = section
        .blocks
        .iter()
        .enumerate()
        .filter(usable)
        .map(|(_, b)| b)
        .collect();
    let mut paragraphs = Vec::new();
    let mut items = Vec::new();
    for block in &blocks {
        match block {
            Block::Paragraph(t)
                if t.split_whitespace().count() > 8 || phones::find(t).is_empty() =>
            {
                paragraphs.push(with_stop(t));
            }
            Block::ListItem(t) => items.push(unnumbered(t)),
            _ => {}
        }
    }
    let first = |list: bool| {
        blocks
            .iter()
            .position(|b| {
                if list {
                    matches!(b, Block::ListItem(_))
                } else {
                    matches!(b, Block::Paragraph(_))
                }
            })
            .unwrap_or(usize::MAX)
    };
    (paragraphs, items, first(true) < first(false))
}

/// The section's paragraphs as one entry; its list instead (then the paragraphs) when the list
/// comes first or there are no paragraphs. Link lists are left out.
fn text_entry(
    page: &Page,
    section: &Section,
    category: C,
    subject: &str,
    used: &HashSet<usize>,
    entries: &mut Entries,
) {
    if section
        .heading
        .as_deref()
        .is_some_and(|h| h.trim_end().ends_with('?'))
    {
        return; // A question heading is a pair, taken already.
    }
    let (paragraphs, items, list_first) = usable_text(section, used);
    let heading = section
        .heading
        .clone()
        .unwrap_or_else(|| subject.to_owned());
    let link_list = LINK_LISTS.contains(&heading.to_lowercase().as_str());
    let text = if !items.is_empty() && !link_list && (list_first || paragraphs.is_empty()) {
        let list = list_that_fits(&items, MAX_ANSWER_CHARS.saturating_sub(heading.len() + 4));
        format!(
            "{} {}",
            with_stop(&format!("{heading}: {list}")),
            paragraphs.join(" ")
        )
    } else {
        paragraphs.join(" ")
    };
    if !text.trim().is_empty() {
        entries.push(
            category,
            &text_question(page, section, subject),
            &text,
            &page.url,
        );
    }
}

/// A list item without its "1." or "2)" numbering.
fn unnumbered(item: &str) -> String {
    let digits = item
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit());
    match digits.strip_prefix(['.', ')']) {
        Some(rest) if digits.len() < item.trim_start().len() => rest.trim().to_owned(),
        _ => item.trim().to_owned(),
    }
}
