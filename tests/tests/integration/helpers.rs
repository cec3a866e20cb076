//! `spawn_app()`: a fresh database, a unique task queue, a fake Twilio REST API, the real API
//! on port 0 and a real worker — per test.

use activities::SessionStore;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::post,
};
use domain::{E164, TenantId};
use sea_orm::{ConnectionTrait, Database};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use store::{NewAgent, Store};
use switchboard::{
    app,
    config::{PayloadKeys, Settings, VoiceSettings},
};
use telephony::{TwilioAuth, TwilioClient, compute_signature};
use temporalio_client::{Client, WorkflowDescribeOptions};
use uuid::Uuid;
use voice::catalog::EngineCatalog;
use workflows::CallWorkflow;

pub const PUBLIC_URL: &str = "https://voice.switchboard.test";
pub const AUTH_TOKEN: &str = "test-twilio-auth-token";
pub const ACCOUNT_SID: &str = "AC11111111111111111111111111111111";
pub const CALLER: &str = "+14155550199";

/// Tests that load the machine: the offline calls (a Whisper sidecar decoding in real time
/// each) share it, and the fifty-call test takes it alone, so that a call's webhook never
/// waits on another test's speech recognition on a 2-core machine.
static HEAVY: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Held by a test that decodes speech in real time; others like it may run alongside.
pub async fn sharing_the_cpu() -> tokio::sync::RwLockReadGuard<'static, ()> {
    HEAVY.read().await
}

/// Held by a test that needs the machine to itself.
pub async fn alone_on_the_cpu() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    HEAVY.write().await
}
/// How long the product waits for a Twilio REST answer in tests (the simulator's timeout
/// faults hold requests longer than this).
pub const TWILIO_CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn temporal_address() -> String {
    env("SWITCHBOARD_TEST_TEMPORAL_ADDRESS")
        .expect("SWITCHBOARD_TEST_TEMPORAL_ADDRESS is not set: run the suite with scripts/test.sh")
}

/// Whether this suite runs on PostgreSQL (and Redis), not SQLite.
pub fn on_postgres() -> bool {
    env("SWITCHBOARD_TEST_POSTGRES_URL").is_some()
}

/// A test's database: the URL the application connects with and, on PostgreSQL, the one the
/// migrations run with.
pub struct TestDatabase {
    pub url: String,
    pub migration_url: Option<String>,
}

/// The role the application connects as on PostgreSQL, as every deployment should.
const APP_ROLE: &str = "switchboard_app";

/// Makes the cluster's `switchboard_app` role (created by the migrations) able to log in, once
/// per test process. `ALTER ROLE` from concurrent sessions may fail with "tuple concurrently
/// updated": retried.
async fn app_role_can_log_in(db: &sea_orm::DatabaseConnection) {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let sql = format!("ALTER ROLE {APP_ROLE} LOGIN PASSWORD '{APP_ROLE}'");
        for attempt in 1.. {
            match db.execute_unprepared(&sql).await {
                Ok(_) => break,
                Err(e) if attempt < 10 => {
                    eprintln!("ALTER ROLE {APP_ROLE}: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => panic!("ALTER ROLE {APP_ROLE}: {e}"),
            }
        }
    })
    .await;
}

/// A fresh database: a new PostgreSQL database when `SWITCHBOARD_TEST_POSTGRES_URL` is set
/// (an admin URL of the throwaway cluster), migrated by the admin and used by the application
/// as `switchboard_app`, which row-level security applies to; otherwise a new SQLite file.
pub async fn fresh_database() -> TestDatabase {
    let name = format!("t_{}", Uuid::new_v4().simple());
    match env("SWITCHBOARD_TEST_POSTGRES_URL") {
        Some(admin) => {
            let db = Database::connect(admin.as_str())
                .await
                .expect("connect to the test PostgreSQL");
            db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let mut owner = url::Url::parse(&admin).expect("postgres URL");
            owner.set_path(&name);
            let migrated = Store::connect(owner.as_str()).await.expect("connect");
            migrated
                .migrate_up()
                .await
                .expect("migrate the test database");
            migrated.connection().clone().close().await.ok();
            app_role_can_log_in(&db).await;
            db.close().await.ok();
            let mut app = owner.clone();
            app.set_username(APP_ROLE).unwrap();
            app.set_password(Some(APP_ROLE)).unwrap();
            TestDatabase {
                url: app.into(),
                migration_url: Some(owner.into()),
            }
        }
        None => {
            let dir = std::env::temp_dir().join("switchboard-tests");
            std::fs::create_dir_all(&dir).unwrap();
            TestDatabase {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.join(format!("{name}.sqlite")).display()
                ),
                migration_url: None,
            }
        }
    }
}

