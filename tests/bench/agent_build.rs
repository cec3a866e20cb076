//! The agent builder's own work on the fixture website (`testkit::website`, 59 public pages,
//! one of them answering after 3 s): the crawl (pages per second, and the same crawl with one
//! request in flight as the baseline in the same run), the offline extraction and the agent
//! generation (best of N), and the knowledge's coverage against the site's hand-made answer key.
//! Temporal, the database and Twilio are not in these figures: the end-to-end build time is the
//! integration test's (`agent_build::a_website_becomes_an_agent…` prints it).
//!
//!   cargo run --release -p switchboard-tests --bin bench-agent-build [N]   (default N = 20)

use anyhow::{Context, Result};
use crawl::{CrawlConfig, CrawlEvent};
use domain::conversation::{keywords, knowledge_score};
use domain::site::{KnowledgeEntry, Page};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use testkit::website::{self, FixtureSite, answer_key};

/// One crawl: its pages, the time to the last page that was not the slow one, and in all.
struct Crawled {
    pages: Vec<Page>,
    fast_done: Duration,
    elapsed: Duration,
}

impl Crawled {
    /// Pages per second over the time not spent waiting for the slow page: with several
    /// requests in flight the others go on meanwhile (the time to the last other page); with
    /// one, the crawl waits it out ([`website::SLOW_PAGE_DELAY`] is taken off).
    fn rate(&self, in_flight: usize) -> f64 {
        let busy = if in_flight > 1 {
            self.fast_done
        } else {
            self.elapsed.saturating_sub(website::SLOW_PAGE_DELAY)
        };
        (self.pages.len() - 1) as f64 / busy.as_secs_f64()
    }
}

async fn crawl_once(site: &FixtureSite, in_flight: usize) -> Result<Crawled> {
    let config = CrawlConfig {
        max_pages: 100,
        per_host_concurrency: in_flight,
        ..CrawlConfig::default()
    };
    let (events, mut received) = tokio::sync::mpsc::channel(64);
    let start = site.url();
    let started = Instant::now();
    let crawling = crawl::crawl(&start, &config, Vec::new(), events);
    let timing = async {
        let mut fast_done = Duration::ZERO;
        while let Some(event) = received.recv().await {
            if let CrawlEvent::Page(page) = event
                && page.path() != "/gallery"
            {
                fast_done = started.elapsed();
            }
        }
        fast_done
    };
    let (report, fast_done) = tokio::join!(crawling, timing);
    let report = report.context("crawling the fixture site")?;
    Ok(Crawled {
        pages: report.pages,
        fast_done,
        elapsed: started.elapsed(),
    })
}

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..n {
        let started = Instant::now();
        let value = f();
        best = best.min(started.elapsed());
        out = Some(value);
    }
    (best, out.expect("n >= 1"))
}

/// The entry the knowledge search ranks first for `query`.
fn best_hit<'a>(entries: &'a [KnowledgeEntry], query: &str) -> Option<&'a KnowledgeEntry> {
    let wanted = keywords(query);
    let mut best: Option<(usize, &KnowledgeEntry)> = None;
    for e in entries {
        let score = knowledge_score(&wanted, e.category.as_str(), &e.question, &e.answer);
        if score > 0 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, e));
        }
    }
    best.map(|(_, e)| e)
}

fn coverage(entries: &[KnowledgeEntry]) {
    let found: BTreeSet<_> = entries.iter().map(|e| e.category).collect();
    let key = answer_key::categories();
    let covered = key.iter().filter(|c| found.contains(c)).count();
    println!(
        "categories covered           {covered}/{} of the answer key",
        key.len()
    );
    let prices = answer_key::PRICES
        .iter()
        .filter(|(_, price)| entries.iter().any(|e| e.answer.contains(price)))
        .count();
    println!(
        "prices found                 {prices}/{}",
        answer_key::PRICES.len()
    );
    let answered = answer_key::QUESTIONS
        .iter()
        .filter(|(q, expected)| best_hit(entries, q).is_some_and(|e| e.answer.contains(expected)))
        .count();
    println!(
        "caller questions answered    {answered}/{} (the search's first hit holds the answer)",
        answer_key::QUESTIONS.len()
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()
        .context("N must be a number")?
        .unwrap_or(20);
    let site = FixtureSite::start().await;
    let in_flight = CrawlConfig::default().per_host_concurrency;
    let concurrent = crawl_once(&site, in_flight).await?;
    let sequential = crawl_once(&site, 1).await?;
    println!(
        "crawl, {in_flight} in flight           {} pages in {:.2} s (the slow page answers after {} s); \
         {:.0} pages/s besides it",
        concurrent.pages.len(),
        concurrent.elapsed.as_secs_f64(),
        website::SLOW_PAGE_DELAY.as_secs(),
        concurrent.rate(in_flight)
    );
    println!(
        "crawl, 1 in flight (base)    {} pages in {:.2} s; {:.0} pages/s besides the slow page \
         → {:.1}× with {in_flight}",
        sequential.pages.len(),
        sequential.elapsed.as_secs_f64(),
        sequential.rate(1),
        concurrent.rate(in_flight) / sequential.rate(1)
    );
    let pages = concurrent.pages;
    let (extract, found) = best_of(n, || knowledge::offline::extract(&pages));
    println!(
        "offline extraction           {:.1} ms (best of {n}), {} entries",
        extract.as_secs_f64() * 1e3,
        found.entries.len()
    );
    let (generate, agent) = best_of(n, || knowledge::agent::generate(&found, None));
    println!(
        "agent generation             {:.3} ms, greeting: {}",
        generate.as_secs_f64() * 1e3,
        agent.greeting
    );
    coverage(&found.entries);
    println!(
        "seed 002's budget            crawl 30 s, extract 60 s, generate 45 s (135 s) → here {:.2} s",
        concurrent.elapsed.as_secs_f64() + extract.as_secs_f64() + generate.as_secs_f64()
    );
    Ok(())
}
