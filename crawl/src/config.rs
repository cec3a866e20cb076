//! How far, how fast and how long a crawl may go.

use std::time::Duration;

/// Limits of one crawl. `Default` gives the agent builder's: a small business site is read
/// in well under its 30-second budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlConfig {
    /// Pages in the result, counting the ones passed in as already fetched.
    pub max_pages: usize,
    /// Link hops from the start page; sitemap entries sit at depth 1.
    pub max_depth: u32,
    /// Requests in flight at once. A crawl stays on one site, so this bounds the load we put
    /// on the business's server (its `www.` twin shares the bound).
    pub per_host_concurrency: usize,
    /// One fetch, redirects and body included.
    pub page_timeout: Duration,
    /// A larger body is not read to its end: the page is skipped as too large.
    pub max_page_bytes: usize,
    /// The whole crawl; when it runs out the crawl stops and reports what it has.
    pub total_budget: Duration,
    /// Sent with every request; its product token (before the `/`) is the name matched
    /// against robots.txt groups.
    pub user_agent: String,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        Self {
            max_pages: 60,
            max_depth: 4,
            per_host_concurrency: 4,
            page_timeout: Duration::from_secs(5),
            max_page_bytes: 2 * 1024 * 1024,
            total_budget: Duration::from_secs(30),
            user_agent: "SwitchboardBot/1.0 (+https://switchboard.dev/bot)".to_owned(),
        }
    }
}

impl CrawlConfig {
    /// The name robots.txt groups are matched against: `SwitchboardBot` for
    /// `SwitchboardBot/1.0 (+https://…)`.
    pub(crate) fn robots_agent(&self) -> &str {
        let token = self.user_agent.split(['/', ' ']).next().unwrap_or_default();
        if token.is_empty() { "*" } else { token }
    }
}
