//! Building the parts every command shares: store, sessions, Twilio client, Temporal client,
//! API state and the worker.

use crate::config::{PayloadKeys, Settings};
use activities::{
    CallActivitiesImpl, ConversationActivitiesImpl, DirectoryActivitiesImpl, InProcessSessionStore,
    RedisSessionStore, SessionStore, TransferActivitiesImpl,
};
use anyhow::{Context, Result};
use api::{ApiConfig, AppState, metrics::Metrics, rate_limit::RateLimiter};
use std::sync::Arc;
use store::Store;
use telephony::{TwilioAuth, TwilioClient};
use temporalio_client::{Client, ClientOptions};

/// Migrates the database as its owner (`DATABASE_MIGRATION_URL`) and connects as the
/// application (`DATABASE_URL`). Warns loudly when PostgreSQL's row-level security does not
/// apply to the application's role (a superuser, `BYPASSRLS`, or the tables' owner).
pub async fn open_store(settings: &Settings) -> Result<Store> {
    let database_url = settings.database_url.expose();
    if database_url.starts_with("sqlite") {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    }
    let migration_url = settings.migration_url().expose();
    if migration_url != database_url {
        let owner = Store::connect(migration_url)
            .await
            .context("connecting to the database to migrate it")?;
        owner.migrate_up().await.context("running migrations")?;
        owner.connection().clone().close().await.ok();
    }
    let store = Store::connect(database_url)
        .await
        .context("connecting to the database")?;
    if migration_url == database_url {
        store.migrate_up().await.context("running migrations")?;
    }
    if store.row_level_security().await? == Some(false) {
        tracing::warn!(
            "row-level security does NOT apply to the database role of DATABASE_URL (a \
             superuser, BYPASSRLS, or the tables' owner): tenant isolation rests on the queries \
             alone. Connect as switchboard_app and migrate with DATABASE_MIGRATION_URL."
        );
    }
    Ok(store)
}

pub async fn open_sessions(settings: &Settings) -> Result<Arc<dyn SessionStore>> {
    Ok(match &settings.redis_url {
        Some(url) => Arc::new(
            RedisSessionStore::connect(url.expose())
                .await
                .context("connecting to Redis")?,
        ),
        None => Arc::new(InProcessSessionStore::new()),
    })
}

pub fn twilio_client(settings: &Settings) -> Result<TwilioClient> {
    let auth = match &settings.twilio_api_key {
        Some((sid, secret)) => TwilioAuth::ApiKey {
            sid: sid.clone(),
            secret: secret.clone(),
        },
        None => TwilioAuth::AuthToken(settings.twilio_auth_token.clone()),
    };
    Ok(TwilioClient::with_timeout(
        &settings.twilio_api_base,
        &settings.twilio_account_sid,
        auth,
        settings.twilio_timeout,
    )?)
}

/// The payload codec `PAYLOAD_CODEC_KEYS` asks for: `None` when it is `off`; an error when it
/// is unset, so that no deployment stores call data in clear by forgetting a setting.
pub fn payload_codec(settings: &Settings) -> Result<Option<codec::PayloadCrypto>> {
    match &settings.payload_keys {
        PayloadKeys::Ring(crypto) => Ok(Some(crypto.clone())),
        PayloadKeys::Off => Ok(None),
        PayloadKeys::Unset => anyhow::bail!(
            "PAYLOAD_CODEC_KEYS is not set: give a key ring (e.g. \
             PAYLOAD_CODEC_KEYS=k1:$(openssl rand -base64 32)) or PAYLOAD_CODEC_KEYS=off to \
             store call data in Temporal unencrypted"
        ),
    }
}

/// The Temporal client of the API and the worker. Both use the payload codec (the worker takes
/// its data converter from this client), so every payload Temporal stores is encrypted.
pub async fn temporal_client(settings: &Settings) -> Result<Client> {
    let codec = payload_codec(settings)?;
    if codec.is_none() {
        tracing::warn!("PAYLOAD_CODEC_KEYS=off: call data is stored in Temporal in clear");
    }
    let client = worker::connect(&settings.temporal_address, &settings.temporal_namespace).await?;
    worker::ensure_search_attributes(&client, &settings.temporal_namespace).await?;
    let options = ClientOptions::new(settings.temporal_namespace.clone())
        .maybe_data_converter(codec.map(|c| c.data_converter()))
        .build();
    Client::new(client.connection().clone(), options).context("creating the Temporal client")
}

pub async fn api_state(
    settings: &Settings,
    store: Store,
    temporal: Client,
    sessions: Arc<dyn SessionStore>,
) -> Result<AppState> {
    let engines = voice_engines(settings).await;
    api_state_with_engines(settings, store, temporal, sessions, engines)
}

