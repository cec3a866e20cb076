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

/// `(path, type, bytes)` of each file, its bytes compiled in from `api/console/{path}`.
macro_rules! files {
    ($(($path:literal, $kind:expr)),* $(,)?) => {
        &[$(($path, $kind, include_bytes!(concat!("../console/", $path)))),*]
    };
}

/// Every file of the console: its path under `/console/`, type and bytes.
const FILES: &[(&str, &str, &[u8])] = files![
    ("index.html", HTML),
    ("style.css", CSS),
    ("app.js", JS),
    ("ui.js", JS),
    ("pages/overview.js", JS),
    ("pages/live.js", JS),
    ("pages/calls.js", JS),
    ("pages/messages.js", JS),
    ("pages/appointments.js", JS),
    ("pages/campaigns.js", JS),
    ("pages/agents.js", JS),
    ("pages/builds.js", JS),
    ("pages/directory.js", JS),
    ("pages/people.js", JS),
    ("pages/audit.js", JS),
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
