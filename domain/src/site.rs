//! A business's website as the agent builder reads it: crawled pages, each kept as its
//! structure (headings and the blocks under them), and the knowledge drawn from them.
//!
//! The crawler (`switchboard-crawl`) produces [`Page`]s; the extractors
//! (`switchboard-knowledge`) turn them into [`ExtractedKnowledge`]; the agent build stores both.

use crate::KnowledgeCategory;
use crate::platform::closed_enum;
use serde::{Deserialize, Serialize};

closed_enum!(
    /// What an agent build does: build a new agent, or re-sync an agent's knowledge.
    BuildKind {
        Build = "build",
        Resync = "resync",
    }
);

closed_enum!(
    /// Where an agent build stands.
    BuildState {
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Canceled = "canceled",
    }
);

closed_enum!(
    /// The steps of an agent build, in order (a re-sync runs `crawl`, `extract`, `update`).
    BuildStep {
        Crawl = "crawl",
        Extract = "extract",
        Generate = "generate",
        Provision = "provision",
        Deploy = "deploy",
        /// A re-sync: the agent's site knowledge replaced where the site changed.
        Update = "update",
        /// Undoing a cancelled or failed build: the number released, the draft agent dropped.
        Undo = "undo",
    }
);

closed_enum!(
    /// What a step event says.
    StepPhase {
        Started = "started",
        Finished = "finished",
        Failed = "failed",
        /// A step attempt failed and is retried.
        Retrying = "retrying",
    }
);

/// One fetched HTML page, as text with its structure kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// The page's URL after redirects, or its `<link rel="canonical">` when that is on the
    /// same site. Fragment removed.
    pub url: String,
    /// `<title>`, trimmed; empty when the page has none.
    pub title: String,
    /// Link hops from the start page (0 for the start page, sitemap entries count as 1).
    pub depth: u32,
    /// Sections in document order. Text before the first heading is a section without one.
    pub sections: Vec<Section>,
    /// Hex SHA-256 of the page's text (title and sections): a re-sync compares it.
    pub content_hash: String,
    /// The same-site pages it links to, normalised, in document order without repeats. A
    /// crawl resumed from persisted pages follows them without fetching the page again; pages
    /// stored before the field existed read as linking nowhere.
    #[serde(default)]
    pub links: Vec<String>,
}

/// A heading and the blocks under it, up to the next heading of any level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// The heading's text; `None` for text before the page's first heading.
    pub heading: Option<String>,
    /// 1–6 for `<h1>`–`<h6>`; 0 when there is no heading.
    pub level: u8,
    /// The headings above this one, outermost first (an `<h3>` under "Services" › "Repairs").
    pub trail: Vec<String>,
    pub blocks: Vec<Block>,
}

/// A unit of text under a heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Block {
    Paragraph(String),
    /// One `<li>`.
    ListItem(String),
    /// One table row, cell by cell.
    TableRow(Vec<String>),
    /// A `<dt>` with its `<dd>`s joined: a term and its definition (FAQ lists use them).
    Definition {
        term: String,
        definition: String,
    },
}

impl Block {
    /// The block as one line of text (cells joined with " | ", a definition as "term: text").
    pub fn text(&self) -> String {
        match self {
            Block::Paragraph(t) | Block::ListItem(t) => t.clone(),
            Block::TableRow(cells) => cells.join(" | "),
            Block::Definition { term, definition } => format!("{term}: {definition}"),
        }
    }
}

impl Page {
    /// The page's path (`/services/brakes`), for rules that read where a page sits.
    pub fn path(&self) -> &str {
        let after_scheme = self.url.split_once("://").map_or(&*self.url, |(_, r)| r);
        let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
        path.split(['?', '#']).next().unwrap_or("/")
    }

    /// Every block's text, one per line, headings included.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for section in &self.sections {
            if let Some(h) = &section.heading {
                out.push_str(h);
                out.push('\n');
            }
            for block in &section.blocks {
                out.push_str(&block.text());
                out.push('\n');
            }
        }
        out
    }
}

/// One piece of knowledge drawn from the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeEntry {
    pub category: KnowledgeCategory,
    /// What a caller would ask ("What are your opening hours?").
    pub question: String,
    /// What the agent says, in full sentences, word for word from the site where it can be.
    pub answer: String,
    /// The page it came from.
    pub source_url: String,
}

/// A day's opening hours in the business's local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    /// `mon` … `sun`.
    pub day: String,
    /// `HH:MM` 24-hour local times; both `None` when the business is closed that day.
    pub open: Option<String>,
    pub close: Option<String>,
}

/// A person or department the site lists, for the agent's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    /// "Service manager", "Billing".
    pub role: Option<String>,
    pub department: Option<String>,
    /// E.164 when the site gives a number.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source_url: String,
}

/// What an extractor made of the site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedKnowledge {
    /// The business's name as the site gives it.
    pub business_name: Option<String>,
    /// Main phone number, E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// IANA zone (from the address or the phone number's area), when it can be told.
    pub time_zone: Option<String>,
    /// Seven days, Monday first, when the site states its hours.
    pub hours: Vec<DayHours>,
    /// Emergency or after-hours line, E.164.
    pub emergency_phone: Option<String>,
    pub contacts: Vec<Contact>,
    pub entries: Vec<KnowledgeEntry>,
}
