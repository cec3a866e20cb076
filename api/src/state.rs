//! Shared state of the API.

use crate::metrics::Metrics;
use axum::extract::FromRef;
use domain::Secret;
use sessions::SessionStore;
use std::sync::Arc;
use store::Store;
use temporalio_client::Client;
use url::Url;
use voice::catalog::EngineCatalog;

/// What the API needs to know about its deployment.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// The URL Twilio reaches us at (`https://voice.example.com`). Webhook signatures are
    /// computed over it, and the media stream URL is derived from it.
    pub public_url: Url,
    /// Twilio auth token: the key of webhook signatures.
    pub twilio_auth_token: Secret<String>,
    /// The task queue call workflows run on.
    pub task_queue: String,
    /// JWT keys, token lifetimes, the operator credential.
    pub auth: crate::auth::AuthSettings,
    /// Browser origins allowed to call the API (`CORS_ALLOWED_ORIGINS`); empty: none.
    pub cors_allowed_origins: Vec<String>,
    /// A workflow's page in the Temporal UI is this followed by its id.
    pub history_url: String,
}

impl ApiConfig {
    /// The public URL of `path_and_query`, as Twilio signs it.
    pub fn public_url_for(&self, path_and_query: &str) -> String {
        self.public().http(path_and_query)
    }

    /// `wss://{host}/twilio/media`: where Twilio opens the call's media stream.
    pub fn media_stream_url(&self) -> String {
        self.public().media_stream()
    }

    /// The WebSocket URL of `path_and_query` on our public host, as Twilio signs an upgrade.
    pub fn stream_url_for(&self, path_and_query: &str) -> String {
        self.public().ws(path_and_query)
    }

    pub fn public(&self) -> telephony::PublicUrl {
        telephony::PublicUrl::new(self.public_url.clone())
    }
}

/// What [`crate::twilio_signed::TwilioSigned`] needs of the state.
impl FromRef<AppState> for Arc<ApiConfig> {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub temporal: Client,
    pub sessions: Arc<dyn SessionStore>,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<Metrics>,
    /// The voice engines agents may use, by name.
    pub engines: Arc<EngineCatalog>,
    /// Twilio's REST API (placing outbound calls).
    pub twilio: telephony::TwilioClient,
    /// The tenants' rate limits.
    pub limiter: Arc<crate::rate_limit::RateLimiter>,
    /// The payload codec behind `/codec/*` (the one the Temporal client uses); `None` when
    /// `PAYLOAD_CODEC_KEYS=off`.
    pub codec: Option<codec::PayloadCrypto>,
    /// Where call recordings' Ogg/Opus bytes are stored.
    pub recordings: store::RecordingObjects,
}