/// The API's state with these voice engines (the tests offer fakes of the providers).
pub fn api_state_with_engines(
    settings: &Settings,
    store: Store,
    temporal: Client,
    sessions: Arc<dyn SessionStore>,
    engines: voice::catalog::EngineCatalog,
) -> Result<AppState> {
    Ok(AppState {
        store,
        temporal,
        sessions,
        config: Arc::new(ApiConfig {
            public_url: settings.public_url.clone(),
            twilio_auth_token: settings.twilio_auth_token.clone(),
            task_queue: settings.task_queue.clone(),
            auth: auth_settings(settings)?,
            cors_allowed_origins: settings.cors_allowed_origins.clone(),
            history_url: format!(
                "{}/namespaces/{}/workflows/",
                settings.temporal_ui_url.trim_end_matches('/'),
                settings.temporal_namespace
            ),
        }),
        metrics: Arc::new(Metrics::new()),
        engines: Arc::new(engines),
        twilio: twilio_client(settings)?,
        limiter: Arc::new(rate_limiter(settings)?),
        codec: payload_codec(settings)?,
        recordings: settings.recordings.open()?,
    })
}

/// The tenants' rate limiter: shared by every API node through Redis when `REDIS_URL` is set,
/// this process's own otherwise.
pub fn rate_limiter(settings: &Settings) -> Result<RateLimiter> {
    Ok(match &settings.redis_url {
        Some(url) => RateLimiter::redis(settings.rate_limits, url.expose())
            .context("REDIS_URL is not a valid Redis URL")?,
        None => RateLimiter::in_process(settings.rate_limits),
    })
}

/// The API's JWT keys and operator credential. Without `JWT_SIGNING_KEYS` a random key signs:
/// fine for one node, but sign-ins end when it restarts.
pub fn auth_settings(settings: &Settings) -> Result<api::auth::AuthSettings> {
    use api::auth::jwt::JwtKeys;
    let jwt = match &settings.jwt_signing_keys {
        Some(spec) => JwtKeys::parse(spec.expose(), settings.jwt_access_ttl)?,
        None => {
            tracing::warn!(
                "JWT_SIGNING_KEYS is not set: a random key signs access tokens, so sign-ins end when this process stops and other API nodes do not accept them"
            );
            JwtKeys::generate("ephemeral", settings.jwt_access_ttl)
        }
    };
    Ok(api::auth::AuthSettings {
        jwt,
        refresh_ttl: settings.refresh_token_ttl,
        operator_token: settings.operator_token.clone(),
    })
}

/// The voice engines this deployment offers.
pub async fn voice_engines(settings: &Settings) -> voice::catalog::EngineCatalog {
    use voice::engines::{GeminiLive, OpenAiRealtime, cascaded::Cascaded};
    let v = &settings.voice;
    let mut catalog = voice::catalog::EngineCatalog::new().with(Arc::new(voice::echo::EchoEngine));
    if let Some(config) = &v.openai_realtime {
        catalog = catalog.with(Arc::new(OpenAiRealtime::new(config.clone())));
    }
    if let Some(config) = &v.gemini_live {
        catalog = catalog.with(Arc::new(GeminiLive::new(config.clone())));
    }
    if let (Some(stt), Some(tts)) = (&v.deepgram, &v.tts) {
        match voice::tts::openai::OpenAiTts::new(tts.clone()) {
            Ok(tts) => {
                let stt = Arc::new(voice::stt::deepgram::DeepgramStt::new(stt.clone()));
                catalog = catalog.with(Arc::new(Cascaded::new(stt, Arc::new(tts))));
            }
            Err(e) => {
                tracing::error!(error = %e, "text-to-speech is misconfigured: no cascaded engine")
            }
        }
    }
    if v.offline {
        match offline_engine(settings).await {
            Ok(engine) => catalog = catalog.with(Arc::new(engine)),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "no offline voice engine"),
        }
    }
    tracing::info!(engines = ?catalog.names(), "voice engines available");
    catalog
}

