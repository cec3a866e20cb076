//! The crawler against real small sites served by axum on 127.0.0.1.

mod test_site;

use crawl::{CrawlConfig, CrawlError, CrawlEvent, CrawlReport, SkipReason, StopReason, crawl};
use domain::site::{Block, Page};
use std::time::Duration;
use test_site::{Route, TestSite, html};
use tokio::sync::mpsc;

async fn crawl_site(start: &str, config: &CrawlConfig) -> CrawlReport {
    let (events, _) = mpsc::channel(1);
    crawl(start, config, Vec::new(), events).await.unwrap()
}

fn paths(report: &CrawlReport) -> Vec<String> {
    let mut paths: Vec<String> = report.pages.iter().map(|p| p.path().to_owned()).collect();
    paths.sort();
    paths
}

fn reason_for(report: &CrawlReport, path: &str) -> Option<SkipReason> {
    report
        .skipped
        .iter()
        .find(|s| s.url.ends_with(path))
        .map(|s| s.reason.clone())
}

fn page<'a>(report: &'a CrawlReport, path: &str) -> &'a Page {
    report
        .pages
        .iter()
        .find(|p| p.path() == path)
        .unwrap_or_else(|| panic!("no page {path}"))
}

#[tokio::test]
async fn a_disallowed_section_is_never_requested_and_is_reported() {
    let site = TestSite::serve(vec![
        (
            "/robots.txt",
            Route::text("User-agent: *\nDisallow: /private/\n"),
        ),
        (
            "/",
            Route::html(
                "Home",
                r#"<a href="/private/staff">Staff</a><a href="/about">About</a>"#,
            ),
        ),
        (
            "/about",
            Route::html("About", r#"<a href="/private/staff">Staff again</a>"#),
        ),
        ("/private/staff", Route::html("Staff", "secret")),
    ])
    .await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    assert_eq!(paths(&report), ["/", "/about"]);
    assert_eq!(site.hits("/private/staff"), 0);
    let disallowed: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::DisallowedByRobots)
        .collect();
    assert_eq!(disallowed.len(), 1, "reported once: {:?}", report.skipped);
    assert!(disallowed[0].url.ends_with("/private/staff"));
}

