//! Starting the simulator, and the handles tests and the CLI drive it with.
//!
//! [`Sim::start`] binds one HTTP server that serves Twilio's REST API (the private `rest` module) and a
//! small control API of its own under `/_sim/` (JSON, no auth — it is a local test tool); its
//! requests and answers are the types of [`crate::control`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use domain::{CallStatus, Secret};

use crate::SimError;
use crate::control::{
    ControlError, EventPage, EventsQuery, PlaceCall, Placed, RegisterPhone, Registered, Summary,
};
use crate::faults::{FaultConfig, FaultState};
use crate::person::PersonScript;
use crate::state::{
    CallEvent, CallEventKind, CallRecord, ConferenceRecord, Inner, MessageRecord, Notification,
    NumberRecord, ParticipantRecord, Settings, Shared, SimState,
};

/// A number the account owns from the start: `(E.164, VoiceUrl, StatusCallback)`.
pub type NumberConfig = (String, String, Option<String>);

/// How to start the sim.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub bind: SocketAddr,
    pub account_sid: String,
    pub auth_token: Secret<String>,
    /// API keys (`SK…`, secret) also accepted for REST auth.
    pub api_keys: Vec<(String, Secret<String>)>,
    /// Numbers the account owns from the start, so tests need no REST setup.
    pub numbers: Vec<NumberConfig>,
    pub faults: FaultConfig,
    /// The base URL to advertise (e.g. behind a tunnel); default `http://{bound address}`.
    pub public_base_url: Option<String>,
}

impl SimConfig {
    /// A config for tests: a random free port on loopback, fixed test credentials.
    pub fn local() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: Secret::from("sim-auth-token"),
            api_keys: Vec::new(),
            numbers: Vec::new(),
            faults: FaultConfig::default(),
            public_base_url: None,
        }
    }
}

/// The simulator.
#[derive(Debug)]
pub struct Sim;

impl Sim {
    /// Binds, starts serving and returns the handle.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|e| SimError::Start(format!("bind {}: {e}", config.bind)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SimError::Start(e.to_string()))?;
        let base_url = config
            .public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| SimError::Start(e.to_string()))?;
        let mut state = SimState::default();
        for (number, voice_url, status_callback) in &config.numbers {
            let mut record = NumberRecord::new(&config.account_sid, number);
            record.voice_url = Some(voice_url.clone());
            record.status_callback = status_callback.clone();
            state.numbers.push(record);
        }
        let (changed, _) = watch::channel(0);
        let shared: Shared = Arc::new(Inner {
            settings: Settings {
                account_sid: config.account_sid.clone(),
                auth_token: config.auth_token.clone(),
                api_keys: config.api_keys.clone(),
                base_url: base_url.clone(),
            },
            state: Mutex::new(state),
            changed,
            faults: Mutex::new(FaultState::new(config.faults.clone())),
            http,
        });
        let app = crate::rest::router(shared.clone()).merge(control_router(shared.clone()));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "sim server failed");
            }
        });
        tracing::info!(%base_url, "Twilio simulator listening");
        Ok(SimHandle {
            shared,
            addr,
            base_url,
            stop: Arc::new(Mutex::new(Some((stop_tx, server)))),
        })
    }
}

type Stopper = Option<(oneshot::Sender<()>, JoinHandle<()>)>;

