//! Typed settings from environment variables (and `.env`, loaded by `main`).
//! `.env.example` documents every variable. Secrets (and URLs that may carry a password) are
//! [`Secret`]s, so `Debug` never shows them.

use anyhow::{Context, Result};
use domain::Secret;
use std::{net::SocketAddr, path::PathBuf};
use url::Url;

#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: Secret<String>,
    /// Who runs the migrations (`DATABASE_MIGRATION_URL`; default `DATABASE_URL`): on
    /// PostgreSQL the tables' owner, while `DATABASE_URL` connects as `switchboard_app`, which
    /// row-level security applies to.
    pub database_migration_url: Option<Secret<String>>,
    pub redis_url: Option<Secret<String>>,
    pub temporal_address: String,
    pub temporal_namespace: String,
    pub task_queue: String,
    pub temporal_cli_path: Option<PathBuf>,
    pub temporal_ui_port: u16,
    /// The Temporal UI operators open a call's history in (`TEMPORAL_UI_URL`; default: the
    /// dev server's UI on this machine).
    pub temporal_ui_url: String,
    pub api_bind: SocketAddr,
    pub public_url: Url,
    pub twilio_account_sid: String,
    pub twilio_auth_token: Secret<String>,
    /// An API key's SID and secret, used instead of the auth token for Twilio's REST API.
    pub twilio_api_key: Option<(String, Secret<String>)>,
    pub twilio_api_base: String,
    /// How long a Twilio REST request may take (`TWILIO_TIMEOUT_MS`, default 15 s).
    pub twilio_timeout: std::time::Duration,
    pub log_json: bool,
    /// `JWT_SIGNING_KEYS`: `kid:base64-secret,…`, the first signs access tokens. Unset: a
    /// random key per process (sessions do not survive a restart or cross API nodes).
    pub jwt_signing_keys: Option<Secret<String>>,
    /// `JWT_ACCESS_TTL_SECS` (default 900): how long an access token lives.
    pub jwt_access_ttl: std::time::Duration,
    /// `REFRESH_TOKEN_TTL_DAYS` (default 30): how long an unused sign-in lives.
    pub refresh_token_ttl: std::time::Duration,
    /// `SWITCHBOARD_OPERATOR_TOKEN`: the platform operator's bearer token for `/v1/admin`.
    pub operator_token: Option<Secret<String>>,
    /// `PAYLOAD_CODEC_KEYS`: the keys that encrypt what Temporal stores of a call.
    pub payload_keys: PayloadKeys,
    /// Voice engines and the LLM of cascaded turns.
    pub voice: VoiceSettings,
    /// Browser origins allowed to call the API (`CORS_ALLOWED_ORIGINS`, comma-separated).
    pub cors_allowed_origins: Vec<String>,
    /// Per-tenant token buckets of the REST API (`RATE_LIMIT_*`).
    pub rate_limits: api::rate_limit::RateLimits,
    /// `SMTP_URL` and `SMTP_FROM`: where message emails go out. Unset: email is skipped.
    pub smtp: Option<activities::SmtpConfig>,
    /// Where call recordings are stored.
    pub recordings: RecordingsStorage,
}

/// `RECORDINGS_S3_BUCKET` set: that bucket (`RECORDINGS_S3_ENDPOINT` for a store other than
/// AWS, `RECORDINGS_S3_REGION`, `RECORDINGS_S3_ACCESS_KEY_ID` and
/// `RECORDINGS_S3_SECRET_ACCESS_KEY`, or the environment's own AWS credentials); otherwise
/// files under `RECORDINGS_DIR` (default `$SWITCHBOARD_DATA_DIR/recordings`).
#[derive(Debug, Clone)]
pub enum RecordingsStorage {
    Local(PathBuf),
    S3(store::S3Settings),
}

