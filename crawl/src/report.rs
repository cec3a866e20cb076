//! What a crawl hands back: the pages, every URL it gave up on and why, and its errors.

use domain::site::Page;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The outcome of [`crate::crawl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlReport {
    /// The pages passed in as already fetched, then the new ones in the order they arrived.
    pub pages: Vec<Page>,
    /// URLs not made into a page, each with its reason, in the order they were given up.
    pub skipped: Vec<Skipped>,
    /// Page requests this call made (a redirect chain counts once; robots.txt and sitemaps
    /// are not counted).
    pub fetched: usize,
    pub elapsed: Duration,
    /// Why the crawl ended before it ran out of links, if it did.
    pub stopped: Option<StopReason>,
}

/// A URL the crawl did not turn into a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub url: String,
    pub reason: SkipReason,
}

/// Why a URL is not in the result. A skipped page never stops the crawl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    #[error("disallowed by robots.txt")]
    DisallowedByRobots,
    #[error("HTTP status {status}")]
    HttpStatus { status: u16 },
    #[error("timed out")]
    Timeout,
    #[error("larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// PDFs are not extracted (yet): a price list in a PDF is reported, not read.
    #[error("pdf: not extracted")]
    Pdf,
    #[error("content type {content_type}: not extracted")]
    UnsupportedContentType { content_type: String },
    #[error("redirects off the site to {to}")]
    OffSiteRedirect { to: String },
    #[error("more than {max} redirects")]
    TooManyRedirects { max: usize },
    #[error("network error: {message}")]
    Network { message: String },
    /// Another URL already gave this page (same canonical URL or same redirect target).
    #[error("same page as {of}")]
    Duplicate { of: String },
    /// The fetch was in flight when the crawl's total budget ran out.
    #[error("crawl budget ran out")]
    BudgetExhausted,
}

/// Why a crawl stopped with links left to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    MaxPages,
    TotalBudget,
}

/// Sent to the caller as the crawl goes, so it can persist each page at once (and heartbeat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrawlEvent {
    Page(Page),
    Skipped(Skipped),
}

/// The crawl could not start: only the start page's failures are errors.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("start URL {url:?} is not an http(s) URL: {reason}")]
    InvalidStartUrl { url: String, reason: String },
    #[error("start page {url} could not be read: {reason}")]
    StartPage { url: String, reason: SkipReason },
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}
