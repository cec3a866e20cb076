//! The HTTP edge: Twilio webhooks, the REST API, health and metrics.
//!
//! - [`state`]: `AppState` (store, Temporal client, sessions, config, metrics) and `ApiConfig`.
//! - [`routes`]: one module per surface — `twilio` (signed webhooks), `media` (the Media
//!   Streams WebSocket and its bridge), `calls` (`/v1/calls`), `codec` (`/codec/*`, Temporal's
//!   codec server for the UI and CLI),
//!   `health` (`/healthz`, `/readyz`, `/metrics`).
//! - [`control`]: the bridge's handle on the call workflow (Temporal Signals and Updates).
//! - [`twilio_signed`]: the `TwilioSigned` extractor: a valid `X-Twilio-Signature` or 403.
//! - [`twilio_media`]: Twilio Media Streams framing for the bridge (JSON frames ↔ typed
//!   transport events and commands).
//! - [`auth`]: who is calling (API key or JWT) and `Authorized<P>`, the permission check.
//! - [`audit`]: recording mutations, secrets redacted.
//! - [`error`]: `ApiError`, rendered as RFC 7807 `application/problem+json`.
//! - [`query`]: `Query<T>`, the query string or a problem naming the bad parameter.
//! - [`metrics`]: Prometheus metrics and the middleware timing every webhook answer.
//! - [`openapi`]: the OpenAPI document (`/openapi.json`) and interactive docs (`/docs`).
//! - [`rate_limit`]: per-tenant token buckets (Redis or in-process), checked by `Authorized`.
//! - [`recording`]: saving a call's recording (object, then row) when its stream ends;
//!   `routes::recordings` serves it.
//! - [`hardening`]: body limits, CORS and security headers on every route.
//!
//! [`router`] builds the whole app so tests can drive it; [`serve`] runs it on a listener the
//! caller binds, until the caller's shutdown future resolves.

pub mod audit;
pub mod auth;
pub mod browser_media;
pub mod console;
pub mod control;
pub mod error;
pub mod hardening;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod rate_limit;
pub mod recording;
pub mod routes;
pub mod state;
pub mod twilio_media;
pub mod twilio_signed;

pub use error::ApiError;
pub use state::{ApiConfig, AppState};

use axum::{Router, http::HeaderName};
use std::future::Future;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let app = Router::new()
        .merge(routes::twilio::router(state.metrics.clone()))
        .merge(routes::transfer::router())
        .merge(routes::campaign_calls::router())
        .merge(routes::media::router())
        .merge(routes::talk::router())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::api_keys::router())
        .merge(routes::tenant::router())
        .merge(routes::admin::router())
        .merge(routes::calls::router())
        .merge(routes::recordings::router())
        .merge(routes::live_calls::router())
        .merge(routes::messages::router())
        .merge(routes::tenant_webhook::router())
        .merge(routes::webhook_deliveries::router())
        .merge(routes::codec::router())
        .merge(routes::agents::router())
        .merge(routes::agent_builds::router())
        .merge(routes::numbers::router())
        .merge(routes::knowledge::router())
        .merge(routes::directory::router())
        .merge(routes::crm::router())
        .merge(routes::elevenlabs::router())
        .merge(routes::integrations::router())
        .merge(routes::overview::router())
        .merge(routes::health::router())
        .merge(openapi::router())
        .merge(console::router())
        .with_state(state);
    hardening::apply(app, &config)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // Handlers fill in `tenant_id` and `call_sid` once they know them.
                tracing::info_span!(
                    "http",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id,
                    tenant_id = tracing::field::Empty,
                    call_sid = tracing::field::Empty,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Serves the API on `listener` until `shutdown` resolves. Every accepted socket has Nagle's
/// algorithm off: a media stream writes an agent frame and then its mark, a small write after
/// a small write, and Nagle would hold the second until the first is acknowledged.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set on an accepted socket");
        }
    });
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
