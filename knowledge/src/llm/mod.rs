//! The pure parts of the LLM extractor (the HTTP call is made elsewhere): pages cut into
//! [`Chunk`]s that fit a token budget, the [`prompt`] for one, the JSON Schema its answer must
//! follow ([`response_schema`]) and the strict reading of that answer ([`parse_response`]).
//!
//! Tokens are estimated as `ceil(chars / 4)` per message. A page that does not fit a chunk is
//! cut at section boundaries, a section at block boundaries, and a block (rarely) at words;
//! every piece repeats its page's URL and title so the model can cite it.

mod response;

pub use response::{parse_response, response_schema};

use domain::site::{Page, Section};

/// What the model is told before the chunk's pages.
pub const INSTRUCTIONS: &str = "You extract knowledge for a business's phone receptionist from pages of its website. \
Return JSON only, matching the schema: {\"entries\": [{\"category\", \"question\", \"answer\", \"source_url\"}]}. \
category is one of: business_information, products_services, support_faq, company_history, policies, \
processes_procedures, events_news, technical_specs, pricing_billing, inventory_stock, legal_compliance, \
partnerships, marketing_promotions, training_education, quality_standards, feedback_reviews, \
emergency_contact, custom_business_logic. question is what a caller would ask. answer is what the \
receptionist says aloud: at most two short, self-contained sentences (300 characters), using the \
page's own words and figures; never invent prices, hours or promises. source_url is the URL of the \
page the answer comes from, exactly as given. Skip navigation, boilerplate and anything not useful \
to a caller. Return {\"entries\": []} when there is nothing.";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LlmExtractError {
    #[error("token budget {budget} cannot hold the instructions and one page header")]
    BudgetTooSmall { budget: usize },
    #[error("the response is not JSON: {0}")]
    NotJson(String),
    #[error("the response breaks the schema at {path}: {reason}")]
    Schema { path: String, reason: String },
    #[error("entry {index} cites `{url}`, which is not a page of this chunk")]
    ForeignSource { index: usize, url: String },
}

/// Pages (or pieces of pages) to send in one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The URLs of the pages in the chunk; an entry must cite one of them.
    pub urls: Vec<String>,
    /// The pages as text, each piece headed by its URL and title.
    pub text: String,
}

/// Estimated tokens of a text: `ceil(chars / 4)`.
pub fn tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// Estimated tokens of a whole prompt.
pub fn prompt_tokens(messages: &[(String, String)]) -> usize {
    messages.iter().map(|(_, content)| tokens(content)).sum()
}

/// The messages for one chunk: the instructions, then the pages.
pub fn prompt(chunk: &Chunk) -> Vec<(String, String)> {
    vec![
        ("system".to_owned(), INSTRUCTIONS.to_owned()),
        ("user".to_owned(), chunk.text.clone()),
    ]
}

fn header(page: &Page) -> String {
    format!("=== Page: {}\nTitle: {}\n", page.url, page.title)
}

fn section_text(section: &Section) -> String {
    let mut out = String::new();
    if let Some(h) = &section.heading {
        out.push_str(&format!(
            "{} {h}\n",
            "#".repeat(usize::from(section.level.max(1)))
        ));
    }
    for block in &section.blocks {
        out.push_str(&block.text());
        out.push('\n');
    }
    out
}

/// `text` cut at whitespace into parts of at most `room` characters (a longer word is cut).
fn split_words(text: &str, room: usize) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_inclusive(char::is_whitespace) {
        // A word that would overflow starts a new part; one longer than a part is cut.
        if !current.is_empty() && current.chars().count() + word.chars().count() > room {
            parts.push(std::mem::take(&mut current));
        }
        for c in word.chars() {
            if current.chars().count() >= room {
                parts.push(std::mem::take(&mut current));
            }
            current.push(c);
        }
    }
    parts.push(current);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// A page as pieces of at most `room` characters each (header included): whole, by sections,
/// by blocks, by words.
fn pieces(page: &Page, room: usize) -> Vec<String> {
    let head = header(page);
    let whole = format!(
        "{head}{}",
        page.sections.iter().map(section_text).collect::<String>()
    );
    if whole.chars().count() <= room {
        return vec![whole];
    }
    let body_room = room - head.chars().count();
    let mut bodies: Vec<String> = Vec::new();
    for section in &page.sections {
        let text = section_text(section);
        if text.chars().count() <= body_room {
            bodies.push(text);
            continue;
        }
        for line in text.lines().map(|l| format!("{l}\n")) {
            if line.chars().count() <= body_room {
                bodies.push(line);
            } else {
                bodies.extend(split_words(&line, body_room));
            }
        }
    }
    pack(bodies, body_room)
        .into_iter()
        .map(|b| format!("{head}{b}"))
        .collect()
}

/// Consecutive texts joined while they fit `room` characters.
fn pack(texts: Vec<String>, room: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for text in texts {
        match out.last_mut() {
            Some(last) if last.chars().count() + text.chars().count() <= room => {
                last.push_str(&text)
            }
            _ => out.push(text),
        }
    }
    out
}

/// The pages cut into chunks whose whole [`prompt`] is at most `token_budget` tokens.
pub fn chunk(pages: &[Page], token_budget: usize) -> Result<Vec<Chunk>, LlmExtractError> {
    let too_small = LlmExtractError::BudgetTooSmall {
        budget: token_budget,
    };
    // Characters that keep ceil(chars / 4) within the budget left after the instructions.
    let room = token_budget
        .checked_sub(tokens(INSTRUCTIONS))
        .ok_or(too_small.clone())?
        * 4;
    let widest_header = pages
        .iter()
        .map(|p| header(p).chars().count())
        .max()
        .unwrap_or(0);
    if room <= widest_header + 1 {
        return Err(too_small);
    }
    let mut chunks: Vec<Chunk> = Vec::new();
    for page in pages {
        for piece in pieces(page, room) {
            match chunks.last_mut() {
                Some(c) if c.text.chars().count() + piece.chars().count() <= room => {
                    c.text.push_str(&piece);
                    if !c.urls.contains(&page.url) {
                        c.urls.push(page.url.clone());
                    }
                }
                _ => chunks.push(Chunk {
                    urls: vec![page.url.clone()],
                    text: piece,
                }),
            }
        }
    }
    Ok(chunks)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
