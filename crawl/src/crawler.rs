//! The crawl itself: the start page, robots.txt, sitemaps, then breadth-first fetches with
//! a bounded number in flight until the links, the page limit or the budget run out.

use crate::config::CrawlConfig;
use crate::extract::{self, content_hash};
use crate::fetch::{Fetcher, HtmlPage, Redirects, Scope};
use crate::frontier::Frontier;
use crate::report::{CrawlError, CrawlEvent, CrawlReport, SkipReason, StopReason};
use crate::site::{self, Site};
use crate::{robots, sitemap};
use domain::site::Page;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;
use url::Url;

/// Crawls the site of `start`, breadth-first, within `config`'s limits.
///
/// `already` holds pages an earlier, interrupted attempt fetched (the caller persisted them
/// from this function's events): they are not fetched again, their links are followed, and
/// they count towards `max_pages`. When one of them is the start page (depth 0), the start
/// page is not fetched either.
///
/// Each new page and each skipped URL is sent on `events` as soon as it is known, so an
/// activity can persist it and heartbeat while the crawl goes on. Sending waits while the
/// channel is full (at most until the budget runs out); a closed channel is not an error —
/// the crawl goes on and the report still has everything.
///
/// Only the start page can fail the crawl ([`CrawlError`]); every other page's failure is a
/// [`Skipped`](crate::Skipped) entry in the report. The start page is fetched whatever
/// robots.txt says: it is the address the business gave us, like a user-triggered fetch.
///
/// From an activity, drain the events beside the crawl:
///
/// ```no_run
/// # async fn activity(persisted: Vec<domain::site::Page>) -> Result<(), crawl::CrawlError> {
/// let (events, mut received) = tokio::sync::mpsc::channel(16);
/// let config = crawl::CrawlConfig::default();
/// let crawling = crawl::crawl("https://joesgarage.example", &config, persisted, events);
/// let persisting = async {
///     while let Some(event) = received.recv().await {
///         if let crawl::CrawlEvent::Page(page) = event {
///             // store the page, then heartbeat
///         }
///     }
/// };
/// let (report, ()) = tokio::join!(crawling, persisting);
/// let report = report?;
/// # Ok(()) }
/// ```
pub async fn crawl(
    start: &str,
    config: &CrawlConfig,
    already: Vec<Page>,
    events: mpsc::Sender<CrawlEvent>,
) -> Result<CrawlReport, CrawlError> {
    let began = Instant::now();
    let start_url = site::parse_absolute(start).ok_or_else(|| CrawlError::InvalidStartUrl {
        url: start.to_owned(),
        reason: "not an absolute http(s) URL".to_owned(),
    })?;
    let deadline = began + config.total_budget;
    let fetcher = Fetcher::new(
        &config.user_agent,
        config.page_timeout,
        config.max_page_bytes,
        deadline,
    )?;
    let mut crawl = Crawl {
        frontier: Frontier::new(config.max_depth, config.max_pages),
        fetcher,
        events,
        deadline,
        concurrency: config.per_host_concurrency.max(1),
        fetched: 0,
    };
    let origin = crawl.start_page(start_url, already).await?;
    let scope = Arc::new(Scope {
        site: Site::of(&origin),
        robots: robots::fetch(&crawl.fetcher, &origin, config.robots_agent()).await,
    });
    crawl.offer_known_links(&scope).await;
    crawl
        .offer_sitemap_pages(&origin, &scope, config.max_pages)
        .await;
    let stopped = crawl.run(&scope).await;
    let (pages, skipped) = crawl.frontier.into_parts();
    Ok(CrawlReport {
        pages,
        skipped,
        fetched: crawl.fetched,
        elapsed: began.elapsed(),
        stopped,
    })
}

/// A fetch task's result: the URL it was given, the depth, and the page or why not.
struct Fetched {
    requested: Url,
    depth: u32,
    outcome: Result<(Url, Page), SkipReason>,
}

struct Crawl {
    frontier: Frontier,
    fetcher: Fetcher,
    events: mpsc::Sender<CrawlEvent>,
    deadline: Instant,
    concurrency: usize,
    fetched: usize,
}

impl Crawl {
    /// Records the pages already fetched and, unless the start page is one of them, fetches
    /// it. Returns the start page's final URL: the site is the one it is on.
    async fn start_page(&mut self, start: Url, already: Vec<Page>) -> Result<Url, CrawlError> {
        self.frontier.mark_seen(start.clone());
        let resumed_start = already
            .iter()
            .find(|p| p.depth == 0)
            .and_then(|p| site::parse_absolute(&p.url));
        for page in already {
            // Pages from an earlier attempt are unique by URL; a repeat is simply dropped.
            let _ = self.frontier.record(page);
        }
        if let Some(origin) = resumed_start {
            return Ok(origin);
        }
        self.fetched += 1;
        let fetched = self.fetcher.page(start.clone(), Redirects::Anywhere).await;
        let HtmlPage { url, html } = fetched.map_err(|reason| CrawlError::StartPage {
            url: start.into(),
            reason,
        })?;
        self.frontier.mark_seen(url.clone());
        let page = build_page(&html, &url, 0, &Site::of(&url));
        // Only an earlier page with the same canonical URL can clash; it stands for this one.
        if self.frontier.record(page.clone()).is_ok() {
            self.emit(CrawlEvent::Page(page)).await;
        }
        Ok(url)
    }

    /// Queues the links of every page recorded so far (the start page and resumed pages).
    async fn offer_known_links(&mut self, scope: &Scope) {
        for (url, depth) in self.frontier.links_of_recorded() {
            self.offer(url, depth, scope).await;
        }
    }