impl RecordingsStorage {
    fn from_env(data_dir: &std::path::Path) -> Self {
        match var("RECORDINGS_S3_BUCKET") {
            Some(bucket) => Self::S3(store::S3Settings {
                bucket,
                endpoint: var("RECORDINGS_S3_ENDPOINT"),
                region: var_or("RECORDINGS_S3_REGION", "us-east-1"),
                access_key_id: var("RECORDINGS_S3_ACCESS_KEY_ID"),
                secret_access_key: var("RECORDINGS_S3_SECRET_ACCESS_KEY").map(Secret::new),
            }),
            None => Self::Local(
                var("RECORDINGS_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("recordings")),
            ),
        }
    }

    /// The object store these settings name.
    pub fn open(&self) -> Result<store::RecordingObjects> {
        Ok(match self {
            Self::Local(dir) => store::RecordingObjects::local(dir)
                .with_context(|| format!("recordings directory {}", dir.display()))?,
            Self::S3(s3) => store::RecordingObjects::s3(s3).context("RECORDINGS_S3_BUCKET")?,
        })
    }
}

/// Whether and with which keys payloads stored in Temporal are encrypted.
#[derive(Clone, Debug)]
pub enum PayloadKeys {
    /// Not set: `api` and `worker` refuse to start (call data would reach Temporal in clear by
    /// omission); `dev` makes a key of its own.
    Unset,
    /// `PAYLOAD_CODEC_KEYS=off`: stored in clear, deliberately.
    Off,
    /// `kid:<base64 32 bytes>,…`, newest first.
    Ring(codec::PayloadCrypto),
}

impl PayloadKeys {
    fn from_env() -> Result<Self> {
        Ok(match var("PAYLOAD_CODEC_KEYS") {
            None => Self::Unset,
            Some(v) if v.trim() == "off" => Self::Off,
            Some(v) => Self::Ring(codec::PayloadCrypto::new(codec::KeyRing::parse(
                &Secret::new(v),
            )?)),
        })
    }
}

/// Providers of the real-time path. An engine is offered only when its key is set.
#[derive(Clone, Debug)]
pub struct VoiceSettings {
    pub openai_realtime: Option<voice::engines::OpenAiRealtimeConfig>,
    pub gemini_live: Option<voice::engines::GeminiLiveConfig>,
    pub deepgram: Option<voice::stt::deepgram::DeepgramConfig>,
    pub tts: Option<voice::tts::openai::OpenAiTtsConfig>,
    pub llm: activities::llm::LlmConfig,
    /// Offer the offline engine (local Whisper sidecar + flite/espeak-ng); `OFFLINE_ENGINE=off`
    /// turns it off.
    pub offline: bool,
    /// The sidecar's Python and script; default `.venv/bin/python` and
    /// `stt-sidecar/switchboard_stt.py` in the working directory.
    pub stt_sidecar: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl VoiceSettings {
    fn from_env() -> Self {
        let openai_key = var("OPENAI_API_KEY");
        let openai_realtime = openai_key.clone().map(|key| {
            let mut c = voice::engines::OpenAiRealtimeConfig::new(key);
            c.url = var_or("OPENAI_REALTIME_URL", &c.url);
            c.model = var_or("OPENAI_REALTIME_MODEL", &c.model);
            c.voice = var_or("OPENAI_REALTIME_VOICE", &c.voice);
            c
        });
        let gemini_live = var("GEMINI_API_KEY").map(|key| {
            let mut c = voice::engines::GeminiLiveConfig::new(key);
            c.url = var_or("GEMINI_LIVE_URL", &c.url);
            c.model = var_or("GEMINI_LIVE_MODEL", &c.model);
            c.voice = var_or("GEMINI_LIVE_VOICE", &c.voice);
            c
        });
        let deepgram = var("DEEPGRAM_API_KEY").map(|key| {
            let mut c = voice::stt::deepgram::DeepgramConfig::new(key);
            c.url = var_or("DEEPGRAM_URL", &c.url);
            c.model = var_or("DEEPGRAM_MODEL", &c.model);
            c
        });
        let tts = var("TTS_API_KEY").or(openai_key.clone()).map(|key| {
            let mut c = voice::tts::openai::OpenAiTtsConfig::new(key);
            c.base_url = var_or("TTS_BASE_URL", &c.base_url);
            c.model = var_or("TTS_MODEL", &c.model);
            c.voice = var_or("TTS_VOICE", &c.voice);
            c
        });
        let mut llm =
            activities::llm::LlmConfig::openai(String::new(), var_or("LLM_MODEL", "gpt-4o-mini"));
        llm.base_url = var_or("LLM_BASE_URL", &llm.base_url);
        llm.api_key = var("LLM_API_KEY").or(openai_key).map(Into::into);
        let stt_sidecar = match (var("STT_SIDECAR_PYTHON"), var("STT_SIDECAR_SCRIPT")) {
            (Some(python), Some(script)) => Some((python.into(), script.into())),
            _ => None,
        };
        Self {
            openai_realtime,
            gemini_live,
            deepgram,
            tts,
            llm,
            offline: var_or("OFFLINE_ENGINE", "on") != "off",
            stt_sidecar,
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn var_or(name: &str, default: &str) -> String {
    var(name).unwrap_or_else(|| default.to_owned())
}

/// The auth token `dev` uses when none is configured: it signs webhooks from local tools only.
pub const DEV_TWILIO_AUTH_TOKEN: &str = "switchboard-dev-auth-token";
/// Twilio's real REST API.
pub const TWILIO_API_BASE: &str = "https://api.twilio.com";
pub const DEV_TWILIO_ACCOUNT_SID: &str = "AC00000000000000000000000000000000";

impl Settings {
    /// The URL migrations run with: `DATABASE_MIGRATION_URL`, else `DATABASE_URL`.
    pub fn migration_url(&self) -> &Secret<String> {
        self.database_migration_url
            .as_ref()
            .unwrap_or(&self.database_url)
    }

    pub fn from_env() -> Result<Self> {
        let data_dir = PathBuf::from(var_or("SWITCHBOARD_DATA_DIR", ".data"));
        let default_db = format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("switchboard.sqlite").display()
        );
        let temporal_ui_port: u16 = var_or("TEMPORAL_UI_PORT", "8233")
            .parse()
            .context("TEMPORAL_UI_PORT must be a port")?;
        let api_bind: SocketAddr = var_or("API_BIND", "127.0.0.1:8080")
            .parse()
            .context("API_BIND must be host:port, e.g. 127.0.0.1:8080")?;
        let public_url = Url::parse(&var_or("PUBLIC_URL", &format!("http://{api_bind}")))
            .context("PUBLIC_URL must be an absolute URL, e.g. https://voice.example.com")?;
        let twilio_api_key = match (var("TWILIO_API_KEY_SID"), var("TWILIO_API_KEY_SECRET")) {
            (Some(sid), Some(secret)) => Some((sid, Secret::new(secret))),
            (None, None) => None,
            _ => anyhow::bail!("set both TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET, or neither"),
        };
        Ok(Self {
            database_url: Secret::new(var("DATABASE_URL").unwrap_or(default_db)),
            database_migration_url: var("DATABASE_MIGRATION_URL").map(Secret::new),
            redis_url: var("REDIS_URL").map(Secret::new),
            temporal_address: var_or("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
            temporal_namespace: var_or("TEMPORAL_NAMESPACE", "default"),
            task_queue: var_or("TEMPORAL_TASK_QUEUE", workflows::DEFAULT_TASK_QUEUE),
            temporal_cli_path: var("TEMPORAL_CLI_PATH").map(PathBuf::from),
            temporal_ui_port,
            temporal_ui_url: var("TEMPORAL_UI_URL")
                .unwrap_or_else(|| format!("http://127.0.0.1:{temporal_ui_port}")),
            api_bind,
            public_url,
            twilio_account_sid: var_or("TWILIO_ACCOUNT_SID", DEV_TWILIO_ACCOUNT_SID),
            twilio_auth_token: Secret::new(var_or("TWILIO_AUTH_TOKEN", DEV_TWILIO_AUTH_TOKEN)),
            twilio_api_key,
            twilio_api_base: var_or("TWILIO_API_BASE", TWILIO_API_BASE),
            twilio_timeout: std::time::Duration::from_millis(number("TWILIO_TIMEOUT_MS", 15_000)?),
            log_json: var_or("LOG_FORMAT", "pretty") == "json",
            jwt_signing_keys: var("JWT_SIGNING_KEYS").map(Secret::new),
            jwt_access_ttl: std::time::Duration::from_secs(number("JWT_ACCESS_TTL_SECS", 900)?),
            refresh_token_ttl: std::time::Duration::from_secs(
                86_400 * number("REFRESH_TOKEN_TTL_DAYS", 30)?,
            ),
            operator_token: var("SWITCHBOARD_OPERATOR_TOKEN").map(Secret::new),
            payload_keys: PayloadKeys::from_env()?,
            voice: VoiceSettings::from_env(),
            cors_allowed_origins: api::hardening::parse_origins(&var_or(
                "CORS_ALLOWED_ORIGINS",
                "",
            ))
            .map_err(|e| anyhow::anyhow!("CORS_ALLOWED_ORIGINS: {e}"))?,
            rate_limits: rate_limits_from_env()?,
            smtp: smtp_from_env()?,
            recordings: RecordingsStorage::from_env(&data_dir),
            data_dir,
        })
    }
}

/// `SMTP_URL` (`smtp://host:2525`, `smtp://user:pass@host:587?tls=required`,
/// `smtps://user:pass@host:465`) with `SMTP_FROM` (`Switchboard <messages@example.com>`).
fn smtp_from_env() -> Result<Option<activities::SmtpConfig>> {
    match (var("SMTP_URL"), var("SMTP_FROM")) {
        (None, _) => Ok(None),
        (Some(url), Some(from)) => Ok(Some(activities::SmtpConfig {
            url: Secret::new(url),
            from,
        })),
        (Some(_), None) => {
            anyhow::bail!("SMTP_URL is set: set SMTP_FROM too (the sender's address)")
        }
    }
}

/// The whole number in `name`, or `default` when it is unset.
fn number(name: &str, default: u64) -> Result<u64> {
    var(name).map_or(Ok(default), |v| {
        v.trim()
            .parse()
            .with_context(|| format!("{name} must be a whole number"))
    })
}

/// `RATE_LIMIT_{READ,WRITE}_PER_MIN` (0: no limit) and `RATE_LIMIT_{READ,WRITE}_BURST`.
fn rate_limits_from_env() -> Result<api::rate_limit::RateLimits> {
    let defaults = api::rate_limit::RateLimits::default();
    Ok(api::rate_limit::RateLimits {
        read: bucket_from_env(
            "RATE_LIMIT_READ_PER_MIN",
            "RATE_LIMIT_READ_BURST",
            defaults.read,
        )?,
        write: bucket_from_env(
            "RATE_LIMIT_WRITE_PER_MIN",
            "RATE_LIMIT_WRITE_BURST",
            defaults.write,
        )?,
    })
}

fn bucket_from_env(
    per_min: &str,
    burst: &str,
    default: api::rate_limit::BucketConfig,
) -> Result<api::rate_limit::BucketConfig> {
    let number = |name: &str, default: u32| -> Result<u32> {
        var_or(name, &default.to_string())
            .parse()
            .with_context(|| format!("{name} must be a whole number"))
    };
    let config = api::rate_limit::BucketConfig {
        per_minute: number(per_min, default.per_minute)?,
        burst: number(burst, default.burst)?,
    };
    if config.per_minute > 0 && config.burst == 0 {
        anyhow::bail!("{burst} must be at least 1 (or {per_min} 0 to turn the limit off)");
    }
    Ok(config)
}

#[cfg(test)]
mod tests;
