//! sitemap.xml: the pages a site lists, linked or not. Read with `roxmltree`; a sitemap
//! index is followed one level down.

use crate::fetch::Fetcher;
use crate::site::{self, Site};
use url::Url;

/// Sitemaps fetched per crawl at most (an index can list hundreds; the budget is seconds).
const MAX_SITEMAP_FETCHES: usize = 8;

/// What one sitemap file lists.
#[derive(Debug, PartialEq, Eq)]
enum Listing {
    Pages(Vec<String>),
    /// A sitemap index: more sitemaps.
    Sitemaps(Vec<String>),
}

/// The same-site pages the sitemaps list, normalised, without repeats, at most `limit`.
/// Sitemaps that are off the site, missing or unreadable are passed over.
pub(crate) async fn pages(
    fetcher: &Fetcher,
    sitemaps: Vec<Url>,
    site: &Site,
    limit: usize,
) -> Vec<Url> {
    let mut queue: Vec<(Url, bool)> = sitemaps.into_iter().map(|url| (url, true)).collect();
    queue.reverse();
    let mut fetches = 0;
    let mut visited: Vec<Url> = Vec::new();
    let mut pages: Vec<Url> = Vec::new();
    while let Some((url, index_allowed)) = queue.pop() {
        if fetches == MAX_SITEMAP_FETCHES || pages.len() >= limit {
            break;
        }
        if !site.contains(&url) || visited.contains(&url) {
            continue;
        }
        visited.push(url.clone());
        fetches += 1;
        match fetch(fetcher, url).await {
            Some(Listing::Pages(locs)) => {
                let same_site = locs.iter().filter_map(|l| site::parse_absolute(l));
                for page in same_site.filter(|p| site.contains(p)) {
                    if !pages.contains(&page) && pages.len() < limit {
                        pages.push(page);
                    }
                }
            }
            Some(Listing::Sitemaps(locs)) if index_allowed => {
                let children = locs.iter().filter_map(|l| site::parse_absolute(l));
                queue.extend(children.map(|child| (child, false)).rev());
            }
            _ => {}
        }
    }
    pages
}

async fn fetch(fetcher: &Fetcher, url: Url) -> Option<Listing> {
    let resource = fetcher.resource(url.clone()).await.ok()?;
    if !(200..300).contains(&resource.status) {
        return None;
    }
    let listing = parse(std::str::from_utf8(&resource.body).ok()?);
    if listing.is_none() {
        tracing::debug!(%url, "sitemap is not a urlset or sitemapindex");
    }
    listing
}

/// The `<loc>`s of a `<urlset>` or `<sitemapindex>`; `None` for anything else.
fn parse(xml: &str) -> Option<Listing> {
    let document = roxmltree::Document::parse(xml).ok()?;
    let root = document.root_element();
    let entry = match root.tag_name().name() {
        "urlset" => "url",
        "sitemapindex" => "sitemap",
        _ => return None,
    };
    let locs = root
        .children()
        .filter(|node| node.tag_name().name() == entry)
        .filter_map(|node| node.children().find(|c| c.tag_name().name() == "loc"))
        .filter_map(|loc| loc.text())
        .map(|text| text.trim().to_owned())
        .collect();
    Some(if entry == "url" {
        Listing::Pages(locs)
    } else {
        Listing::Sitemaps(locs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urlset_lists_pages_and_an_index_lists_sitemaps() {
        let urlset = r#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc> https://example.com/a </loc><lastmod>2024-01-01</lastmod></url>
              <url><loc>https://example.com/b?x=1&amp;y=2</loc></url>
            </urlset>"#;
        let expected = vec![
            "https://example.com/a".to_owned(),
            "https://example.com/b?x=1&y=2".to_owned(),
        ];
        assert_eq!(parse(urlset), Some(Listing::Pages(expected)));
        let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc>https://example.com/pages.xml</loc></sitemap></sitemapindex>"#;
        assert_eq!(
            parse(index),
            Some(Listing::Sitemaps(vec![
                "https://example.com/pages.xml".to_owned()
            ]))
        );
        assert_eq!(parse("<html></html>"), None);
        assert_eq!(parse("not xml"), None);
    }
}
