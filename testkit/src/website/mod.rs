//! A fixture business website for the agent builder: Bayside Plumbing & Heating, a plumber in
//! San Francisco, as 60-odd HTML pages built from Rust data ([`content`]) and rendered with a
//! shared header menu and footer ([`render`]).
//!
//! - [`FixtureSite`] serves it on `127.0.0.1:0`, recording every request, with the traps a
//!   crawler must handle: `robots.txt` disallowing `/admin/` and `/private/` (both linked from
//!   the footer), `sitemap.xml` (with `/water-heater-rebates`, which no page links to), a 301
//!   from `/old-hours` to `/hours`, a broken link to `/specials-2019` (404), `/gallery` answering
//!   after 3 s, `/brochure.pdf`, and `/services?ref=home` whose canonical is `/services`.
//! - [`pages`] gives the public pages as a crawler should keep them, straight from the data (no
//!   HTML parsing): the `<main>` content only — the shared header menu and footer are left out.
//! - [`answer_key`]: what an extractor should find.

pub mod answer_key;
mod content;
mod model;
mod render;

use crate::http_server::LocalServer;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::site::Page;
use model::{Reach, SitePage};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long `/gallery` takes to answer.
pub const SLOW_PAGE_DELAY: Duration = Duration::from_secs(3);

/// Paths of pages `robots.txt` forbids; each is linked from the footer or from one of them.
pub const DISALLOWED: &[&str] = &["/admin/login", "/admin/dashboard", "/private/price-sheet"];

/// The page only `sitemap.xml` names.
pub const SITEMAP_ONLY: &str = "/water-heater-rebates";

/// The tiny PDF `/brochure.pdf` serves.
pub const BROCHURE_PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[derive(Clone)]
struct SiteState {
    pages: Arc<HashMap<String, String>>,
    requests: Arc<Mutex<Vec<String>>>,
}

/// The fixture website, served until dropped or [`FixtureSite::shutdown`].
pub struct FixtureSite {
    server: LocalServer,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FixtureSite {
    pub async fn start() -> Self {
        let pages = content::all()
            .iter()
            .map(|p| (p.path.clone(), render::html(p)))
            .collect();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = SiteState {
            pages: Arc::new(pages),
            requests: requests.clone(),
        };
        let router = axum::Router::new().fallback(serve).with_state(state);
        Self {
            server: LocalServer::start(router).await,
            requests,
        }
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Every request's path and query (`/services?ref=home`), in the order they arrived.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Stops serving (dropping does the same).
    pub fn shutdown(self) {
        drop(self);
    }
}

async fn serve(State(state): State<SiteState>, headers: HeaderMap, request: Request) -> Response {
    let uri = request.uri();
    let target = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    state
        .requests
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(target.to_owned());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    match uri.path() {
        "/robots.txt" => text("text/plain", robots_txt(&base)),
        "/sitemap.xml" => text("application/xml", sitemap_xml(&base)),
        "/old-hours" => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, "/hours")],
        )
            .into_response(),
        "/brochure.pdf" => {
            ([(header::CONTENT_TYPE, "application/pdf")], BROCHURE_PDF).into_response()
        }
        path => {
            if path == "/gallery" {
                tokio::time::sleep(SLOW_PAGE_DELAY).await;
            }
            match state.pages.get(path) {
                Some(html) => text("text/html; charset=utf-8", html.clone()),
                None => (StatusCode::NOT_FOUND, "Not found").into_response(),
            }
        }
    }
}

fn text(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub fn robots_txt(base: &str) -> String {
    format!(
        "User-agent: *\nDisallow: /admin/\nDisallow: /private/\n\nSitemap: {base}/sitemap.xml\n"
    )
}

/// Every public page, the sitemap-only one included.
pub fn sitemap_xml(base: &str) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for page in content::all()
        .iter()
        .filter(|p| p.reach != Reach::Disallowed)
    {
        out.push_str(&format!("  <url><loc>{base}{}</loc></url>\n", page.path));
    }
    out.push_str("</urlset>\n");
    out
}

/// The paths of every public page (what a polite crawler ends up with).
pub fn public_paths() -> Vec<String> {
    content::all()
        .into_iter()
        .filter(|p| p.reach != Reach::Disallowed)
        .map(|p| p.path)
        .collect()
}

/// The public pages as [`Page`]s with URLs under `base` (`http://127.0.0.1:PORT`), in the
/// site's order, home first; depth is link hops from `/` (the sitemap-only page counts 1).
pub fn pages(base: &str) -> Vec<Page> {
    let all = content::all();
    let depths = depths(&all);
    let base = base.trim_end_matches('/');
    all.iter()
        .filter(|p| p.reach != Reach::Disallowed)
        .map(|p| {
            let mut page = Page {
                url: format!("{base}{}", p.path),
                title: p.title.clone(),
                depth: depths.get(p.path.as_str()).copied().unwrap_or(1),
                sections: p.domain_sections(),
                content_hash: String::new(),
                links: p.links().map(|l| format!("{base}{l}")).collect(),
            };
            let digest = Sha256::digest(format!("{}\n{}", page.title, page.text()).as_bytes());
            page.content_hash = hex::encode(digest);
            page
        })
        .collect()
}

/// Breadth-first link hops from `/` over the menu, footer and body links.
fn depths(all: &[SitePage]) -> HashMap<&str, u32> {
    let by_path: HashMap<&str, &SitePage> = all.iter().map(|p| (p.path.as_str(), p)).collect();
    let chrome: Vec<&str> = render::NAV
        .iter()
        .chain(render::FOOTER_LINKS)
        .map(|(href, _)| *href)
        .collect();
    let mut depth = HashMap::from([("/", 0u32)]);
    let mut seen = HashSet::from(["/"]);
    let mut queue = VecDeque::from(["/"]);
    while let Some(path) = queue.pop_front() {
        let Some(page) = by_path.get(path) else {
            continue;
        };
        let here = depth[path];
        for link in page.links().chain(chrome.iter().copied()) {
            let link = link.split('?').next().unwrap_or(link);
            if let Some((target, _)) = by_path.get_key_value(link)
                && seen.insert(target)
            {
                depth.insert(target, here + 1);
                queue.push_back(target);
            }
        }
    }
    depth
}