/// A running simulator. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    shared: Shared,
    addr: SocketAddr,
    base_url: String,
    stop: Arc<Mutex<Stopper>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// What the product uses as its Twilio API base URL (`TWILIO_API_BASE`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn account_sid(&self) -> &str {
        &self.shared.settings.account_sid
    }

    pub fn auth_token(&self) -> &str {
        self.shared.settings.auth_token.expose()
    }

    /// Makes `number` a simulated phone that behaves as `script` when called.
    pub fn register_phone(&self, number: &str, script: PersonScript) {
        self.shared.lock().phones.insert(number.to_owned(), script);
    }

    /// Adds (or replaces) a number the account owns, with its `VoiceUrl`.
    pub fn add_number(&self, number: &str, voice_url: &str, status_callback: Option<&str>) {
        let mut state = self.shared.lock();
        state.numbers.retain(|n| n.phone_number != number);
        let mut record = NumberRecord::new(&self.shared.settings.account_sid, number);
        record.voice_url = Some(voice_url.to_owned());
        record.status_callback = status_callback.map(str::to_owned);
        state.numbers.push(record);
    }

    /// A person at `from` calls the sim's number `to`; its `VoiceUrl` gets the webhook.
    pub fn place_inbound_call(
        &self,
        from: &str,
        to: &str,
        person: PersonScript,
    ) -> Result<CallHandle, SimError> {
        let sid = crate::call::place_inbound(&self.shared, from, to, person)?;
        Ok(self.call(&sid))
    }

    /// A handle on the call `sid` (which need not exist yet).
    pub fn call(&self, sid: &str) -> CallHandle {
        CallHandle {
            shared: self.shared.clone(),
            sid: sid.to_owned(),
        }
    }

    /// Every call, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared
            .lock()
            .calls
            .iter()
            .map(|c| c.record.clone())
            .collect()
    }

    pub fn messages(&self) -> Vec<MessageRecord> {
        self.shared.lock().messages.clone()
    }

    pub fn conferences(&self) -> Vec<ConferenceRecord> {
        self.shared.lock().conferences.clone()
    }

    pub fn participants(&self, conference_sid: &str) -> Vec<ParticipantRecord> {
        self.shared
            .lock()
            .conferences
            .iter()
            .find(|c| c.sid == conference_sid)
            .map(|c| c.participants.clone())
            .unwrap_or_default()
    }

    pub fn numbers(&self) -> Vec<NumberRecord> {
        self.shared.lock().numbers.clone()
    }

    /// Errors the sim hit (Twilio's debugger): 11200, 12100, 31920…
    /// The REST failures injected so far.
    pub fn faults_injected(&self) -> crate::faults::FaultCounts {
        self.shared.faults().injected
    }

    pub fn notifications(&self) -> Vec<Notification> {
        self.shared.lock().notifications.clone()
    }

    /// The transcript of call `sid`.
    pub fn call_events(&self, sid: &str) -> Vec<CallEvent> {
        self.call(sid).events()
    }

    /// Waits until some call satisfies `predicate`.
    pub async fn wait_for_call(
        &self,
        timeout: Duration,
        predicate: impl Fn(&CallRecord) -> bool,
    ) -> Option<CallRecord> {
        self.shared
            .wait_until(timeout, |s| {
                s.calls
                    .iter()
                    .map(|c| &c.record)
                    .find(|r| predicate(r))
                    .cloned()
            })
            .await
    }

    /// Stops the HTTP server (running calls are left to finish or be dropped).
    pub async fn shutdown(&self) {
        let stopper = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((tx, task)) = stopper {
            let _ = tx.send(());
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

/// One call in the sim.
#[derive(Clone)]
pub struct CallHandle {
    shared: Shared,
    sid: String,
}

impl std::fmt::Debug for CallHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallHandle")
            .field("sid", &self.sid)
            .finish()
    }
}

impl CallHandle {
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The call as the REST API shows it.
    pub fn record(&self) -> Option<CallRecord> {
        self.shared.lock().call(&self.sid).map(|c| c.record.clone())
    }

    pub fn status(&self) -> Option<CallStatus> {
        self.record().map(|r| r.status)
    }

    /// The transcript so far.
    pub fn events(&self) -> Vec<CallEvent> {
        self.shared
            .lock()
            .call(&self.sid)
            .map(|c| c.events.clone())
            .unwrap_or_default()
    }

    /// What the call said to the person (`<Say>` texts and bridged speech), in order.
    pub fn said_to_person(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e.kind {
                CallEventKind::CallSaid { text } => Some(text),
                _ => None,
            })
            .collect()
    }

    /// The audio the person has heard so far (8 kHz μ-law).
    pub fn heard_audio(&self) -> Vec<u8> {
        self.shared
            .lock()
            .call(&self.sid)
            .and_then(|c| c.heard.clone())
            .map(|ear| ear.heard())
            .unwrap_or_default()
    }

    /// Waits until the call has reached a final status; returns the record.
    pub async fn wait_ended(&self, timeout: Duration) -> Result<CallRecord, SimError> {
        let sid = self.sid.clone();
        self.shared
            .wait_until(timeout, |s| {
                s.call(&sid)
                    .filter(|c| c.record.is_final())
                    .map(|c| c.record.clone())
            })
            .await
            .ok_or(SimError::Timeout(timeout))
    }

    /// Waits until the call's status is `status`.
    pub async fn wait_for_status(
        &self,
        status: CallStatus,
        timeout: Duration,
    ) -> Result<CallRecord, SimError> {
        let sid = self.sid.clone();
        self.shared
            .wait_until(timeout, |s| {
                s.call(&sid)
                    .filter(|c| c.record.status == status)
                    .map(|c| c.record.clone())
            })
            .await
            .ok_or(SimError::Timeout(timeout))
    }

    /// Waits until an event satisfies `predicate`; returns it.
    pub async fn wait_for_event(
        &self,
        timeout: Duration,
        predicate: impl Fn(&CallEventKind) -> bool,
    ) -> Result<CallEvent, SimError> {
        let sid = self.sid.clone();
        self.shared
            .wait_until(timeout, |s| {
                s.call(&sid)
                    .and_then(|c| c.events.iter().find(|e| predicate(&e.kind)).cloned())
            })
            .await
            .ok_or(SimError::Timeout(timeout))
    }
}

