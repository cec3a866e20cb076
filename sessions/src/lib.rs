//! Live call sessions: what an API node needs to know about a call while its media stream
//! runs. Any API node may take the stream, so in production they live in Redis.
//!
//! Used by the worker's activities (`open_session` / `close_session`) and by the API (the voice
//! webhook opens the session early, the media stream reads it). It sits below both so the API
//! does not link the activities.
//!
//! - [`SessionStore`]: the interface; [`CallSession`]: the record.
//! - [`RedisSessionStore`]: production; [`InProcessSessionStore`]: `switchboard dev`.

use async_trait::async_trait;
use domain::{AgentId, CallSid, Secret, TenantId};
use serde::{Deserialize, Serialize};
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSession {
    pub tenant_id: TenantId,
    pub call_sid: CallSid,
    pub agent_id: AgentId,
    pub workflow_id: String,
    /// A campaign's call: the script the bridge gives the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<domain::workflow_io::CampaignCall>,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("stored session is not valid JSON: {0}")]
    Corrupt(#[from] serde_json::Error),
}

#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    /// Opens (or refreshes) a session that expires after `ttl`.
    async fn open(&self, session: &CallSession, ttl: Duration) -> Result<(), SessionError>;
    async fn get(&self, call_sid: &CallSid) -> Result<Option<CallSession>, SessionError>;
    async fn close(&self, call_sid: &CallSid) -> Result<(), SessionError>;
    /// Whether the store is reachable (for `/readyz`).
    async fn ping(&self) -> Result<(), SessionError>;
}

/// Sessions in this process's memory: the embedded default for `switchboard dev`, where the
/// API and the worker share one process.
#[derive(Debug, Default)]
pub struct InProcessSessionStore {
    sessions: Mutex<HashMap<String, (CallSession, Instant)>>,
}

impl InProcessSessionStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SessionStore for InProcessSessionStore {
    async fn open(&self, session: &CallSession, ttl: Duration) -> Result<(), SessionError> {
        let mut sessions = self.sessions.lock().expect("session map poisoned");
        let now = Instant::now();
        sessions.retain(|_, (_, expires)| *expires > now);
        sessions.insert(session.call_sid.to_string(), (session.clone(), now + ttl));
        Ok(())
    }

    async fn get(&self, call_sid: &CallSid) -> Result<Option<CallSession>, SessionError> {
        let sessions = self.sessions.lock().expect("session map poisoned");
        Ok(sessions
            .get(call_sid.as_str())
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(s, _)| s.clone()))
    }

    async fn close(&self, call_sid: &CallSid) -> Result<(), SessionError> {
        self.sessions
            .lock()
            .expect("session map poisoned")
            .remove(call_sid.as_str());
        Ok(())
    }

    async fn ping(&self) -> Result<(), SessionError> {
        Ok(())
    }
}

/// Sessions in Redis, one JSON value per call with a TTL, under `switchboard:session:{sid}`.
#[derive(Clone, Debug)]
pub struct RedisSessionStore {
    /// Kept out of `Debug`: the connection knows the Redis URL, password included.
    connection: Secret<redis::aio::ConnectionManager>,
}

fn session_key(call_sid: &CallSid) -> String {
    format!("switchboard:session:{call_sid}")
}

impl RedisSessionStore {
    pub async fn connect(url: &str) -> Result<Self, SessionError> {
        let client = redis::Client::open(url)?;
        let connection = redis::aio::ConnectionManager::new(client).await?;
        Ok(Self {
            connection: Secret::new(connection),
        })
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn open(&self, session: &CallSession, ttl: Duration) -> Result<(), SessionError> {
        let value = serde_json::to_string(session)?;
        let mut conn = self.connection.expose().clone();
        redis::cmd("SET")
            .arg(session_key(&session.call_sid))
            .arg(value)
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn get(&self, call_sid: &CallSid) -> Result<Option<CallSession>, SessionError> {
        let mut conn = self.connection.expose().clone();
        let value: Option<String> = redis::cmd("GET")
            .arg(session_key(call_sid))
            .query_async(&mut conn)
            .await?;
        Ok(value.map(|v| serde_json::from_str(&v)).transpose()?)
    }

    async fn close(&self, call_sid: &CallSid) -> Result<(), SessionError> {
        let mut conn = self.connection.expose().clone();
        redis::cmd("DEL")
            .arg(session_key(call_sid))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), SessionError> {
        let mut conn = self.connection.expose().clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> CallSession {
        CallSession {
            tenant_id: TenantId::new(),
            call_sid: CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
            agent_id: AgentId::new(),
            workflow_id: "call-CA0123456789abcdef0123456789abcdef".into(),
            campaign: None,
        }
    }

    #[tokio::test]
    async fn in_process_sessions_open_read_close_and_expire() {
        let store = InProcessSessionStore::new();
        let s = session();
        store.open(&s, Duration::from_secs(60)).await.unwrap();
        assert_eq!(store.get(&s.call_sid).await.unwrap(), Some(s.clone()));
        store.close(&s.call_sid).await.unwrap();
        assert_eq!(store.get(&s.call_sid).await.unwrap(), None);
        store.open(&s, Duration::ZERO).await.unwrap();
        assert_eq!(
            store.get(&s.call_sid).await.unwrap(),
            None,
            "expired sessions are gone"
        );
    }
}
