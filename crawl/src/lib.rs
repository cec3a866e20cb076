//! The agent builder's website crawler: from a business's start URL to its pages as
//! structured text ([`domain::site::Page`]). No Temporal here: an activity calls [`crawl`],
//! persists each page from the events and heartbeats.
//!
//! - `crawler`  — [`crawl`]: the start page, robots.txt, sitemaps, then breadth-first
//!   fetches with a bounded number in flight, within the page, depth and time limits
//! - `frontier` — the bookkeeping without I/O: queued URLs by depth, seen URLs, recorded
//!   pages (canonical duplicates), skipped URLs
//! - `fetch`    — one HTTP fetch: redirects checked hop by hop, body size limit, timeout,
//!   content types (HTML parsed; PDFs and others skipped)
//! - `extract`  — HTML to title, canonical URL, links and sections (`extract::sections`
//!   walks headings and blocks)
//! - `robots`   — robots.txt and what a missing or failing one means
//! - `sitemap`  — sitemap.xml and sitemap indexes
//! - `site`     — the site a crawl stays on and the normal form of its URLs
//! - `config`   — [`CrawlConfig`], the limits
//! - `report`   — [`CrawlReport`], [`Skipped`], [`SkipReason`], [`CrawlEvent`], [`CrawlError`]

mod config;
mod crawler;
mod extract;
mod fetch;
mod frontier;
mod report;
mod robots;
mod site;
mod sitemap;

pub use config::CrawlConfig;
pub use crawler::crawl;
pub use report::{CrawlError, CrawlEvent, CrawlReport, SkipReason, Skipped, StopReason};
