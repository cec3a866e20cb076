//! The body as sections: each heading opens one, and the text under it becomes blocks.
//!
//! The walk keeps an "inline run": text and inline elements (`<a>`, `<strong>`, `<br>`…)
//! gather into one paragraph until a block element starts. So a `<div>` with text of its own
//! (`<div>Call <a>555-0100</a></div>`) is a paragraph, and so are `<address>` and
//! `<blockquote>`; `<p>` is the same rule. Lists, table rows and definition lists have
//! blocks of their own.

use super::collapse;
use domain::site::{Block, Section};
use scraper::{ElementRef, Node};

/// Dropped with everything inside. `<footer>` is kept: businesses put their hours and phone
/// number there.
const DROPPED: [&str; 9] = [
    "head", "nav", "script", "style", "noscript", "template", "svg", "iframe", "canvas",
];

/// Elements that end the inline run before them.
const BLOCKS: [&str; 44] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "li",
    "main",
    "menu",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Structures inside a list item that become blocks of their own rather than its text.
const NESTED: [&str; 4] = ["ul", "ol", "dl", "table"];

/// The sections of the document under `root` (its `<html>`), in document order.
pub(super) fn read(root: ElementRef<'_>) -> Vec<Section> {
    let mut sections = Sections::default();
    walk(root, &mut sections);
    sections.finish()
}

/// Sections as they are built: the one being filled and the headings above it.
#[derive(Default)]
struct Sections {
    done: Vec<Section>,
    current: Option<Section>,
    /// Open headings, outermost first: (level, text).
    open: Vec<(u8, String)>,
}

impl Sections {
    fn heading(&mut self, level: u8, text: String) {
        if text.is_empty() {
            return;
        }
        self.close();
        while self.open.last().is_some_and(|(open, _)| *open >= level) {
            self.open.pop();
        }
        let trail = self.open.iter().map(|(_, t)| t.clone()).collect();
        self.open.push((level, text.clone()));
        self.current = Some(Section {
            heading: Some(text),
            level,
            trail,
            blocks: Vec::new(),
        });
    }

    fn block(&mut self, block: Block) {
        let untitled = || Section {
            heading: None,
            level: 0,
            trail: Vec::new(),
            blocks: Vec::new(),
        };
        self.current.get_or_insert_with(untitled).blocks.push(block);
    }

    fn paragraph(&mut self, raw: &str) {
        let text = collapse(raw);
        if !text.is_empty() {
            self.block(Block::Paragraph(text));
        }
    }

    fn close(&mut self) {
        self.done.extend(self.current.take());
    }

    fn finish(mut self) -> Vec<Section> {
        self.close();
        self.done
    }
}

/// Walks a container: its own text as paragraphs between its block children.
fn walk(element: ElementRef<'_>, out: &mut Sections) {
    let mut run = String::new();
    for child in element.children() {
        match child.value() {
            Node::Text(text) => run.push_str(text),
            Node::Element(e) if DROPPED.contains(&e.name()) => {}
            Node::Element(e) if e.name() == "br" => run.push(' '),
            Node::Element(e) => {
                let Some(child) = ElementRef::wrap(child) else {
                    continue;
                };
                if BLOCKS.contains(&e.name()) {
                    out.paragraph(&run);
                    run.clear();
                    block(child, out);
                } else {
                    text_into(child, &mut run, None);
                }
            }
            _ => {}
        }
    }
    out.paragraph(&run);
}

fn block(element: ElementRef<'_>, out: &mut Sections) {
    match element.value().name() {
        "h1" => out.heading(1, text(element)),
        "h2" => out.heading(2, text(element)),
        "h3" => out.heading(3, text(element)),
        "h4" => out.heading(4, text(element)),
        "h5" => out.heading(5, text(element)),
        "h6" => out.heading(6, text(element)),
        "li" => list_item(element, out),
        "tr" => table_row(element, out),
        "dl" => definitions(element, out),
        _ => walk(element, out),
    }
}

fn list_item(element: ElementRef<'_>, out: &mut Sections) {
    let mut raw = String::new();
    let mut nested = Vec::new();
    text_into(element, &mut raw, Some(&mut nested));
    let text = collapse(&raw);
    if !text.is_empty() {
        out.block(Block::ListItem(text));
    }
    for inner in nested {
        block(inner, out);
    }
}

fn table_row(element: ElementRef<'_>, out: &mut Sections) {
    let cells: Vec<String> = element
        .child_elements()
        .filter(|c| matches!(c.value().name(), "td" | "th"))
        .map(text)
        .collect();
    if cells.iter().any(|c| !c.is_empty()) {
        out.block(Block::TableRow(cells));
    }
}

/// `<dt>`s with their `<dd>`s (also inside the `<div>`s HTML allows around each pair).
fn definitions(list: ElementRef<'_>, out: &mut Sections) {
    let items = list.child_elements().flat_map(|c| match c.value().name() {
        "div" => c.child_elements().collect::<Vec<_>>(),
        _ => vec![c],
    });
    let mut term: Option<String> = None;
    let mut definition: Vec<String> = Vec::new();
    for item in items {
        match item.value().name() {
            "dt" => {
                emit_definition(term.take(), &mut definition, out);
                term = Some(text(item));
            }
            "dd" => definition.push(text(item)),
            _ => {}
        }
    }
    emit_definition(term, &mut definition, out);
}

fn emit_definition(term: Option<String>, definition: &mut Vec<String>, out: &mut Sections) {
    let joined = collapse(&definition.join(" "));
    definition.clear();
    match term.filter(|t| !t.is_empty()) {
        Some(term) if !joined.is_empty() => out.block(Block::Definition {
            term,
            definition: joined,
        }),
        Some(term) => out.paragraph(&term),
        None => out.paragraph(&joined),
    }
}

/// The element's text, whitespace collapsed, dropped elements left out.
fn text(element: ElementRef<'_>) -> String {
    let mut raw = String::new();
    text_into(element, &mut raw, None);
    collapse(&raw)
}

/// Appends the element's text to `out`. Block children are set apart by spaces so their
/// words do not run together; with `nested`, lists and tables are set aside there instead.
fn text_into<'a>(
    element: ElementRef<'a>,
    out: &mut String,
    mut nested: Option<&mut Vec<ElementRef<'a>>>,
) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(e) if DROPPED.contains(&e.name()) => {}
            Node::Element(e) => {
                let Some(child) = ElementRef::wrap(child) else {
                    continue;
                };
                match nested.as_deref_mut() {
                    Some(set_aside) if NESTED.contains(&e.name()) => set_aside.push(child),
                    _ if e.name() == "br" || BLOCKS.contains(&e.name()) => {
                        out.push(' ');
                        text_into(child, out, nested.as_deref_mut());
                        out.push(' ');
                    }
                    _ => text_into(child, out, nested.as_deref_mut()),
                }
            }
            _ => {}
        }
    }
}