// ---------------------------------------------------------------------------------------
// The control API.

fn control_router(shared: Shared) -> Router {
    use crate::control::{CALLS_PATH, PHONES_PATH, SUMMARY_PATH};
    Router::new()
        .route(CALLS_PATH, post(control_place_call))
        .route(&format!("{CALLS_PATH}/{{sid}}/events"), get(control_events))
        .route(
            &format!("{CALLS_PATH}/{{sid}}/heard.wav"),
            get(control_heard_wav),
        )
        .route(PHONES_PATH, post(control_register_phone))
        .route(SUMMARY_PATH, get(control_summary))
        .with_state(shared)
}

fn control_error(status: StatusCode, message: String) -> Response {
    (status, Json(ControlError { error: message })).into_response()
}

async fn control_place_call(State(shared): State<Shared>, Json(body): Json<PlaceCall>) -> Response {
    match crate::call::place_inbound(&shared, &body.from, &body.to, body.person) {
        Ok(sid) => (StatusCode::CREATED, Json(Placed { sid })).into_response(),
        Err(e) => control_error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn control_events(
    State(shared): State<Shared>,
    Path(sid): Path<String>,
    Query(q): Query<EventsQuery>,
) -> Response {
    if shared.lock().call(&sid).is_none() {
        return control_error(StatusCode::NOT_FOUND, format!("no call {sid}"));
    }
    let wait = Duration::from_millis(q.wait_ms.min(60_000));
    shared
        .wait_until(wait, |s| {
            s.call(&sid)
                .filter(|c| c.events.len() > q.after || c.record.is_final())
                .map(|_| ())
        })
        .await;
    let state = shared.lock();
    let Some(slot) = state.call(&sid) else {
        return control_error(StatusCode::NOT_FOUND, format!("no call {sid}"));
    };
    Json(EventPage {
        events: slot.events.iter().skip(q.after).cloned().collect(),
        status: slot.record.status,
        ended: slot.record.is_final(),
        next: slot.events.len(),
    })
    .into_response()
}

/// Everything the person on `sid` has heard so far, as an 8 kHz 16-bit WAV.
async fn control_heard_wav(State(shared): State<Shared>, Path(sid): Path<String>) -> Response {
    let heard = {
        let state = shared.lock();
        let Some(slot) = state.call(&sid) else {
            return control_error(StatusCode::NOT_FOUND, format!("no call {sid}"));
        };
        slot.heard
            .clone()
            .map(|ear| ear.heard())
            .unwrap_or_default()
    };
    let mut pcm = Vec::with_capacity(heard.len());
    voice::mulaw::decode(&heard, &mut pcm);
    (
        [(axum::http::header::CONTENT_TYPE, "audio/wav")],
        voice::wav::wav_bytes(8000, &pcm),
    )
        .into_response()
}

async fn control_register_phone(
    State(shared): State<Shared>,
    Json(body): Json<RegisterPhone>,
) -> Response {
    shared
        .lock()
        .phones
        .insert(body.number.clone(), body.person);
    let registered = Registered {
        number: body.number,
    };
    (StatusCode::CREATED, Json(registered)).into_response()
}

async fn control_summary(State(shared): State<Shared>) -> Response {
    let state = shared.lock();
    let mut calls_by_status = std::collections::BTreeMap::new();
    for c in &state.calls {
        *calls_by_status
            .entry(c.record.status.to_string())
            .or_insert(0) += 1;
    }
    Json(Summary {
        calls: state.calls.len(),
        calls_by_status,
        conferences: state.conferences.len(),
        faults_injected: shared.faults().injected,
        messages: state.messages.len(),
        notifications: state.notifications.len(),
        numbers: state
            .numbers
            .iter()
            .map(|n| n.phone_number.clone())
            .collect(),
        phones: state.phones.keys().cloned().collect(),
    })
    .into_response()
}
