//! A small website served by axum on 127.0.0.1:0 that counts what it is asked for.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the site answers on one path (the query is ignored for matching).
#[derive(Clone)]
pub(crate) enum Route {
    /// A whole HTML document.
    Html(String),
    /// Plain text where `{base}` stands for the site's own `http://127.0.0.1:port`.
    Templated(String),
    Status(u16),
    Redirect(u16, String),
    /// HTML sent after a delay.
    Slow(Duration, String),
    Bytes(&'static str, Vec<u8>),
    /// HTML streamed in chunks without a `Content-Length`.
    Chunked(String),
}

impl Route {
    pub(crate) fn html(title: &str, body: &str) -> Self {
        Route::Html(html(title, body))
    }

    pub(crate) fn text(text: &str) -> Self {
        Route::Templated(text.to_owned())
    }
}

pub(crate) fn html(title: &str, body: &str) -> String {
    format!("<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>")
}

struct Counters {
    base: String,
    routes: HashMap<String, Route>,
    hits: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub(crate) struct TestSite {
    counters: Arc<Counters>,
}

impl TestSite {
    pub(crate) async fn serve<K: Into<String>>(
        routes: impl IntoIterator<Item = (K, Route)>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let counters = Arc::new(Counters {
            base,
            routes: routes.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            hits: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(answer).with_state(counters.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { counters }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.counters.base)
    }

    /// Requests for a path and query exactly as the crawler sent it.
    pub(crate) fn hits(&self, path_and_query: &str) -> usize {
        self.counters
            .hits
            .lock()
            .unwrap()
            .get(path_and_query)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.counters.max_in_flight.load(Ordering::SeqCst)
    }
}

/// Counts a request as in flight until it is answered or dropped.
struct InFlight(Arc<Counters>);

impl InFlight {
    fn start(counters: Arc<Counters>) -> Self {
        let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(counters)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn answer(State(counters): State<Arc<Counters>>, uri: Uri) -> Response {
    let key = uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    *counters.hits.lock().unwrap().entry(key).or_default() += 1;
    let _in_flight = InFlight::start(counters.clone());
    let Some(route) = counters.routes.get(uri.path()).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let html =
        |body: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    match route {
        Route::Html(body) => html(body),
        Route::Templated(text) => text.replace("{base}", &counters.base).into_response(),
        Route::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
        Route::Redirect(code, to) => (
            StatusCode::from_u16(code).unwrap(),
            [(header::LOCATION, to)],
        )
            .into_response(),
        Route::Slow(delay, body) => {
            tokio::time::sleep(delay).await;
            html(body)
        }
        Route::Bytes(content_type, body) => {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Route::Chunked(body) => {
            let chunks: Vec<Result<String, Infallible>> = body
                .as_bytes()
                .chunks(1024)
                .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
                .collect();
            let stream = futures::stream::iter(chunks);
            (
                [(header::CONTENT_TYPE, "text/html")],
                Body::from_stream(stream),
            )
                .into_response()
        }
    }
}
