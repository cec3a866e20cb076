//! HTTP hardening applied to every route by [`crate::router`]: request body limits, CORS for
//! the listed origins only, and standard security headers.
//!
//! **Body limits.** Every body an extractor reads (`Json`, `Form`, `Bytes`, `String`, Twilio's
//! signed forms) is capped at [`DEFAULT_BODY_LIMIT`]; over it the answer is a 413 problem. A
//! route that needs more raises its own cap with a layer on the route, which wins over the
//! global one:
//!
//! ```ignore
//! .route("/codec/decode", post(decode).layer(hardening::body_limit(4 * 1024 * 1024)))
//! ```
//!
//! **CORS.** Only the origins of `CORS_ALLOWED_ORIGINS` (none by default) may call the API from
//! a browser, with credentials; never `*`.
//!
//! **Headers.** `nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` everywhere;
//! a `default-src 'none'` CSP on API answers, and on `/docs` and the console a policy that lets
//! them load their own files, and only those; HSTS when `PUBLIC_URL` is https;
//! `Cache-Control: no-store` on `/v1/*`.

use crate::{ApiConfig, error::Problem};
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The most a request body may weigh unless its route says otherwise: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// A per-route body limit, to layer on a route that needs more (or less) than the default.
pub fn body_limit(bytes: usize) -> DefaultBodyLimit {
    DefaultBodyLimit::max(bytes)
}

/// The CSP of API answers: nothing may load, nothing may frame them.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The CSP of `/docs` (Swagger UI, served from the binary): its own scripts only, its inline
/// styles and data: icons, and requests to this API (its "try it out").
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The CSP of the console (`/` and `/console/…`): its own scripts, styles and media, and
/// requests to this API only.
const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Body limit, 413 problems, CORS and security headers around `router`.
pub fn apply(router: Router, config: &ApiConfig) -> Router {
    let https = config.public_url.scheme() == "https";
    router
        .layer(body_limit(DEFAULT_BODY_LIMIT))
        .layer(middleware::map_response(too_large_as_problem))
        .layer(cors(&config.cors_allowed_origins))
        .layer(middleware::from_fn_with_state(https, security_headers))
}

/// CORS for exactly `origins` (`https://app.example.com`), with credentials.
pub fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| match HeaderValue::from_str(origin) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(origin, "ignoring an invalid CORS origin");
                None
            }
        })
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-namespace"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
        .allow_credentials(true)
        .max_age(std::time::Duration::from_secs(600))
}

/// `CORS_ALLOWED_ORIGINS`: comma-separated origins (`scheme://host[:port]`), `*` refused.
pub fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let origin = s.trim_end_matches('/');
            let url = url::Url::parse(origin).map_err(|e| format!("`{s}`: {e}"))?;
            let serialized = url.origin().ascii_serialization();
            if serialized != origin {
                return Err(format!(
                    "`{s}` is not an origin (scheme://host[:port], no path); did you mean `{serialized}`?"
                ));
            }
            Ok(serialized)
        })
        .collect()
}

/// Turns the extractors' plain-text 413 into a problem document.
async fn too_large_as_problem(response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_problem {
        return response;
    }
    let problem = Problem {
        kind: "https://switchboard.dev/problems/payload-too-large".into(),
        title: "Payload too large".into(),
        status: StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
        detail: "the request body is over this route's limit".into(),
        field: None,
        permission: None,
    };
    let mut response = (StatusCode::PAYLOAD_TOO_LARGE, Json(problem)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// Security headers on every answer; `https`: the API is served over TLS (HSTS).
async fn security_headers(State(https): State<bool>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let docs = path == "/docs" || path.starts_with("/docs/");
    let console = path == "/" || path.starts_with("/console/");
    let tenant_api = path.starts_with("/v1/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let csp = if docs {
        DOCS_CSP
    } else if console {
        CONSOLE_CSP
    } else {
        API_CSP
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if tenant_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests;
