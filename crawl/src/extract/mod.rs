//! HTML to a page's structure, with a real HTML parser (html5ever through `scraper`): the
//! title, the canonical URL, the links and the sections. Entities are decoded by the parser.

mod sections;

use crate::site;
use domain::site::{Page, Section};
use scraper::{ElementRef, Html};
use sha2::{Digest, Sha256};
use url::Url;

/// What one HTML document says.
pub(crate) struct Extracted {
    pub(crate) title: String,
    /// `<link rel="canonical">`, resolved; not yet checked to be on the site.
    pub(crate) canonical: Option<Url>,
    /// Every http(s) link (`<a>`, `<area>`, including the ones in `<nav>`, whose text is
    /// dropped but whose links are how a site is found), normalised, without repeats.
    pub(crate) links: Vec<Url>,
    pub(crate) sections: Vec<Section>,
}

/// Reads the document fetched from `url`.
pub(crate) fn extract(html: &str, url: &Url) -> Extracted {
    let document = Html::parse_document(html);
    let root = document.root_element();
    let base = base_url(root, url);
    let mut canonical = None;
    let mut links: Vec<Url> = Vec::new();
    for element in root.descendent_elements() {
        let href = element.attr("href");
        match (element.value().name(), href) {
            ("link", Some(href)) if canonical.is_none() && is_canonical(element) => {
                canonical = site::resolve(&base, href);
            }
            ("a" | "area", Some(href)) => {
                if let Some(link) = site::resolve(&base, href).filter(|l| !links.contains(l)) {
                    links.push(link);
                }
            }
            _ => {}
        }
    }
    Extracted {
        title: title(root),
        canonical,
        links,
        sections: sections::read(root),
    }
}

/// Hex SHA-256 of the title and [`Page::text`]: what a re-sync compares.
pub(crate) fn content_hash(page: &Page) -> String {
    let mut hasher = Sha256::new();
    hasher.update(page.title.as_bytes());
    hasher.update(b"\n");
    hasher.update(page.text().as_bytes());
    hex::encode(hasher.finalize())
}

/// Runs of whitespace (newlines, tabs, non-breaking spaces) become one space; ends trimmed.
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `<title>` in `<head>` (an `<svg>` in the body has titles of its own).
fn title(root: ElementRef<'_>) -> String {
    root.child_elements()
        .filter(|e| e.value().name() == "head")
        .flat_map(|head| head.descendent_elements())
        .find(|e| e.value().name() == "title")
        .map(|t| collapse(&t.text().collect::<String>()))
        .unwrap_or_default()
}

fn base_url(root: ElementRef<'_>, url: &Url) -> Url {
    root.descendent_elements()
        .find(|e| e.value().name() == "base")
        .and_then(|b| b.attr("href"))
        .and_then(|href| url.join(href).ok())
        .unwrap_or_else(|| url.clone())
}

fn is_canonical(element: ElementRef<'_>) -> bool {
    element.attr("rel").is_some_and(|rel| {
        rel.split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("canonical"))
    })
}