    /// Queues the pages the sitemaps list (robots.txt's `Sitemap:` lines and
    /// `/sitemap.xml`) at depth 1.
    async fn offer_sitemap_pages(&mut self, origin: &Url, scope: &Scope, limit: usize) {
        let mut sitemaps = scope.robots.sitemaps().to_vec();
        if let Ok(default) = origin.join("/sitemap.xml") {
            sitemaps.push(default);
        }
        for url in sitemap::pages(&self.fetcher, sitemaps, &scope.site, limit).await {
            self.offer(url, 1, scope).await;
        }
    }

    async fn offer(&mut self, url: Url, depth: u32, scope: &Scope) {
        if let Some(skipped) = self.frontier.offer(url, depth, scope) {
            self.emit(CrawlEvent::Skipped(skipped)).await;
        }
    }

    /// Fetches until nothing is left to fetch, the page limit is reached or the budget runs
    /// out; returns why it stopped early, if it did.
    async fn run(&mut self, scope: &Arc<Scope>) -> Option<StopReason> {
        let mut tasks = JoinSet::new();
        let mut in_flight: HashMap<Id, Url> = HashMap::new();
        loop {
            if Instant::now() >= self.deadline {
                return self.out_of_budget(tasks, in_flight).await;
            }
            while tasks.len() < self.concurrency {
                let Some((url, depth)) = self.frontier.next(tasks.len()) else {
                    break;
                };
                self.fetched += 1;
                let task = tasks.spawn(fetch_page(
                    self.fetcher.clone(),
                    scope.clone(),
                    url.clone(),
                    depth,
                ));
                in_flight.insert(task.id(), url);
            }
            let joined =
                match tokio::time::timeout_at(self.deadline, tasks.join_next_with_id()).await {
                    Err(_) => return self.out_of_budget(tasks, in_flight).await,
                    Ok(None) => break,
                    Ok(Some(joined)) => joined,
                };
            match joined {
                Ok((id, fetched)) => {
                    in_flight.remove(&id);
                    self.handle(fetched, scope).await;
                }
                Err(error) => {
                    // A fetch task panicked (a bug in parsing, say): that page is lost, not
                    // the crawl.
                    let url = in_flight
                        .remove(&error.id())
                        .map(String::from)
                        .unwrap_or_default();
                    let reason = SkipReason::Network {
                        message: format!("fetch task failed: {error}"),
                    };
                    self.skip(url, reason).await;
                }
            }
        }
        (self.frontier.is_full() && self.frontier.has_waiting()).then_some(StopReason::MaxPages)
    }

    async fn handle(&mut self, fetched: Fetched, scope: &Scope) {
        let Fetched {
            requested,
            depth,
            outcome,
        } = fetched;
        let (final_url, page) = match outcome {
            Ok(done) => done,
            Err(reason) => return self.skip(requested.into(), reason).await,
        };
        self.frontier.mark_seen(final_url);
        let links = page.links.clone();
        let event = CrawlEvent::Page(page.clone());
        if let Err(duplicate) = self.frontier.record(page) {
            return self.skip(requested.into(), duplicate).await;
        }
        self.emit(event).await;
        for link in links.iter().filter_map(|l| site::parse_absolute(l)) {
            self.offer(link, depth + 1, scope).await;
        }
    }

    /// The budget ran out: the fetches in flight are cancelled and reported.
    async fn out_of_budget(
        &mut self,
        mut tasks: JoinSet<Fetched>,
        in_flight: HashMap<Id, Url>,
    ) -> Option<StopReason> {
        tasks.abort_all();
        let mut cancelled: Vec<Url> = in_flight.into_values().collect();
        cancelled.sort();
        for url in cancelled {
            self.skip(url.into(), SkipReason::BudgetExhausted).await;
        }
        Some(StopReason::TotalBudget)
    }

    async fn skip(&mut self, url: String, reason: SkipReason) {
        tracing::debug!(%url, %reason, "page skipped");
        let skipped = self.frontier.skip(url, reason);
        self.emit(CrawlEvent::Skipped(skipped)).await;
    }

    /// Sends an event, waiting for room no longer than the budget lasts.
    async fn emit(&self, event: CrawlEvent) {
        // A closed channel or a full one at the deadline loses the event, not the page: the
        // report has it.
        let _ = tokio::time::timeout_at(self.deadline, self.events.send(event)).await;
    }
}

/// One fetch task: the page fetched within the site and made into a [`Page`].
async fn fetch_page(fetcher: Fetcher, scope: Arc<Scope>, requested: Url, depth: u32) -> Fetched {
    let outcome = fetcher
        .page(requested.clone(), Redirects::Within(&scope))
        .await
        .map(|HtmlPage { url, html }| {
            let page = build_page(&html, &url, depth, &scope.site);
            (url, page)
        });
    Fetched {
        requested,
        depth,
        outcome,
    }
}

/// The page as recorded: under its canonical URL when that is on the site, with its
/// same-site links.
fn build_page(html: &str, url: &Url, depth: u32, site: &Site) -> Page {
    let extracted = extract::extract(html, url);
    let recorded_url = extracted
        .canonical
        .filter(|c| site.contains(c))
        .unwrap_or_else(|| url.clone());
    let links = extracted
        .links
        .iter()
        .filter(|l| site.contains(l) && *l != url && *l != &recorded_url)
        .map(|l| l.to_string())
        .collect();
    let mut page = Page {
        url: recorded_url.into(),
        title: extracted.title,
        depth,
        sections: extracted.sections,
        content_hash: String::new(),
        links,
    };
    page.content_hash = content_hash(&page);
    page
}
