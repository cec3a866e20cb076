//! The fixture site as data: pages built from headings and blocks, each block optionally a link.

use domain::site::{Block, Section};

/// Who may see a page, and how a crawler finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Linked from other pages and listed in the sitemap.
    Public,
    /// Listed in the sitemap only: no page links to it.
    SitemapOnly,
    /// Under a `robots.txt` disallow: linked, never to be fetched.
    Disallowed,
}

/// One block and the page it links to, if any.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) block: Block,
    pub(crate) href: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct SitePage {
    pub(crate) path: String,
    pub(crate) title: String,
    pub(crate) reach: Reach,
    /// Heading, level, items; text before the first heading has level 0.
    pub(crate) sections: Vec<(Option<String>, u8, Vec<Item>)>,
}

/// The site name every title ends with.
pub(crate) const SITE_NAME: &str = "Bayside Plumbing & Heating";

impl SitePage {
    /// A public page titled "`h1` | Bayside Plumbing & Heating", its `<h1>` already open.
    pub(crate) fn new(path: &str, h1: &str) -> Self {
        Self {
            path: path.to_owned(),
            title: format!("{h1} | {SITE_NAME}"),
            reach: Reach::Public,
            sections: vec![(Some(h1.to_owned()), 1, Vec::new())],
        }
    }

    pub(crate) fn titled(mut self, title: &str) -> Self {
        self.title = title.to_owned();
        self
    }

    pub(crate) fn reach(mut self, reach: Reach) -> Self {
        self.reach = reach;
        self
    }

    fn push(mut self, block: Block, href: Option<&str>) -> Self {
        let item = Item {
            block,
            href: href.map(str::to_owned),
        };
        match self.sections.last_mut() {
            Some(section) => section.2.push(item),
            None => self.sections.push((None, 0, vec![item])),
        }
        self
    }

    pub(crate) fn h2(mut self, heading: &str) -> Self {
        self.sections
            .push((Some(heading.to_owned()), 2, Vec::new()));
        self
    }

    pub(crate) fn h3(mut self, heading: &str) -> Self {
        self.sections
            .push((Some(heading.to_owned()), 3, Vec::new()));
        self
    }

    pub(crate) fn p(self, text: &str) -> Self {
        self.push(Block::Paragraph(text.to_owned()), None)
    }

    pub(crate) fn li(self, text: &str) -> Self {
        self.push(Block::ListItem(text.to_owned()), None)
    }

    /// A list item that is a link to `href`.
    pub(crate) fn link(self, text: &str, href: &str) -> Self {
        self.push(Block::ListItem(text.to_owned()), Some(href))
    }

    /// A table row; the first row of a section is its header.
    pub(crate) fn row(self, cells: &[&str]) -> Self {
        let cells = cells.iter().map(|c| (*c).to_owned()).collect();
        self.push(Block::TableRow(cells), None)
    }

    pub(crate) fn def(self, term: &str, definition: &str) -> Self {
        let block = Block::Definition {
            term: term.to_owned(),
            definition: definition.to_owned(),
        };
        self.push(block, None)
    }

    /// Every link the page's body makes.
    pub(crate) fn links(&self) -> impl Iterator<Item = &str> {
        self.sections
            .iter()
            .flat_map(|s| s.2.iter())
            .filter_map(|i| i.href.as_deref())
    }

    /// The sections as a crawler keeps them, each with the headings above it.
    pub(crate) fn domain_sections(&self) -> Vec<Section> {
        let mut trail: Vec<(u8, String)> = Vec::new();
        let mut out = Vec::new();
        for (heading, level, items) in &self.sections {
            if let Some(h) = heading {
                trail.retain(|(l, _)| l < level);
                out.push(Section {
                    heading: Some(h.clone()),
                    level: *level,
                    trail: trail.iter().map(|(_, t)| t.clone()).collect(),
                    blocks: items.iter().map(|i| i.block.clone()).collect(),
                });
                trail.push((*level, h.clone()));
            } else {
                out.push(Section {
                    heading: None,
                    level: 0,
                    trail: Vec::new(),
                    blocks: items.iter().map(|i| i.block.clone()).collect(),
                });
            }
        }
        out
    }
}
