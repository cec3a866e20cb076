//! The crawl step: the site's pages, each kept in `crawled_pages` as soon as it is fetched,
//! with a heartbeat, so a crawl retried after its worker died starts from what it kept.

use super::AgentBuildActivitiesImpl;
use crate::call::store_failure;
use crawl::{CrawlConfig, CrawlError, CrawlEvent};
use temporalio_common::error::ApplicationFailure;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::agent_build::{BuildRef, Crawled};

/// Pages in flight between the crawler and the database.
const EVENTS_BUFFERED: usize = 16;

impl AgentBuildActivitiesImpl {
    pub(super) async fn crawl_pages(
        &self,
        ctx: &ActivityContext,
        input: BuildRef,
    ) -> Result<Crawled, ActivityError> {
        let build = self.load(input).await?;
        let already = self
            .store
            .crawled_pages(input.tenant_id, input.build_id)
            .await
            .map_err(store_failure)?;
        let config = CrawlConfig {
            max_pages: build.max_pages as usize,
            ..self.crawl.clone()
        };
        let (events, mut received) = tokio::sync::mpsc::channel(EVENTS_BUFFERED);
        let crawling = crawl::crawl(&build.url, &config, already, events);
        let keeping = async {
            let mut kept = 0u32;
            while let Some(event) = received.recv().await {
                let CrawlEvent::Page(page) = event else {
                    continue;
                };
                self.store
                    .save_crawled_page(input.tenant_id, input.build_id, &page)
                    .await
                    .map_err(store_failure)?;
                kept += 1;
                let _ = ctx.record_heartbeat(kept).await;
            }
            Ok::<u32, ActivityError>(kept)
        };
        let (report, kept) = tokio::join!(crawling, keeping);
        kept?;
        let report = report.map_err(|e| match e {
            // The address is wrong or the site does not answer with a page: say so, do not
            // try again and again.
            CrawlError::InvalidStartUrl { .. } | CrawlError::StartPage { .. } => {
                ApplicationFailure::non_retryable(e).into()
            }
            other => ActivityError::from(ApplicationFailure::new(other)),
        })?;
        tracing::info!(
            build = %input.build_id,
            pages = report.pages.len(),
            fetched = report.fetched,
            skipped = report.skipped.len(),
            elapsed_ms = report.elapsed.as_millis() as u64,
            "crawled"
        );
        Ok(Crawled {
            pages: report.pages.len() as u32,
            fetched: report.fetched as u32,
            skipped: report.skipped.len() as u32,
        })
    }
}
