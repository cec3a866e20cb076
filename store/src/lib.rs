//! Persistence. sea-orm over PostgreSQL or SQLite (the same code for both).
//!
//! - [`entities`]: one sea-orm entity per table.
//! - [`tenants`]: tenants and API keys (only a SHA-256 hash and a display prefix are stored).
//! - [`agents`]: agents and the phone numbers routed to them.
//! - [`audit`]: the audit log of every mutation.
//! - [`calls`]: call rows, transcripts and per-call metrics.
//! - [`knowledge`]: the tenant knowledge base and its keyword search.
//! - [`messages`]: messages agents take for people at the business.
//!
//! Every query on tenant-owned data takes a [`domain::TenantId`]. The two lookups that *find* a tenant
//! (by API key, by dialled number) are the authentication and routing edges and say so.

pub mod agents;
pub mod audit;
pub mod calls;
pub mod entities;
pub mod knowledge;
pub mod messages;
pub mod numbers;
pub mod tenants;

pub use agents::{Agent, AgentChanges, InboundRoute, NewAgent};
pub use audit::{AuditRecord, NewAuditEntry};
pub use calls::{CallCounts, CallPage, CallRecord, FinishedCall, NewCall};
pub use knowledge::{KnowledgeChanges, KnowledgeEntry, NewKnowledge};
pub use messages::MessageRecord;
pub use numbers::{NewPhoneNumber, PhoneNumber};
pub use tenants::{ApiKeyCreated, AuthenticatedKey, Tenant};

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, Statement, TransactionTrait,
};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// A uniqueness rule refused the write (`slug`, `email`, `phone number` …).
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// One page of a list, newest first. `next_cursor` (the last item's id) asks for the next page;
/// `None` means this was the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<uuid::Uuid>,
}

/// A handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Recent answers of [`Store::route_inbound_number`]: a burst of calls to one number
    /// (a campaign's callbacks, a radio ad) asks the same question hundreds of times, and
    /// Twilio waits only 15 s for the voice webhook.
    routes: std::sync::Arc<std::sync::Mutex<agents::RouteCache>>,
}

impl Store {
    /// Connects to `postgres://…` or `sqlite://path?mode=rwc`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            // One SQLite connection: with four, writers waiting for the file's write lock held
            // their pool connections and fifty simultaneous calls timed the pool out far more.
            .max_connections(if url.starts_with("sqlite") { 1 } else { 20 })
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            // Every SQLite connection, not just the first: WAL (readers never wait for the
            // writer), one writer at a time waiting up to 5 s for the lock instead of failing,
            // and `synchronous=NORMAL`, which WAL makes safe against corruption and which does
            // not fsync on every commit: with an fsync per commit, fifty simultaneous calls held
            // the write lock long enough to time the pool out under the webhooks.
            .map_sqlx_sqlite_opts(|o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
            });
        let db = Database::connect(options).await?;
        Ok(Self {
            db,
            routes: Default::default(),
        })
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn migrate_up(&self) -> Result<(), StoreError> {
        Ok(Migrator::up(&self.db, None).await?)
    }

    /// A transaction in which the database shows and accepts only `tenant`'s rows. On
    /// PostgreSQL it sets `app.current_tenant_id` with `SET LOCAL` semantics (`set_config(…,
    /// true)`), which the row-level security policies read; on SQLite the queries' own tenant
    /// filters are the scoping. Every query on tenant-owned data runs in one of these.
    pub async fn scoped(
        &self,
        tenant: domain::TenantId,
    ) -> Result<DatabaseTransaction, StoreError> {
        let txn = self.db.begin().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT set_config('app.current_tenant_id', $1, true)",
                [tenant.to_string().into()],
            ))
            .await?;
        }
        Ok(txn)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }
}
