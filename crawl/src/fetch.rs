//! One HTTP fetch: redirects followed by hand (each hop is checked against the site and
//! robots.txt), the body streamed up to its size limit, the whole fetch under a timeout.

use crate::report::SkipReason;
use crate::site::{self, Site};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use robotxt::Robots;
use std::error::Error as _;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Google follows five redirect hops; so do we.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// What a redirect may lead to.
pub(crate) enum Redirects<'a> {
    /// The start page, robots.txt and sitemaps: wherever the server sends us (a business
    /// that moved to a new domain is crawled on the new one).
    Anywhere,
    /// Every other page: only within the site and where robots.txt allows.
    Within(&'a Scope),
}

/// The site being crawled and the rules robots.txt gave for it.
pub(crate) struct Scope {
    pub(crate) site: Site,
    pub(crate) robots: Robots,
}

impl Scope {
    pub(crate) fn allows(&self, url: &Url) -> bool {
        self.robots.is_url_allowed(url)
    }
}

/// A body read whole, with the status it came with (robots.txt reads 404 and 5xx apart).
pub(crate) struct Resource {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// An HTML page as fetched.
pub(crate) struct HtmlPage {
    /// After redirects.
    pub(crate) url: Url,
    pub(crate) html: String,
}

/// The shared HTTP client with the crawl's limits. Cheap to clone into each fetch task.
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    page_timeout: Duration,
    max_bytes: usize,
    /// The end of the crawl's total budget: no fetch outlives it.
    deadline: Instant,
}

impl Fetcher {
    pub(crate) fn new(
        user_agent: &str,
        page_timeout: Duration,
        max_bytes: usize,
        deadline: Instant,
    ) -> Result<Self, reqwest::Error> {
        // Redirects are followed by hand: reqwest's policy cannot consult robots.txt.
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            page_timeout,
            max_bytes,
            deadline,
        })
    }

    /// Fetches an HTML page; any other outcome is the reason it is skipped.
    pub(crate) async fn page(
        &self,
        url: Url,
        redirects: Redirects<'_>,
    ) -> Result<HtmlPage, SkipReason> {
        let fetch = async {
            let (url, response) = self.follow(url, &redirects).await?;
            let status = response.status();
            if !status.is_success() {
                return Err(SkipReason::HttpStatus {
                    status: status.as_u16(),
                });
            }
            check_html(&url, &response)?;
            let body = self.read_body(response).await?;
            // Without reqwest's `charset` feature the body is taken as UTF-8, which nearly
            // every site now is; stray bytes become U+FFFD rather than failing the page.
            let html = String::from_utf8_lossy(&body).into_owned();
            Ok(HtmlPage { url, html })
        };
        self.timed(fetch).await
    }

    /// Fetches robots.txt or a sitemap: any status, any content type.
    pub(crate) async fn resource(&self, url: Url) -> Result<Resource, SkipReason> {
        let fetch = async {
            let (_, response) = self.follow(url, &Redirects::Anywhere).await?;
            let status = response.status().as_u16();
            let body = self.read_body(response).await?;
            Ok(Resource { status, body })
        };
        self.timed(fetch).await
    }

    async fn timed<T>(
        &self,
        fetch: impl Future<Output = Result<T, SkipReason>>,
    ) -> Result<T, SkipReason> {
        let until = (Instant::now() + self.page_timeout).min(self.deadline);
        tokio::time::timeout_at(until, fetch)
            .await
            .unwrap_or(Err(SkipReason::Timeout))
    }

    /// Requests `url`, following redirects; returns the final URL and its response.
    async fn follow(
        &self,
        mut url: Url,
        redirects: &Redirects<'_>,
    ) -> Result<(Url, reqwest::Response), SkipReason> {
        for _ in 0..=MAX_REDIRECTS {
            let response = self.client.get(url.clone()).send().await.map_err(network)?;
            if !response.status().is_redirection() {
                return Ok((url, response));
            }
            let Some(next) = location(&url, &response) else {
                return Ok((url, response));
            };
            if let Redirects::Within(scope) = redirects {
                if !scope.site.contains(&next) {
                    return Err(SkipReason::OffSiteRedirect { to: next.into() });
                }
                if !scope.allows(&next) {
                    return Err(SkipReason::DisallowedByRobots);
                }
            }
            url = next;
        }
        Err(SkipReason::TooManyRedirects { max: MAX_REDIRECTS })
    }

    /// Streams the body, giving up as soon as it passes the size limit.
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, SkipReason> {
        let too_large = SkipReason::TooLarge {
            limit: self.max_bytes,
        };
        let declared = response.content_length().unwrap_or(0);
        if usize::try_from(declared).map_or(true, |n| n > self.max_bytes) {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The redirect's target in normal form; `None` when there is no usable `Location`.
fn location(from: &Url, response: &reqwest::Response) -> Option<Url> {
    let value = response.headers().get(LOCATION)?.to_str().ok()?;
    site::resolve(from, value)
}

/// Only HTML is parsed. A response without a content type is tried as HTML: small sites'
/// servers often send none.
fn check_html(url: &Url, response: &reqwest::Response) -> Result<(), SkipReason> {
    let Some(value) = response.headers().get(CONTENT_TYPE) else {
        return Ok(());
    };
    let raw = value.to_str().unwrap_or_default();
    let content_type = raw
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let pdf_by_name = content_type == "application/octet-stream"
        && url.path().to_ascii_lowercase().ends_with(".pdf");
    match content_type.as_str() {
        "text/html" | "application/xhtml+xml" => Ok(()),
        "application/pdf" => Err(SkipReason::Pdf),
        _ if pdf_by_name => Err(SkipReason::Pdf),
        _ => Err(SkipReason::UnsupportedContentType { content_type }),
    }
}

fn network(error: reqwest::Error) -> SkipReason {
    if error.is_timeout() {
        return SkipReason::Timeout;
    }
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    SkipReason::Network { message }
}