#[tokio::test]
async fn a_robots_txt_that_fails_with_a_server_error_closes_the_site_but_for_the_start_page() {
    let site = TestSite::serve(vec![
        ("/robots.txt", Route::Status(503)),
        ("/", Route::html("Home", r#"<a href="/about">About</a>"#)),
        ("/about", Route::html("About", "about")),
    ])
    .await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    assert_eq!(paths(&report), ["/"]);
    assert_eq!(site.hits("/about"), 0);
    assert_eq!(
        reason_for(&report, "/about"),
        Some(SkipReason::DisallowedByRobots)
    );
}

#[tokio::test]
async fn pages_listed_only_in_sitemaps_are_crawled_at_depth_one() {
    let site = TestSite::serve(vec![
        ("/robots.txt", Route::Templated("User-agent: *\nAllow: /\nSitemap: {base}/maps/index.xml\n".into())),
        ("/maps/index.xml", Route::Templated(
            r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{base}/maps/pages.xml</loc></sitemap></sitemapindex>"#.into(),
        )),
        ("/maps/pages.xml", Route::Templated(
            r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}/hidden</loc></url></urlset>"#.into(),
        )),
        ("/sitemap.xml", Route::Templated(
            r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}/also-hidden</loc></url><url><loc>http://elsewhere.invalid/x</loc></url></urlset>"#.into(),
        )),
        ("/", Route::html("Home", "no links")),
        ("/hidden", Route::html("Hidden", r#"<a href="/under-hidden">more</a>"#)),
        ("/also-hidden", Route::html("Also hidden", "x")),
        ("/under-hidden", Route::html("Under", "y")),
    ])
    .await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    assert_eq!(
        paths(&report),
        ["/", "/also-hidden", "/hidden", "/under-hidden"]
    );
    assert_eq!(page(&report, "/hidden").depth, 1);
    assert_eq!(page(&report, "/also-hidden").depth, 1);
    assert_eq!(page(&report, "/under-hidden").depth, 2);
}

#[tokio::test]
async fn a_permanent_redirect_is_followed_and_the_page_is_recorded_under_its_target() {
    let site = TestSite::serve(vec![
        (
            "/",
            Route::html(
                "Home",
                r#"<a href="/old-services">Services</a><a href="/services">Services</a>"#,
            ),
        ),
        ("/old-services", Route::Redirect(301, "/services".into())),
        ("/services", Route::html("Services", "Brakes")),
    ])
    .await;
    // One at a time: two fetches in flight that end on the same page both happen (the
    // second is then reported as a duplicate).
    let config = CrawlConfig {
        per_host_concurrency: 1,
        ..CrawlConfig::default()
    };
    let report = crawl_site(&site.url("/"), &config).await;
    assert_eq!(paths(&report), ["/", "/services"]);
    assert_eq!(
        site.hits("/services"),
        1,
        "the redirect's target is not fetched again"
    );
}

#[tokio::test]
async fn a_redirect_chain_longer_than_five_hops_is_given_up() {
    let mut routes = vec![(
        "/".to_owned(),
        Route::html("Home", r#"<a href="/r0">Start</a><a href="/s0">Start</a>"#),
    )];
    routes.extend((0..6).map(|i| {
        (
            format!("/r{i}"),
            Route::Redirect(302, format!("/r{}", i + 1)),
        )
    }));
    routes.push(("/r6".to_owned(), Route::html("End", "too far")));
    routes.extend((0..5).map(|i| {
        (
            format!("/s{i}"),
            Route::Redirect(302, format!("/s{}", i + 1)),
        )
    }));
    routes.push(("/s5".to_owned(), Route::html("End", "five hops")));
    let site = TestSite::serve(routes).await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    assert_eq!(paths(&report), ["/", "/s5"]);
    assert_eq!(
        reason_for(&report, "/r0"),
        Some(SkipReason::TooManyRedirects { max: 5 })
    );
    assert_eq!(site.hits("/r6"), 0);
}

#[tokio::test]
async fn a_broken_link_is_reported_and_the_crawl_goes_on() {
    let site = TestSite::serve(vec![
        (
            "/",
            Route::html(
                "Home",
                r#"<a href="/gone">Gone</a><a href="/down">Down</a><a href="/about">About</a>"#,
            ),
        ),
        ("/down", Route::Status(500)),
        ("/about", Route::html("About", "about")),
    ])
    .await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    assert_eq!(paths(&report), ["/", "/about"]);
    assert_eq!(
        reason_for(&report, "/gone"),
        Some(SkipReason::HttpStatus { status: 404 })
    );
    assert_eq!(
        reason_for(&report, "/down"),
        Some(SkipReason::HttpStatus { status: 500 })
    );
}

#[tokio::test]
async fn a_page_slower_than_the_page_timeout_is_reported_as_timed_out() {
    let site = TestSite::serve(vec![
        (
            "/",
            Route::html(
                "Home",
                r#"<a href="/slow">Slow</a><a href="/about">About</a>"#,
            ),
        ),
        (
            "/slow",
            Route::Slow(Duration::from_secs(3), html("Slow", "late")),
        ),
        ("/about", Route::html("About", "about")),
    ])
    .await;
    let config = CrawlConfig {
        page_timeout: Duration::from_millis(300),
        ..CrawlConfig::default()
    };
    let report = crawl_site(&site.url("/"), &config).await;
    assert_eq!(paths(&report), ["/", "/about"]);
    assert_eq!(reason_for(&report, "/slow"), Some(SkipReason::Timeout));
    assert!(
        report.elapsed < Duration::from_secs(2),
        "{:?}",
        report.elapsed
    );
}

#[tokio::test]
async fn pdfs_and_other_documents_are_skipped_and_reported() {
    let site = TestSite::serve(vec![
        (
            "/",
            Route::html(
                "Home",
                r#"<a href="/prices.pdf">Prices</a><a href="/data.json">Data</a>"#,
            ),
        ),
        (
            "/prices.pdf",
            Route::Bytes("application/pdf", b"%PDF-1.4 not really".to_vec()),
        ),
        (
            "/data.json",
            Route::Bytes("application/json", b"{}".to_vec()),
        ),
    ])
    .await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    assert_eq!(paths(&report), ["/"]);
    let pdf = reason_for(&report, "/prices.pdf").unwrap();
    assert_eq!(pdf, SkipReason::Pdf);
    assert_eq!(pdf.to_string(), "pdf: not extracted");
    let json = SkipReason::UnsupportedContentType {
        content_type: "application/json".into(),
    };
    assert_eq!(reason_for(&report, "/data.json"), Some(json));
}

#[tokio::test]
async fn a_page_over_the_size_limit_is_skipped_as_too_large() {
    let big = format!("<p>{}</p>", "All about our brakes. ".repeat(3_000));
    let site = TestSite::serve(vec![
        (
            "/",
            Route::html(
                "Home",
                r#"<a href="/big">Big</a><a href="/big-chunked">Big</a>"#,
            ),
        ),
        ("/big", Route::html("Big", &big)),
        ("/big-chunked", Route::Chunked(html("Big", &big))),
    ])
    .await;
    let config = CrawlConfig {
        max_page_bytes: 20_000,
        ..CrawlConfig::default()
    };
    let report = crawl_site(&site.url("/"), &config).await;
    assert_eq!(paths(&report), ["/"]);
    assert_eq!(
        reason_for(&report, "/big"),
        Some(SkipReason::TooLarge { limit: 20_000 })
    );
    assert_eq!(
        reason_for(&report, "/big-chunked"),
        Some(SkipReason::TooLarge { limit: 20_000 })
    );
}

#[tokio::test]
async fn an_off_site_link_or_redirect_is_never_followed() {
    let other = TestSite::serve(vec![("/page", Route::html("Other", "elsewhere"))]).await;
    let links = format!(
        r#"<a href="{}">Partner</a><a href="/leave">Leave</a>"#,
        other.url("/page")
    );
    let site = TestSite::serve(vec![
        ("/", Route::html("Home", &links)),
        ("/leave", Route::Redirect(302, other.url("/page"))),
    ])
    .await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    assert_eq!(paths(&report), ["/"]);
    assert_eq!(other.hits("/page"), 0);
    assert_eq!(
        page(&report, "/").links,
        [site.url("/leave")],
        "off-site links are not kept"
    );
    let to = other.url("/page");
    assert_eq!(
        reason_for(&report, "/leave"),
        Some(SkipReason::OffSiteRedirect { to })
    );
}

#[tokio::test]
async fn two_urls_with_the_same_canonical_make_one_page() {
    let site = TestSite::serve(vec![
        (
            "/",
            Route::html(
                "Home",
                r#"<a href="/brakes?ref=home">Brakes</a><a href="/brakes-copy">Brakes</a>"#,
            ),
        ),
        (
            "/brakes",
            Route::html("Brakes", r#"<link rel="canonical" href="/brakes">x"#),
        ),
        (
            "/brakes-copy",
            Route::html("Brakes", r#"<link rel="canonical" href="/brakes">x"#),
        ),
    ])
    .await;
    let config = CrawlConfig {
        per_host_concurrency: 1,
        ..CrawlConfig::default()
    };
    let report = crawl_site(&site.url("/"), &config).await;
    assert_eq!(paths(&report), ["/", "/brakes"]);
    assert_eq!(page(&report, "/brakes").url, site.url("/brakes"));
    let of = site.url("/brakes");
    assert_eq!(
        reason_for(&report, "/brakes-copy"),
        Some(SkipReason::Duplicate { of })
    );
}

#[tokio::test]
async fn links_differing_only_in_fragment_or_query_order_are_fetched_once() {
    let site = TestSite::serve(vec![
        ("/", Route::html("Home", r##"<a href="/p?b=2&amp;a=1#top">P</a><a href="p?a=1&b=2">P</a><a href="/#x">Home</a><a href="mailto:a@b.c">Mail</a><a href="tel:+15550100">Call</a><a href="javascript:void(0)">JS</a>"##)),
        ("/p", Route::html("P", "p")),
    ])
    .await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    assert_eq!(report.pages.len(), 2);
    assert_eq!(site.hits("/p?a=1&b=2"), 1);
    assert_eq!(site.hits("/"), 1);
    assert_eq!(page(&report, "/").links, [site.url("/p?a=1&b=2")]);
}

#[tokio::test]
async fn pages_deeper_than_max_depth_are_not_fetched() {
    let site = TestSite::serve(vec![
        ("/", Route::html("0", r#"<a href="/1">1</a>"#)),
        ("/1", Route::html("1", r#"<a href="/2">2</a>"#)),
        ("/2", Route::html("2", r#"<a href="/3">3</a>"#)),
        ("/3", Route::html("3", "too deep")),
    ])
    .await;
    let config = CrawlConfig {
        max_depth: 2,
        ..CrawlConfig::default()
    };
    let report = crawl_site(&site.url("/"), &config).await;
    assert_eq!(paths(&report), ["/", "/1", "/2"]);
    assert_eq!(site.hits("/3"), 0);
    assert_eq!(report.stopped, None);
}

#[tokio::test]
async fn the_crawl_stops_at_max_pages_breadth_first() {
    let links: String = (0..10)
        .map(|i| format!(r#"<a href="/p{i}">{i}</a>"#))
        .collect();
    let mut routes = vec![("/".to_owned(), Route::html("Home", &links))];
    routes.extend((0..10).map(|i| {
        (
            format!("/p{i}"),
            Route::html("P", r#"<a href="/deeper">deeper</a>"#),
        )
    }));
    routes.push(("/deeper".to_owned(), Route::html("Deeper", "x")));
    let site = TestSite::serve(routes).await;
    let config = CrawlConfig {
        max_pages: 4,
        ..CrawlConfig::default()
    };
    let report = crawl_site(&site.url("/"), &config).await;
    assert_eq!(report.pages.len(), 4);
    assert_eq!(report.stopped, Some(StopReason::MaxPages));
    assert_eq!(report.fetched, 4);
    assert_eq!(site.hits("/deeper"), 0, "depth 1 comes first");
}

#[tokio::test]
async fn no_more_than_per_host_concurrency_requests_are_ever_in_flight() {
    let links: String = (0..12)
        .map(|i| format!(r#"<a href="/p{i}">{i}</a>"#))
        .collect();
    let mut routes = vec![("/".to_owned(), Route::html("Home", &links))];
    routes.extend((0..12).map(|i| {
        (
            format!("/p{i}"),
            Route::Slow(Duration::from_millis(80), html("P", "p")),
        )
    }));
    let site = TestSite::serve(routes).await;
    let config = CrawlConfig {
        per_host_concurrency: 3,
        ..CrawlConfig::default()
    };
    let report = crawl_site(&site.url("/"), &config).await;
    assert_eq!(report.pages.len(), 13);
    assert_eq!(site.max_in_flight(), 3);
}

#[tokio::test]
async fn the_total_budget_stops_the_crawl_cleanly_with_what_was_fetched() {
    let links: String = (0..6)
        .map(|i| format!(r#"<a href="/p{i}">{i}</a>"#))
        .collect();
    let mut routes = vec![("/".to_owned(), Route::html("Home", &links))];
    routes.extend((0..6).map(|i| {
        (
            format!("/p{i}"),
            Route::Slow(Duration::from_secs(5), html("P", "p")),
        )
    }));
    let site = TestSite::serve(routes).await;
    let config = CrawlConfig {
        total_budget: Duration::from_millis(500),
        per_host_concurrency: 2,
        ..CrawlConfig::default()
    };
    let report = crawl_site(&site.url("/"), &config).await;
    assert!(
        report.elapsed < Duration::from_millis(1_500),
        "{:?}",
        report.elapsed
    );
    assert_eq!(report.stopped, Some(StopReason::TotalBudget));
    assert_eq!(paths(&report), ["/"]);
    let cancelled = report
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::BudgetExhausted)
        .count();
    assert_eq!(cancelled, 2, "{:?}", report.skipped);
}

#[tokio::test]
async fn a_resumed_crawl_fetches_only_what_is_missing_and_follows_the_links_of_what_it_had() {
    let site = TestSite::serve(vec![
        ("/", Route::html("Home", r#"<a href="/a">A</a>"#)),
        (
            "/a",
            Route::html("A", r#"<a href="/b">B</a><a href="/c">C</a>"#),
        ),
        ("/b", Route::html("B", "b")),
        ("/c", Route::html("C", "c")),
    ])
    .await;
    // The first attempt is cut short; the caller persisted the pages from the events.
    let (events, mut received) = mpsc::channel(16);
    let first = CrawlConfig {
        max_pages: 2,
        ..CrawlConfig::default()
    };
    let cut = crawl(&site.url("/"), &first, Vec::new(), events)
        .await
        .unwrap();
    let mut persisted = Vec::new();
    while let Some(event) = received.recv().await {
        if let CrawlEvent::Page(page) = event {
            persisted.push(page);
        }
    }
    assert_eq!(persisted, cut.pages);
    assert_eq!(persisted.len(), 2);

    let (events, _) = mpsc::channel(16);
    let resumed = crawl(&site.url("/"), &CrawlConfig::default(), persisted, events)
        .await
        .unwrap();
    assert_eq!(paths(&resumed), ["/", "/a", "/b", "/c"]);
    assert_eq!(resumed.fetched, 2);
    for path in ["/", "/a", "/b", "/c"] {
        assert_eq!(site.hits(path), 1, "{path} fetched once over both attempts");
    }
}

#[tokio::test]
async fn a_start_page_that_cannot_be_read_is_the_only_error() {
    let site = TestSite::serve(vec![(
        "/doc.pdf",
        Route::Bytes("application/pdf", b"%PDF".to_vec()),
    )])
    .await;
    let (events, _) = mpsc::channel(1);
    let config = CrawlConfig::default();
    let missing = crawl(&site.url("/"), &config, Vec::new(), events.clone()).await;
    assert!(matches!(
        missing,
        Err(CrawlError::StartPage {
            reason: SkipReason::HttpStatus { status: 404 },
            ..
        })
    ));
    let pdf = crawl(&site.url("/doc.pdf"), &config, Vec::new(), events.clone()).await;
    assert!(matches!(
        pdf,
        Err(CrawlError::StartPage {
            reason: SkipReason::Pdf,
            ..
        })
    ));
    let invalid = crawl("ftp://example.com/", &config, Vec::new(), events).await;
    assert!(matches!(invalid, Err(CrawlError::InvalidStartUrl { .. })));
}

#[tokio::test]
async fn a_start_url_that_redirects_sets_the_site() {
    let site = TestSite::serve(vec![
        ("/", Route::html("Home", r#"<a href="/about">About</a>"#)),
        ("/about", Route::html("About", "about")),
    ])
    .await;
    let entry = TestSite::serve(vec![("/", Route::Redirect(301, site.url("/")))]).await;
    let report = crawl_site(&entry.url("/"), &CrawlConfig::default()).await;
    assert_eq!(paths(&report), ["/", "/about"]);
    assert_eq!(report.pages[0].url, site.url("/"));
}

#[tokio::test]
async fn html_becomes_sections_with_trails_lists_tables_definitions_and_clean_text() {
    let body = r#"
        <nav><a href="/">Home</a> Menu text</nav>
        <p>Welcome   to
           Joe&#39;s &amp; Sons</p>
        <h1>Services</h1>
        <script>var tracking = 1;</script><style>p { color: red }</style><noscript>Enable JS</noscript>
        <h2>Repairs</h2>
        <ul><li>Brakes <b>&amp;</b> rotors</li><li>Oil <ul><li>Synthetic</li></ul></li></ul>
        <h3>Prices</h3>
        <table><tr><th>Service</th><th>Price</th></tr><tr><td>Oil change</td><td>&#36;49</td></tr></table>
        <h2>FAQ</h2>
        <dl><dt>Do you take walk-ins?</dt><dd>Yes,</dd><dd>before noon.</dd></dl>
        <div>Call us at <a href="tel:+15550100">555-0100</a><br>any time.</div>
        <blockquote>Best shop in town.</blockquote>
        <footer><address>1 Main St<br>Springfield</address>Open Mon&ndash;Fri</footer>"#;
    let site = TestSite::serve(vec![("/", Route::html("  Joe's   Garage ", body))]).await;
    let report = crawl_site(&site.url("/"), &CrawlConfig::default()).await;
    let page = &report.pages[0];
    assert_eq!(page.title, "Joe's Garage");
    let summary: Vec<_> = page
        .sections
        .iter()
        .map(|s| (s.heading.clone(), s.level, s.trail.clone()))
        .collect();
    let own = |h: &str| Some(h.to_owned());
    let trail = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        summary,
        vec![
            (None, 0, trail(&[])),
            (own("Services"), 1, trail(&[])),
            (own("Repairs"), 2, trail(&["Services"])),
            (own("Prices"), 3, trail(&["Services", "Repairs"])),
            (own("FAQ"), 2, trail(&["Services"])),
        ]
    );
    let p = |t: &str| Block::Paragraph(t.to_owned());
    let li = |t: &str| Block::ListItem(t.to_owned());
    assert_eq!(page.sections[0].blocks, [p("Welcome to Joe's & Sons")]);
    assert!(page.sections[1].blocks.is_empty());
    assert_eq!(
        page.sections[2].blocks,
        [li("Brakes & rotors"), li("Oil"), li("Synthetic")]
    );
    let row = |cells: &[&str]| Block::TableRow(cells.iter().map(|c| c.to_string()).collect());
    assert_eq!(
        page.sections[3].blocks,
        [row(&["Service", "Price"]), row(&["Oil change", "$49"])]
    );
    let faq = Block::Definition {
        term: "Do you take walk-ins?".into(),
        definition: "Yes, before noon.".into(),
    };
    assert_eq!(
        page.sections[4].blocks,
        [
            faq,
            p("Call us at 555-0100 any time."),
            p("Best shop in town."),
            p("1 Main St Springfield"),
            p("Open Mon–Fri"),
        ]
    );
    let text = page.text();
    for dropped in ["Menu text", "tracking", "color", "Enable JS"] {
        assert!(!text.contains(dropped), "{dropped} in {text}");
    }
    assert_eq!(page.content_hash.len(), 64);
}

#[test]
fn the_crawl_future_can_run_on_a_multi_threaded_worker() {
    fn is_send<T: Send>(_: T) {}
    let (events, _) = mpsc::channel(1);
    let config = CrawlConfig::default();
    is_send(crawl("https://example.com/", &config, Vec::new(), events));
}