/// The payload key ring of every test app: histories recorded by the tests (and committed to
/// `tests/histories`) decrypt with it.
pub fn test_payload_codec() -> codec::PayloadCrypto {
    let ring = codec::KeyRing::new(vec![("test".into(), [7; codec::KEY_LEN])]).unwrap();
    codec::PayloadCrypto::new(ring)
}

/// The settings a user would give `switchboard api` and `switchboard worker`, pointing at this
/// test's database, Redis (if any), Temporal, Twilio and LLM; the harness boots the production
/// wiring (`switchboard::app`) with them.
/// The JWT key the test apps sign with (base64 of 32 bytes).
pub const TEST_JWT_KEYS: &str = "test1:dGVzdC1vbmx5LWp3dC1rZXktb2YtdGhpcnR5LXR3b2JiYg==";
/// The platform operator's token in the test apps.
pub const TEST_OPERATOR_TOKEN: &str = "op_test_operator_token";

pub fn test_settings(
    database: TestDatabase,
    task_queue: &str,
    twilio_base_url: &str,
    llm: activities::llm::LlmConfig,
) -> Settings {
    Settings {
        data_dir: std::env::temp_dir(),
        database_url: database.url.into(),
        database_migration_url: database.migration_url.map(Into::into),
        redis_url: env("SWITCHBOARD_TEST_REDIS_URL").map(Into::into),
        temporal_address: temporal_address(),
        temporal_namespace: "default".into(),
        task_queue: task_queue.into(),
        temporal_cli_path: None,
        temporal_ui_port: 0,
        temporal_ui_url: "http://127.0.0.1:8233".into(),
        api_bind: "127.0.0.1:0".parse().unwrap(),
        public_url: url::Url::parse(PUBLIC_URL).unwrap(),
        twilio_account_sid: ACCOUNT_SID.into(),
        twilio_auth_token: AUTH_TOKEN.into(),
        twilio_api_key: None,
        twilio_api_base: twilio_base_url.into(),
        twilio_timeout: TWILIO_CLIENT_TIMEOUT,
        log_json: false,
        jwt_signing_keys: Some(TEST_JWT_KEYS.into()),
        jwt_access_ttl: std::time::Duration::from_secs(900),
        refresh_token_ttl: std::time::Duration::from_secs(30 * 86_400),
        operator_token: Some(TEST_OPERATOR_TOKEN.into()),
        payload_keys: PayloadKeys::Ring(test_payload_codec()),
        voice: VoiceSettings {
            openai_realtime: None,
            gemini_live: None,
            deepgram: None,
            tts: None,
            llm,
            offline: false,
            stt_sidecar: None,
        },
        cors_allowed_origins: Vec::new(),
        rate_limits: api::rate_limit::RateLimits::default(),
        smtp: None,
        recordings: switchboard::config::RecordingsStorage::Local(
            std::env::temp_dir().join(format!("switchboard-recordings-{}", uuid::Uuid::new_v4())),
        ),
    }
}

/// The LLM of cascaded turns: the rule-based receptionist (no key, OpenAI's URL: what a user
/// without a key gets), or the OpenAI-compatible server at `base_url`.
fn llm_config(rules_dialog: bool, base_url: &str) -> activities::llm::LlmConfig {
    let mut config = activities::llm::LlmConfig::openai("", "test-model");
    if !rules_dialog {
        config.base_url = base_url.into();
        config.api_key = Some("test-llm-key".into());
        config.timeout = Duration::from_secs(10);
    }
    config
}

/// One request the fake Twilio received.
#[derive(Debug, Clone)]
pub struct TwilioRequest {
    pub path: String,
    pub form: Vec<(String, String)>,
}

/// A local stand-in for Twilio's REST API: the same paths, form bodies, Basic auth, JSON
/// resources and error bodies. Answers from `fail_next` first, if any are queued.
#[derive(Clone, Default)]
pub struct FakeTwilio {
    pub requests: Arc<Mutex<Vec<TwilioRequest>>>,
    pub fail_next: Arc<Mutex<Vec<(u16, serde_json::Value)>>>,
}