/// The offline engine: starts the speech-to-text sidecar (it loads Whisper; a few seconds).
async fn offline_engine(settings: &Settings) -> Result<voice::engines::offline::OfflineEngine> {
    use voice::{engines::offline::OfflineEngine, stt::SttSidecar};
    let tts = OfflineEngine::local_tts()
        .context("no offline text-to-speech: install flite (or espeak-ng)")?;
    let (python, script) = match &settings.voice.stt_sidecar {
        Some(paths) => paths.clone(),
        None => voice::stt::sidecar::find_default(&std::env::current_dir()?).context(
            "offline speech-to-text is not set up here (scripts/dev.sh installs it into .venv)",
        )?,
    };
    let sidecar = SttSidecar::start(&python, &script, None)
        .await
        .context("starting the speech-to-text sidecar")?;
    tracing::info!(url = %sidecar.url(), "offline speech-to-text sidecar running");
    Ok(OfflineEngine::new(Arc::new(sidecar), tts))
}

/// Binds `API_BIND` (port 0 picks a free port).
pub async fn bind_api(settings: &Settings) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(settings.api_bind)
        .await
        .with_context(|| format!("binding the API to {}", settings.api_bind))
}

pub async fn serve_api(
    settings: &Settings,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = bind_api(settings).await?;
    api::serve(listener, state, shutdown).await?;
    Ok(())
}

/// Runs the worker until `shutdown` resolves, then drains it.
pub async fn run_worker(
    settings: &Settings,
    store: Store,
    temporal: Client,
    sessions: Arc<dyn SessionStore>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let runtime = worker::runtime()?;
    let mut worker = build_worker(settings, &runtime, store, temporal.clone(), sessions)?;
    let stop = worker.shutdown_handle();
    let schedule = workflows::retention::RetentionSchedule::default();
    match worker::start_recording_retention(&temporal, &settings.task_queue, schedule).await {
        Ok(started) => tracing::info!(started, "recording retention workflow running"),
        Err(e) => tracing::warn!(error = %e, "could not start the recording retention workflow"),
    }
    tokio::spawn(async move {
        shutdown.await;
        stop();
    });
    worker.run().await.context("worker stopped with an error")?;
    Ok(())
}

/// The worker: every workflow and activity on `TEMPORAL_TASK_QUEUE`. Without an LLM key (and
/// with OpenAI's default base URL) the rule-based receptionist answers cascaded calls.
pub fn build_worker(
    settings: &Settings,
    runtime: &worker::Runtime,
    store: Store,
    temporal: Client,
    sessions: Arc<dyn SessionStore>,
) -> Result<worker::Worker> {
    let activities = CallActivitiesImpl::new(store.clone(), sessions, twilio_client(settings)?);
    let llm = activities::LlmProvider::from_config(settings.voice.llm.clone())
        .context("configuring the LLM client")?;
    tracing::info!(llm = %llm.describe(), "cascaded dialog policy");
    let transfer = TransferActivitiesImpl::new(
        store.clone(),
        twilio_client(settings)?,
        telephony::PublicUrl::new(settings.public_url.clone()),
    );
    let campaign = activities::CampaignActivitiesImpl::new(
        store.clone(),
        twilio_client(settings)?,
        telephony::PublicUrl::new(settings.public_url.clone()),
        temporal.clone(),
        settings.task_queue.clone(),
    );
    let events = activities::EventActivitiesImpl::new(store.clone());
    let retention = activities::recordings::RetentionActivitiesImpl::new(
        store.clone(),
        settings.recordings.open()?,
    );
    let directory = DirectoryActivitiesImpl::new(store.clone());
    let agent_build = agent_builder(settings, store.clone(), &llm)?;
    let conversation = ConversationActivitiesImpl::new(store.clone(), llm);
    let email = match &settings.smtp {
        Some(smtp) => Some(activities::EmailSender::new(smtp).context("configuring SMTP")?),
        None => {
            tracing::info!("SMTP is not configured: message emails are skipped");
            None
        }
    };
    let message = activities::MessageActivitiesImpl::new(store, twilio_client(settings)?, email);
    let notify =
        activities::NotifyActivitiesImpl::new(temporal.clone(), settings.task_queue.clone());
    Ok(worker::build_worker(
        runtime,
        temporal,
        &settings.task_queue,
        worker::WorkerActivities {
            call: activities,
            conversation,
            message,
            notify,
            transfer,
            directory,
            campaign,
            events,
            agent_build,
            retention,
        },
    )?)
}

/// The agent builder's activities: the configured LLM extracts knowledge when there is one.
fn agent_builder(
    settings: &Settings,
    store: Store,
    llm: &activities::LlmProvider,
) -> Result<activities::AgentBuildActivitiesImpl> {
    Ok(activities::AgentBuildActivitiesImpl::new(
        store,
        twilio_client(settings)?,
        telephony::PublicUrl::new(settings.public_url.clone()),
        match llm {
            activities::LlmProvider::Remote(client) => Some(client.clone()),
            activities::LlmProvider::Rules(_) => None,
        },
    ))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
