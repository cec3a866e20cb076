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
    ("pages/talk.js", JS),
    ("talk-worklet.js", JS),
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

    /// The console's text colours (its `:root` variables) against the backgrounds they are
    /// used on meet WCAG AA: a contrast ratio of at least 4.5:1.
    #[test]
    fn text_colours_meet_wcag_aa_contrast() {
        let css =
            std::str::from_utf8(FILES.iter().find(|f| f.0 == "style.css").unwrap().2).unwrap();
        let var = |name: &str| {
            let at = css
                .find(&format!("--{name}:"))
                .unwrap_or_else(|| panic!("--{name}"));
            let value = css[at..].split(':').nth(1).unwrap();
            value.trim().split(';').next().unwrap().trim().to_owned()
        };
        let (bg, panel, ink, muted) = (var("bg"), var("panel"), var("ink"), var("muted"));
        let (accent, accent_ink, danger) = (var("accent"), var("accent-ink"), var("danger"));
        let pairs = [
            (&ink, &bg),
            (&ink, &panel),
            (&muted, &bg),
            (&muted, &panel),
            (&accent, &panel),
            (&accent_ink, &accent),
            (&danger, &bg),
            (&accent_ink, &danger),
        ];
        for (fg, back) in pairs {
            let ratio = contrast(fg, back);
            assert!(ratio >= 4.5, "{fg} on {back}: {ratio:.2}:1");
        }
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let luminance = |hex: &str| {
            let channel = |i: usize| {
                let c =
                    f64::from(u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap()) / 255.0;
                if c <= 0.039_28 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
        };
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
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
