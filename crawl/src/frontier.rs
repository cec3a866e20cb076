//! The crawl's bookkeeping, without I/O: which URLs wait at which depth, which were seen,
//! which pages are recorded, and what was skipped.

use crate::fetch::Scope;
use crate::report::{SkipReason, Skipped};
use crate::site;
use domain::site::Page;
use std::collections::{BTreeMap, HashSet, VecDeque};
use url::Url;

pub(crate) struct Frontier {
    max_depth: u32,
    max_pages: usize,
    /// Waiting URLs by depth: the shallowest are fetched first, so the crawl is
    /// breadth-first even when resumed pages and sitemap entries arrive out of order.
    waiting: BTreeMap<u32, VecDeque<Url>>,
    /// Every URL queued, fetched, reached by a redirect or skipped: none is fetched twice.
    seen: HashSet<Url>,
    /// The URLs pages are recorded under (canonical ones included).
    recorded: HashSet<String>,
    pages: Vec<Page>,
    skipped: Vec<Skipped>,
}

impl Frontier {
    pub(crate) fn new(max_depth: u32, max_pages: usize) -> Self {
        Self {
            max_depth,
            max_pages,
            waiting: BTreeMap::new(),
            seen: HashSet::new(),
            recorded: HashSet::new(),
            pages: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Marks a URL as taken care of (the start URL, a redirect's target).
    pub(crate) fn mark_seen(&mut self, url: Url) {
        self.seen.insert(url);
    }

    /// Queues a link found at `depth` unless it is off the site, too deep or already seen.
    /// A link robots.txt disallows is skipped, once, and returned so the caller reports it.
    pub(crate) fn offer(&mut self, url: Url, depth: u32, scope: &Scope) -> Option<Skipped> {
        if depth > self.max_depth || !scope.site.contains(&url) || self.seen.contains(&url) {
            return None;
        }
        self.seen.insert(url.clone());
        if !scope.allows(&url) {
            return Some(self.skip(url.into(), SkipReason::DisallowedByRobots));
        }
        self.waiting.entry(depth).or_default().push_back(url);
        None
    }

    /// The next URL to fetch, shallowest first, while the page limit leaves room for it
    /// beside the `in_flight` fetches.
    pub(crate) fn next(&mut self, in_flight: usize) -> Option<(Url, u32)> {
        if self.pages.len() + in_flight >= self.max_pages {
            return None;
        }
        loop {
            let mut entry = self.waiting.first_entry()?;
            let depth = *entry.key();
            match entry.get_mut().pop_front() {
                Some(url) if self.recorded.contains(url.as_str()) => {}
                Some(url) => return Some((url, depth)),
                None => {
                    entry.remove();
                }
            }
        }
    }

    pub(crate) fn has_waiting(&self) -> bool {
        self.waiting.values().any(|urls| !urls.is_empty())
    }

    pub(crate) fn is_full(&self) -> bool {
        self.pages.len() >= self.max_pages
    }

    /// Records a page unless one is already recorded under its URL (then the duplicate's
    /// reason is returned).
    pub(crate) fn record(&mut self, page: Page) -> Result<(), SkipReason> {
        if !self.recorded.insert(page.url.clone()) {
            return Err(SkipReason::Duplicate { of: page.url });
        }
        if let Ok(url) = Url::parse(&page.url) {
            self.seen.insert(url);
        }
        self.pages.push(page);
        Ok(())
    }

    /// The links of the pages recorded so far, each with the depth it would be fetched at.
    pub(crate) fn links_of_recorded(&self) -> Vec<(Url, u32)> {
        let mut links: Vec<(Url, u32)> = self
            .pages
            .iter()
            .flat_map(|page| {
                let depth = page.depth.saturating_add(1);
                page.links
                    .iter()
                    .filter_map(move |l| Some((site::parse_absolute(l)?, depth)))
            })
            .collect();
        links.sort_by_key(|(_, depth)| *depth);
        links
    }

    pub(crate) fn skip(&mut self, url: String, reason: SkipReason) -> Skipped {
        let skipped = Skipped { url, reason };
        self.skipped.push(skipped.clone());
        skipped
    }

    pub(crate) fn into_parts(self) -> (Vec<Page>, Vec<Skipped>) {
        (self.pages, self.skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{Site, parse_absolute};
    use robotxt::Robots;

    fn url(raw: &str) -> Url {
        parse_absolute(raw).unwrap_or_else(|| panic!("{raw}"))
    }

    fn scope() -> Scope {
        let robots = Robots::parse(b"User-agent: *\nDisallow: /private/\n", "SwitchboardBot");
        Scope {
            site: Site::of(&url("https://example.com/")),
            robots,
        }
    }

    #[test]
    fn the_shallowest_url_waiting_is_fetched_first() {
        let (scope, mut frontier) = (scope(), Frontier::new(4, 10));
        assert!(
            frontier
                .offer(url("https://example.com/deep"), 3, &scope)
                .is_none()
        );
        assert!(
            frontier
                .offer(url("https://example.com/shallow"), 1, &scope)
                .is_none()
        );
        assert!(
            frontier
                .offer(url("https://example.com/shallow"), 1, &scope)
                .is_none()
        );
        assert!(
            frontier
                .offer(url("https://example.com/too-deep"), 5, &scope)
                .is_none()
        );
        assert!(
            frontier
                .offer(url("https://elsewhere.com/"), 1, &scope)
                .is_none()
        );
        let order: Vec<_> = std::iter::from_fn(|| frontier.next(0))
            .map(|(u, d)| (u.path().to_owned(), d))
            .collect();
        assert_eq!(
            order,
            vec![("/shallow".to_owned(), 1), ("/deep".to_owned(), 3)]
        );
    }

    #[test]
    fn a_disallowed_link_is_reported_once_and_never_queued() {
        let (scope, mut frontier) = (scope(), Frontier::new(4, 10));
        let first = frontier.offer(url("https://example.com/private/a"), 1, &scope);
        assert_eq!(
            first.map(|s| s.reason),
            Some(SkipReason::DisallowedByRobots)
        );
        assert!(
            frontier
                .offer(url("https://example.com/private/a"), 2, &scope)
                .is_none()
        );
        assert!(frontier.next(0).is_none());
    }

    #[test]
    fn no_url_is_handed_out_past_the_page_limit() {
        let (scope, mut frontier) = (scope(), Frontier::new(4, 2));
        for path in ["a", "b", "c"] {
            frontier.offer(url(&format!("https://example.com/{path}")), 1, &scope);
        }
        assert!(frontier.next(1).is_some());
        assert!(frontier.next(2).is_none());
        assert!(frontier.has_waiting());
    }
}