async fn fake_update_call(
    State(fake): State<FakeTwilio>,
    Path((account, call)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: String,
) -> impl IntoResponse {
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{ACCOUNT_SID}:{AUTH_TOKEN}")
        )
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        let body = serde_json::json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401});
        return (StatusCode::UNAUTHORIZED, axum::Json(body));
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
    fake.requests.lock().unwrap().push(TwilioRequest {
        path: format!("/2010-04-01/Accounts/{account}/Calls/{call}"),
        form: form.clone(),
    });
    if let Some((status, body)) = fake.fail_next.lock().unwrap().pop() {
        return (StatusCode::from_u16(status).unwrap(), axum::Json(body));
    }
    let call_sid = call.trim_end_matches(".json");
    let status = form
        .iter()
        .find(|(k, _)| k == "Status")
        .map(|(_, v)| v.clone())
        .unwrap_or("in-progress".into());
    (
        StatusCode::OK,
        axum::Json(
            serde_json::json!({"sid": call_sid, "status": status, "to": "+15005550006", "from": CALLER, "direction": "inbound"}),
        ),
    )
}

impl FakeTwilio {
    pub async fn start() -> (Self, String) {
        let fake = Self::default();
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Calls/{call}",
                post(fake_update_call),
            )
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (fake, url)
    }
}

/// Our Twilio client, pointed at `base_url` (the REST fake or the simulator) with the test
/// account and a short timeout.
pub fn twilio_client(base_url: &str) -> TwilioClient {
    TwilioClient::with_timeout(
        base_url,
        ACCOUNT_SID,
        TwilioAuth::AuthToken(AUTH_TOKEN.into()),
        TWILIO_CLIENT_TIMEOUT,
    )
    .unwrap()
}

pub struct TestApp {
    pub address: String,
    pub store: Store,
    pub temporal: Client,
    pub sessions: Arc<dyn SessionStore>,
    pub twilio: FakeTwilio,
    /// The Twilio simulator, when the app was spawned with one.
    pub sim: Option<sim::SimHandle>,
    pub tenant: TenantId,
    pub number: E164,
    pub api_key: String,
    pub http: reqwest::Client,
    /// What the API and the worker were booted with (`switchboard::app`).
    pub settings: Settings,
    worker: Option<RunningWorker>,
}

struct RunningWorker {
    stop: Box<dyn Fn() + Send + Sync>,
    /// Drops the worker where it stands, as a killed process would: no graceful shutdown,
    /// activities in flight never report back.
    kill: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            (worker.stop)();
        }
    }
}

/// How a test wants its app: the agent's engine, the engines on offer, the LLM endpoint.
pub struct AppOptions {
    pub max_call_duration_secs: Option<u32>,
    /// `agents.engine` of the test agent.
    pub engine: String,
    pub engine_settings: serde_json::Value,
    pub greeting: String,
    pub engines: EngineCatalog,
    /// Base URL of an OpenAI-compatible chat server for the LLM activity.
    pub llm_base_url: String,
    /// Twilio is the simulator with these faults (webhooks, media streams and REST all go
    /// through it, and `PUBLIC_URL` is the API's real address); `None`: the small REST fake.
    pub sim: Option<sim::FaultConfig>,
    /// The `llm_turn` activity answers with the rule-based dialog instead of `llm_base_url`.
    pub rules_dialog: bool,
    /// The tenants' REST rate limits (`RATE_LIMIT_*`).
    pub rate_limits: api::rate_limit::RateLimits,
    /// `SMTP_URL` of the worker (with `SMTP_FROM` `Switchboard <messages@switchboard.test>`);
    /// `None`: SMTP is not configured.
    pub smtp_url: Option<String>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            max_call_duration_secs: None,
            engine: "echo".into(),
            engine_settings: serde_json::json!({}),
            greeting: "Hello".into(),
            engines: EngineCatalog::new().with(Arc::new(voice::echo::EchoEngine)),
            // Nothing listens here: a test that reaches the LLM without a fake fails loudly.
            llm_base_url: "http://127.0.0.1:9/v1".into(),
            sim: None,
            rules_dialog: false,
            rate_limits: api::rate_limit::RateLimits::default(),
            smtp_url: None,
        }
    }
}

