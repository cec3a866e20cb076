//! The site a crawl stays on and the one spelling of each of its URLs.

use url::Url;

/// Query parameters that only say where a visitor came from: two links differing in them
/// are the same page.
const TRACKING_PARAMS: [&str; 4] = ["gclid", "fbclid", "msclkid", "mc_eid"];

/// One website: a host (its `www.` twin included) and port, over http or https.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site {
    /// The host without a leading `www.`, lower case.
    host: String,
    /// An explicit port; `None` for the scheme's default, so `http://x` and `https://x` are
    /// one site while two test servers on 127.0.0.1 are two.
    port: Option<u16>,
}

impl Site {
    /// The site `url` belongs to (the start page's, after its redirects).
    pub(crate) fn of(url: &Url) -> Self {
        Self {
            host: bare_host(url),
            port: url.port(),
        }
    }

    pub(crate) fn contains(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && bare_host(url) == self.host
            && url.port() == self.port
    }
}

fn bare_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) => rest.to_owned(),
        None => host,
    }
}

/// Parses an absolute http(s) URL into its normal form, or `None` for anything else.
pub(crate) fn parse_absolute(raw: &str) -> Option<Url> {
    Url::parse(raw.trim()).ok().and_then(normalise)
}

/// Resolves a link found on `base` into its normal form; `None` for `mailto:`, `tel:`,
/// `javascript:` and anything else that is not http(s).
pub(crate) fn resolve(base: &Url, href: &str) -> Option<Url> {
    base.join(href.trim()).ok().and_then(normalise)
}

/// The one spelling of a URL: http(s) only, no fragment, no default port (the `url` crate
/// drops it while parsing), lower-case host, the query's pairs de-duplicated and sorted and
/// tracking parameters dropped, an empty query removed.
pub(crate) fn normalise(mut url: Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    if let Some(query) = url.query() {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .filter(|(key, _)| !is_tracking(key))
            .collect();
        pairs.sort();
        pairs.dedup();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    Some(url)
}

fn is_tracking(key: &str) -> bool {
    key.starts_with("utm_") || TRACKING_PARAMS.contains(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> String {
        parse_absolute(raw).map(String::from).unwrap_or_default()
    }

    #[test]
    fn a_url_has_one_spelling() {
        assert_eq!(norm("HTTP://Example.COM:80/a#top"), "http://example.com/a");
        assert_eq!(norm("https://example.com:443/"), "https://example.com/");
        assert_eq!(norm("https://example.com/?"), "https://example.com/");
        assert_eq!(
            norm("https://example.com/p?b=2&a=1&b=2&utm_source=x"),
            "https://example.com/p?a=1&b=2"
        );
    }

    #[test]
    fn links_resolve_against_their_page_and_other_schemes_are_dropped() {
        let base =
            Url::parse("https://example.com/services/brakes").unwrap_or_else(|e| panic!("{e}"));
        let resolved = |href| resolve(&base, href).map(String::from);
        assert_eq!(
            resolved("../about#team").as_deref(),
            Some("https://example.com/about")
        );
        assert_eq!(resolved("mailto:a@example.com"), None);
        assert_eq!(resolved("tel:+15551234567"), None);
        assert_eq!(resolved("javascript:void(0)"), None);
    }

    #[test]
    fn www_and_scheme_do_not_change_the_site_but_the_port_does() {
        let site =
            Site::of(&Url::parse("https://www.example.com/").unwrap_or_else(|e| panic!("{e}")));
        let on = |raw| site.contains(&Url::parse(raw).unwrap_or_else(|e| panic!("{e}")));
        assert!(on("http://example.com/x"));
        assert!(on("https://WWW.example.com/y"));
        assert!(!on("https://example.com:8443/"));
        assert!(!on("https://shop.example.com/"));
        let local =
            Site::of(&Url::parse("http://127.0.0.1:4000/").unwrap_or_else(|e| panic!("{e}")));
        assert!(
            !local
                .contains(&Url::parse("http://127.0.0.1:4001/").unwrap_or_else(|e| panic!("{e}")))
        );
    }
}
