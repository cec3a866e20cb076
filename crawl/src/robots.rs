//! robots.txt, fetched once per crawl and read with `robotxt` (RFC 9309).
//!
//! What a failed fetch means follows Google's documented handling: a 4xx (other than 429)
//! means no rules, so everything may be crawled; a 5xx, a 429 or an unreachable server means
//! the site is closed to us, so nothing past the start page is fetched; a redirect chain
//! longer than five hops counts as no file.

use crate::fetch::{Fetcher, Resource};
use crate::report::SkipReason;
use robotxt::{AccessResult, Robots};
use url::Url;

/// The rules for `agent` on the site of `origin`.
pub(crate) async fn fetch(fetcher: &Fetcher, origin: &Url, agent: &str) -> Robots {
    let Ok(url) = origin.join("/robots.txt") else {
        return Robots::allow_all();
    };
    let outcome = fetcher.resource(url.clone()).await;
    let robots = Robots::from_access(access(&outcome), agent);
    tracing::debug!(%url, status = ?outcome.as_ref().map(|r| r.status), "robots.txt read");
    robots
}

fn access(outcome: &Result<Resource, SkipReason>) -> AccessResult<'_> {
    match outcome {
        Ok(Resource {
            status: 200..=299,
            body,
        }) => AccessResult::Successful(body),
        Ok(Resource { status: 429, .. }) => AccessResult::Unreachable,
        Ok(Resource {
            status: 300..=499, ..
        }) => AccessResult::Unavailable,
        Ok(Resource { .. }) => AccessResult::Unreachable,
        Err(SkipReason::TooManyRedirects { .. }) => AccessResult::TooManyRedirects,
        Err(_) => AccessResult::Unreachable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(outcome: Result<Resource, SkipReason>, path: &str) -> bool {
        Robots::from_access(access(&outcome), "SwitchboardBot").is_allowed(path)
    }

    fn status(status: u16) -> Result<Resource, SkipReason> {
        Ok(Resource {
            status,
            body: Vec::new(),
        })
    }

    #[test]
    fn a_missing_file_allows_everything_and_a_failing_server_nothing() {
        assert!(allows(status(404), "/about"));
        assert!(allows(status(410), "/about"));
        assert!(!allows(status(503), "/about"));
        assert!(!allows(status(429), "/about"));
        assert!(!allows(Err(SkipReason::Timeout), "/about"));
        assert!(allows(
            Err(SkipReason::TooManyRedirects { max: 5 }),
            "/about"
        ));
    }

    #[test]
    fn our_own_group_wins_over_the_wildcard_group() {
        let body =
            b"User-agent: *\nDisallow: /\n\nUser-agent: SwitchboardBot\nDisallow: /private/\n";
        let file = || {
            Ok(Resource {
                status: 200,
                body: body.to_vec(),
            })
        };
        assert!(allows(file(), "/about"));
        assert!(!allows(file(), "/private/x"));
    }
}
