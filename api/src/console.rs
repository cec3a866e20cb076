//! The console: a single-page web app on the public REST API, served from this binary at `/`
//! (its files are compiled in, so it works offline and needs no second server). See
//! `api/console/` for the app itself.

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// Every file of the console: its path under `/console/`, type and bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    ("index.html", HTML, include_bytes!("../console/index.html")),
    ("style.css", CSS, include_bytes!("../console/style.css")),
    ("app.js", JS, include_bytes!("../console/app.js")),
    ("ui.js", JS, include_bytes!("../console/ui.js")),
    (
        "pages/overview.js",
        JS,
        include_bytes!("../console/pages/overview.js"),
    ),
    (
        "pages/live.js",
        JS,
        include_bytes!("../console/pages/live.js"),
    ),
    (
        "pages/calls.js",
        JS,
        include_bytes!("../console/pages/calls.js"),
    ),
    (
        "pages/messages.js",
        JS,
        include_bytes!("../console/pages/messages.js"),
    ),
    (
        "pages/agents.js",
        JS,
        include_bytes!("../console/pages/agents.js"),
    ),
    (
        "pages/directory.js",
        JS,
        include_bytes!("../console/pages/directory.js"),
    ),
    (
        "pages/people.js",
        JS,
        include_bytes!("../console/pages/people.js"),
    ),
    (
        "pages/audit.js",
        JS,
        include_bytes!("../console/pages/audit.js"),
    ),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { file("index.html") }))
        .route(
            "/console/{*path}",
            get(|Path(path): Path<String>| async move { file(&path) }),
        )
}

fn file(path: &str) -> Response {
    let Some((_, kind, bytes)) = FILES.iter().find(|(name, _, _)| *name == path) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // The files change with the binary: ask again each time (cheap on loopback or a LAN).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::FILES;

    /// Every module an app file imports is one the console serves.
    #[test]
    fn every_imported_module_is_served() {
        for (name, _, bytes) in FILES {
            let text = std::str::from_utf8(bytes).unwrap();
            for import in text
                .split("from '")
                .skip(1)
                .chain(text.split("import('").skip(1))
            {
                let target = import.split('\'').next().unwrap();
                let base = name.rsplit_once('/').map_or("", |(dir, _)| dir);
                let resolved = resolve(base, target);
                assert!(
                    FILES.iter().any(|(n, _, _)| *n == resolved),
                    "{name} imports {target} ({resolved}), which is not served"
                );
            }
        }
    }

    fn resolve(base: &str, target: &str) -> String {
        let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
        for part in target.split('/') {
            match part {
                "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        parts.join("/")
    }
}
