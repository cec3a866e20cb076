//! The site's pages as HTML: shared header navigation and footer around each page's body.

use super::model::{Item, SitePage};
use domain::site::Block;
use std::fmt::Write as _;

/// The header menu on every page: (href, text).
pub(crate) const NAV: &[(&str, &str)] = &[
    ("/", "Home"),
    ("/services", "Services"),
    ("/pricing", "Pricing"),
    ("/hours", "Hours"),
    ("/contact", "Contact"),
    ("/about", "About"),
    ("/faq", "FAQ"),
    ("/emergency", "24/7 Emergency"),
    ("/blog", "News"),
    ("/partners", "Partners"),
    ("/policies", "Policies"),
];

/// The footer links on every page: two of them lead where `robots.txt` forbids.
pub(crate) const FOOTER_LINKS: &[(&str, &str)] = &[
    ("/policies/privacy", "Privacy"),
    ("/admin/login", "Staff login"),
    ("/private/price-sheet", "Partner price sheet"),
];

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn html(page: &SitePage) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <link rel=\"canonical\" href=\"{}\">\n</head>\n<body>\n<header><nav>",
        escape(&page.title),
        escape(&page.path)
    );
    for (href, text) in NAV {
        let _ = write!(out, "<a href=\"{href}\">{}</a> ", escape(text));
    }
    out.push_str("</nav></header>\n<main>\n");
    for (heading, level, items) in &page.sections {
        if let Some(h) = heading {
            let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(h));
        }
        body(&mut out, items);
    }
    out.push_str("</main>\n");
    footer(&mut out);
    out.push_str("</body>\n</html>\n");
    out
}

fn footer(out: &mut String) {
    out.push_str(
        "<footer>\n<p>Bayside Plumbing &amp; Heating · (415) 555-0142 · 1200 Harrison Street, \
         Suite 4, San Francisco, CA 94103</p>\n<p>Mon–Fri 7:00 AM – 6:00 PM · Sat 8:00 AM – 2:00 PM \
         · Sun closed</p>\n<p>",
    );
    for (href, text) in FOOTER_LINKS {
        let _ = write!(out, "<a href=\"{href}\">{}</a> ", escape(text));
    }
    out.push_str("</p>\n</footer>\n");
}

/// Which HTML container a block goes in: consecutive blocks of one kind share it.
fn container(block: &Block) -> Option<(&'static str, &'static str)> {
    match block {
        Block::Paragraph(_) => None,
        Block::ListItem(_) => Some(("<ul>", "</ul>")),
        Block::TableRow(_) => Some(("<table>", "</table>")),
        Block::Definition { .. } => Some(("<dl>", "</dl>")),
    }
}

fn body(out: &mut String, items: &[Item]) {
    let mut open: Option<&'static str> = None;
    for (i, item) in items.iter().enumerate() {
        let wanted = container(&item.block);
        if open != wanted.map(|c| c.1) {
            if let Some(close) = open.take() {
                let _ = writeln!(out, "{close}");
            }
            if let Some((start, close)) = wanted {
                let _ = writeln!(out, "{start}");
                open = Some(close);
            }
        }
        let first_row = i == 0 || !matches!(items[i - 1].block, Block::TableRow(_));
        block(out, item, first_row);
    }
    if let Some(close) = open {
        let _ = writeln!(out, "{close}");
    }
}

fn block(out: &mut String, item: &Item, first_row: bool) {
    let linked = |text: &str| match &item.href {
        Some(href) => format!("<a href=\"{}\">{}</a>", escape(href), escape(text)),
        None => escape(text),
    };
    let _ = match &item.block {
        Block::Paragraph(t) => writeln!(out, "<p>{}</p>", linked(t)),
        Block::ListItem(t) => writeln!(out, "<li>{}</li>", linked(t)),
        Block::TableRow(cells) => {
            let tag = if first_row { "th" } else { "td" };
            let cells: String = cells
                .iter()
                .map(|c| format!("<{tag}>{}</{tag}>", escape(c)))
                .collect();
            writeln!(out, "<tr>{cells}</tr>")
        }
        Block::Definition { term, definition } => writeln!(
            out,
            "<dt>{}</dt><dd>{}</dd>",
            escape(term),
            escape(definition)
        ),
    };
}