/// Rate limits no walk through the API reaches: for tests that make hundreds of requests in a
/// few seconds and assert on each answer (a 429 would hide the 403 or 404 they check).
pub fn roomy_rate_limits() -> api::rate_limit::RateLimits {
    let roomy = api::rate_limit::BucketConfig {
        per_minute: 60_000,
        burst: 1_000,
    };
    api::rate_limit::RateLimits {
        read: roomy,
        write: roomy,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with_max_duration(max_call_duration_secs: Option<u32>) -> TestApp {
    spawn_app_with(AppOptions {
        max_call_duration_secs,
        ..AppOptions::default()
    })
    .await
}

/// The product's warnings and errors (`RUST_LOG` for more) go to the test's captured output:
/// a failing test shows why a request failed (a webhook's 500, say), a passing one prints
/// nothing.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    init_logs();
    let AppOptions {
        max_call_duration_secs,
        engine,
        engine_settings,
        greeting,
        engines,
        llm_base_url,
        sim: sim_faults,
        rules_dialog,
        rate_limits,
        smtp_url,
    } = options;
    let (twilio, fake_base_url) = FakeTwilio::start().await;
    let task_queue = format!("test-{}", Uuid::new_v4().simple());
    let mut settings = test_settings(
        fresh_database().await,
        &task_queue,
        &fake_base_url,
        llm_config(rules_dialog, &llm_base_url),
    );
    settings.rate_limits = rate_limits;
    settings.smtp = smtp_url.map(|url| activities::SmtpConfig {
        url: url.into(),
        from: "Switchboard <messages@switchboard.test>".into(),
    });
    let listener = app::bind_api(&settings).await.expect("bind the API");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let store = app::open_store(&settings).await.expect("open the store");
    let sessions = app::open_sessions(&settings).await.expect("open sessions");
    let temporal = app::temporal_client(&settings)
        .await
        .expect("connect Temporal");
    let simulator = match sim_faults {
        None => None,
        Some(faults) => {
            let config = sim::SimConfig {
                account_sid: ACCOUNT_SID.into(),
                auth_token: AUTH_TOKEN.into(),
                numbers: vec![(
                    "+15005550006".into(),
                    format!("{address}/twilio/voice"),
                    Some(format!("{address}/twilio/status")),
                )],
                faults,
                ..sim::SimConfig::local()
            };
            let simulator = sim::Sim::start(config).await.expect("simulator starts");
            // Twilio is the simulator: webhooks reach the API's real address.
            settings.twilio_api_base = simulator.base_url().to_owned();
            settings.public_url = url::Url::parse(&address).unwrap();
            Some(simulator)
        }
    };

    let tenant = store.create_tenant("Acme Dental").await.unwrap();
    let agent = store
        .create_agent(
            tenant.id,
            NewAgent {
                name: "Receptionist".into(),
                greeting,
                instructions: "Be kind".into(),
                engine,
                engine_settings,
                max_call_duration_secs,
                language: None,
                record_calls: None,
            },
        )
        .await
        .unwrap();
    let number = E164::parse("+15005550006").unwrap();
    store
        .assign_phone_number(tenant.id, &number, agent.id)
        .await
        .unwrap();
    let api_key = store
        .create_api_key(tenant.id, "test")
        .await
        .unwrap()
        .secret
        .into_inner();

    let state = app::api_state_with_engines(
        &settings,
        store.clone(),
        temporal.clone(),
        sessions.clone(),
        engines,
    )
    .expect("API state");
    tokio::spawn(api::serve(listener, state, std::future::pending()));

    let mut app = TestApp {
        address,
        store,
        temporal,
        sessions,
        twilio,
        sim: simulator,
        tenant: tenant.id,
        number,
        api_key,
        http: reqwest::Client::new(),
        settings,
        worker: None,
    };
    app.start_worker();
    app
}

pub fn new_call_sid() -> String {
    format!("CA{}", Uuid::new_v4().simple())
}

pub fn voice_form(call_sid: &str, to: &str) -> Vec<(String, String)> {
    // Exactly the fields Twilio posts for an inbound call.
    [
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        (
            "CallToken",
            "%7B%22parentCallInfoToken%22%3A%22eyJhbGciOiJFUzI1NiJ9%22%7D",
        ),
        ("Called", to),
        ("CalledCity", "SAN FRANCISCO"),
        ("CalledCountry", "US"),
        ("CalledState", "CA"),
        ("CalledZip", "94105"),
        ("Caller", CALLER),
        ("CallerCity", "OAKLAND"),
        ("CallerCountry", "US"),
        ("CallerState", "CA"),
        ("CallerZip", "94612"),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("FromCity", "OAKLAND"),
        ("FromCountry", "US"),
        ("FromState", "CA"),
        ("FromZip", "94612"),
        ("StirVerstat", "TN-Validation-Passed-A"),
        ("To", to),
        ("ToCity", "SAN FRANCISCO"),
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("ToZip", "94105"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub fn status_form(call_sid: &str, status: &str, duration: Option<u32>) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("To", "+15005550006"),
        ("SequenceNumber", "0"),
        ("Timestamp", "Sun, 22 Nov 2026 10:00:00 +0000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(d) = duration {
        form.push(("CallDuration".into(), d.to_string()));
    }
    form
}

impl TestApp {
    /// Boots another API node with the same settings (database, Redis, Temporal), as a second
    /// `switchboard api` process would; returns its base URL.
    pub async fn spawn_api_instance(&self) -> String {
        self.spawn_api_instance_with(&self.settings).await
    }

    /// Boots another API node with `settings`, sharing this app's session store.
    pub async fn spawn_api_instance_with(&self, settings: &Settings) -> String {
        let listener = app::bind_api(settings).await.expect("bind the API");
        let address = format!("http://{}", listener.local_addr().unwrap());
        let store = app::open_store(settings).await.expect("open the store");
        let sessions = self.sessions.clone();
        let temporal = app::temporal_client(settings)
            .await
            .expect("connect Temporal");
        let engines = EngineCatalog::new().with(Arc::new(voice::echo::EchoEngine));
        let state = app::api_state_with_engines(settings, store, temporal, sessions, engines)
            .expect("API state");
        tokio::spawn(api::serve(listener, state, std::future::pending()));
        address
    }

    /// Posts `form` to `path`, signed over our *public* URL as Twilio would sign it.
    pub async fn post_signed(&self, path: &str, form: &[(String, String)]) -> reqwest::Response {
        let signature = compute_signature(AUTH_TOKEN, &format!("{PUBLIC_URL}{path}"), form);
        self.post_with_signature(path, form, Some(&signature)).await
    }

    pub async fn post_with_signature(
        &self,
        path: &str,
        form: &[(String, String)],
        signature: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.address)).form(form);
        if let Some(sig) = signature {
            request = request.header("X-Twilio-Signature", sig);
        }
        request.send().await.expect("request to the API")
    }

    /// The stream configuration Twilio would use for `call_sid`: our media URL, signed with
    /// `auth_token` (None: unsigned).
    pub fn stream_config(&self, call_sid: &str, auth_token: Option<&str>) -> sim::StreamConfig {
        let ws_url = format!(
            "{}/twilio/media",
            self.address.replacen("http://", "ws://", 1)
        );
        let mut config = sim::StreamConfig::new(
            ws_url,
            format!(
                "{}/twilio/media",
                PUBLIC_URL.replacen("https://", "wss://", 1)
            ),
        );
        config.auth_token = auth_token.map(Into::into);
        config.account_sid = ACCOUNT_SID.into();
        config.call_sid = call_sid.into();
        config.custom_parameters = [
            ("callSid".to_owned(), call_sid.to_owned()),
            ("tenantId".to_owned(), self.tenant.to_string()),
        ]
        .into_iter()
        .collect();
        config
    }

    /// Waits until the call's session is open (the workflow's `open_session` activity ran),
    /// then opens its media stream as Twilio would.
    pub async fn connect_phone(&self, call_sid: &str) -> sim::MediaStreamClient {
        let sid = domain::CallSid::parse(call_sid).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.sessions.get(&sid).await.unwrap().is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the call's session never opened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sim::MediaStreamClient::connect(self.stream_config(call_sid, Some(AUTH_TOKEN)))
            .await
            .expect("media stream connects")
    }

    pub async fn start_inbound_call(&self) -> String {
        let call_sid = new_call_sid();
        let response = self
            .post_signed(
                "/twilio/voice",
                &voice_form(&call_sid, self.number.as_str()),
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "voice webhook: {}",
            response.text().await.unwrap()
        );
        call_sid
    }

    pub async fn complete_call(&self, call_sid: &str, duration: u32) {
        let response = self
            .post_signed(
                "/twilio/status",
                &status_form(call_sid, "completed", Some(duration)),
            )
            .await;
        assert_eq!(response.status(), 204);
    }

    /// `GET path` with no credentials.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_api(&self, path: &str, api_key: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .bearer_auth(api_key)
            .send()
            .await
            .unwrap()
    }

    /// Runs a worker on its own thread: the SDK's worker future is not `Send`.
    pub fn start_worker(&mut self) {
        assert!(self.worker.is_none(), "a worker is already running");
        let settings = self.settings.clone();
        // On PostgreSQL the worker gets its own pool, made on its own runtime, as a worker
        // process would: its connections die with this runtime when the worker is stopped and
        // must not be left in a pool the API shares. (SQLite's connection runs on a thread of
        // its own, and the suite keeps one SQLite connection per app.)
        let shared_store = (!self.settings.database_url.expose().starts_with("postgres"))
            .then(|| self.store.clone());
        let sessions = self.sessions.clone();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<Box<dyn Fn() + Send + Sync>>();
        let (kill, killed) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let store = match shared_store {
                    Some(store) => store,
                    None => app::open_store(&settings)
                        .await
                        .expect("the worker's store"),
                };
                // Its own connection, as a worker process has: a killed worker's registration
                // dies with it.
                let client = app::temporal_client(&settings)
                    .await
                    .expect("the worker's Temporal client");
                let runtime = worker::runtime().expect("SDK runtime");
                let mut w = app::build_worker(&settings, &runtime, store, client, sessions)
                    .expect("the worker builds");
                stop_tx.send(Box::new(w.shutdown_handle())).unwrap();
                tokio::select! {
                    run = w.run() => run.expect("worker run"),
                    Ok(()) = killed => {}
                }
            });
            // A killed worker's tasks die with its runtime.
            rt.shutdown_background();
        });
        let stop = stop_rx.recv().expect("worker started");
        self.worker = Some(RunningWorker { stop, kill, thread });
    }

    /// Kills the worker: its runtime is dropped mid-work, as SIGKILL would leave it.
    pub async fn kill_worker(&mut self) {
        let worker = self.worker.take().expect("no worker running");
        let _ = worker.kill.send(());
        let joined = tokio::task::spawn_blocking(move || worker.thread.join());
        tokio::time::timeout(Duration::from_secs(30), joined)
            .await
            .expect("a killed worker's thread ends")
            .unwrap()
            .expect("worker thread did not panic");
    }

    /// Shuts the worker down and waits until it has stopped polling.
    pub async fn stop_worker(&mut self) {
        let worker = self.worker.take().expect("no worker running");
        (worker.stop)();
        let joined = tokio::task::spawn_blocking(move || worker.thread.join());
        tokio::time::timeout(Duration::from_secs(60), joined)
            .await
            .expect("worker stops within a minute")
            .unwrap()
            .expect("worker thread did not panic");
    }

    pub async fn describe(
        &self,
        call_sid: &str,
    ) -> Option<temporalio_client::WorkflowExecutionDescription> {
        let handle = self
            .temporal
            .get_workflow_handle::<CallWorkflow>(format!("call-{call_sid}"));
        handle
            .describe(WorkflowDescribeOptions::default())
            .await
            .ok()
    }

    /// Waits for the call's workflow to finish and returns its summary.
    pub async fn call_result(&self, call_sid: &str) -> domain::workflow_io::CallSummary {
        let handle = self
            .temporal
            .get_workflow_handle::<CallWorkflow>(format!("call-{call_sid}"));
        tokio::time::timeout(
            Duration::from_secs(60),
            handle.get_result(Default::default()),
        )
        .await
        .expect("call workflow finishes within a minute")
        .expect("call workflow succeeds")
    }

    /// Polls until the `calls` row exists (the workflow's first activity ran).
    pub async fn wait_for_call_row(&self, call_sid: &str) -> store::CallRecord {
        let sid = domain::CallSid::parse(call_sid).unwrap();
        for _ in 0..300 {
            if let Some(row) = self.store.call_by_sid(self.tenant, &sid).await.unwrap() {
                return row;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the calls row for {call_sid} never appeared");
    }
}

/// Waits until the fake Twilio has received `attempts` updates of `call_sid` (hang-ups).
pub async fn wait_for_hang_up(app: &TestApp, call_sid: &str, attempts: usize) -> TwilioRequest {
    let path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call_sid}.json");
    for _ in 0..300 {
        let requests = app.twilio.requests.lock().unwrap().clone();
        let matching: Vec<_> = requests.into_iter().filter(|r| r.path == path).collect();
        if matching.len() >= attempts {
            return matching.last().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Twilio never received {attempts} hang-up requests for {call_sid}");
}
