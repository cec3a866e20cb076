//! Persistence. sea-orm over PostgreSQL or SQLite (the same code for both).
//!
//! - [`entities`]: one sea-orm entity per table.
//! - [`tenants`]: tenants: slug, time zone, settings, status, usage.
//! - [`api_keys`]: API keys and their roles (only a SHA-256 hash and a display prefix are stored).
//! - [`users`]: console users, their roles and logins.
//! - [`refresh_tokens`]: refresh-token families (rotation, reuse detection).
//! - [`edge`]: the lookups that find a tenant from a credential.
//! - [`agents`]: agents and the phone numbers routed to them.
//! - [`audit`]: the audit log of every mutation.
//! - [`calls`]: call rows, transcripts and per-call metrics.
//! - [`crm`]: the dealership CRM (branches, customers, vehicles, jobs, scripts, appointments,
//!   the do-not-call list, QA reviews, campaigns and targets) on one generic set of tenant-scoped
//!   operations, and the owner's views.
//! - [`directory`]: the receptionist's directory: departments, employees, company info, and
//!   the one-snapshot [`Store::directory`] calls route by.
//! - [`knowledge`]: the tenant knowledge base and its keyword search.
//! - [`messages`]: messages agents take for people at the business.
//! - [`post_call`]: a finished call's analysis and what it sets off (do-not-call, booking,
//!   review), and calls recorded from other platforms' post-call webhooks.
//! - [`overview`]: the dashboard's counts over a tenant's calls, and the review queue.
//! - [`integrations`]: secrets of the platforms that call us (ElevenLabs' webhook secret).
//! - [`deliveries`]: each channel's delivery of a message, the tenant's message webhook, the
//!   number a message's SMS is sent from.
//! - [`recordings`]: where each call's recording is, and the purge past a tenant's retention;
//!   [`recording_objects`]: the recordings' bytes, in a directory or an S3-compatible bucket.
//! - [`events`]: the delivery log of events sent to the tenant's webhook (`call.analyzed`):
//!   created once per subject, each attempt's outcome recorded.
//!
//! Every query on tenant-owned data takes a [`domain::TenantId`] and runs in [`Store::scoped`]
//! (on PostgreSQL, row-level security then shows only that tenant's rows). The lookups that
//! *find* a tenant (by API key, dialled number, refresh token, login email, slug) are the edges,
//! in [`edge`].

pub mod agent_builds;
pub mod agents;
pub mod api_keys;
pub mod audit;
pub mod call_insights;
pub mod calls;
pub mod crm;
pub mod deliveries;
pub mod directory;
pub mod edge;
pub mod entities;
pub mod events;
pub mod integrations;
pub mod knowledge;
pub mod live;
pub mod messages;
pub mod numbers;
pub mod overview;
pub mod post_call;
pub mod recording_objects;
pub mod recordings;
pub mod refresh_tokens;
pub mod tenants;
pub mod transfers;
pub mod users;

pub use agents::{Agent, AgentChanges, InboundRoute, NewAgent};
pub use api_keys::{ApiKeyCreated, ApiKeyInfo, AuthenticatedKey};
pub use audit::{AuditRecord, NewAuditEntry};
pub use calls::{CallCounts, CallFilter, CallPage, CallRecord, FinishedCall, NewCall};
pub use deliveries::{DeliveryRecord, DeliveryUpdate, TenantWebhook};
pub use directory::{
    DepartmentChanges, EmployeeChanges, EmployeeFilter, NewDepartment, NewEmployee,
};
pub use events::{EventAttempt, EventFilter, EventRecord};
pub use knowledge::{KnowledgeChanges, KnowledgeEntry, NewKnowledge};
pub use live::LiveSegment;
pub use messages::MessageRecord;
pub use numbers::{NewPhoneNumber, PhoneNumber};
pub use recording_objects::{ObjectsError, RecordingObjects, S3Settings};
pub use recordings::{ExpiredRecordings, NewRecording, RecordingRecord, recording_key};
pub use refresh_tokens::RefreshUse;
pub use tenants::{NewTenant, Tenant, TenantUpdate, TenantUsage};
pub use transfers::TransferRow;
pub use users::{NewUser, User, UserUpdate};

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
    /// A write named another row (`branch_id`) that is not one of the tenant's.
    #[error("`{field}` is not one of this tenant's {entity}s")]
    UnknownReference {
        field: &'static str,
        entity: &'static str,
    },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// A unique violation is the named conflict; anything else stays a database error.
pub(crate) fn conflict_on_unique(e: sea_orm::DbErr, what: &'static str) -> StoreError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(what),
        _ => StoreError::Db(e),
    }
}

/// Where a [`Store::scoped_one`] statement runs.
pub(crate) enum Scope<'a> {
    Txn(DatabaseTransaction),
    Conn(&'a DatabaseConnection),
}

impl Scope<'_> {
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Scope::Txn(txn) => txn.commit().await,
            Scope::Conn(_) => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Scope<'_> {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Scope::Txn(t) => t.get_database_backend(),
            Scope::Conn(c) => c.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<sea_orm::ExecResult, DbErr> {
        match self {
            Scope::Txn(t) => t.execute_raw(stmt).await,
            Scope::Conn(c) => c.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        match self {
            Scope::Txn(t) => t.execute_unprepared(sql).await,
            Scope::Conn(c) => c.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        match self {
            Scope::Txn(t) => t.query_one_raw(stmt).await,
            Scope::Conn(c) => c.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        match self {
            Scope::Txn(t) => t.query_all_raw(stmt).await,
            Scope::Conn(c) => c.query_all_raw(stmt).await,
        }
    }
}

/// One page of a list, newest first. `next_cursor` (the last item's id) asks for the next page;
/// `None` means this was the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<uuid::Uuid>,
}

impl<T> Page<T> {
    /// The page of `limit` items from `rows`, fetched with `limit + 1` to learn whether more
    /// follow.
    pub(crate) fn from_rows<R>(
        mut rows: Vec<R>,
        limit: u64,
        id: impl Fn(&R) -> uuid::Uuid,
        convert: impl FnMut(R) -> Result<T, StoreError>,
    ) -> Result<Self, StoreError> {
        let has_more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if has_more { rows.last().map(id) } else { None };
        Ok(Self {
            items: rows.into_iter().map(convert).collect::<Result<_, _>>()?,
            next_cursor,
        })
    }
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

    /// Whether PostgreSQL's row-level security applies to the connected role: not a superuser,
    /// not `BYPASSRLS`, not (a member of) the owner of the tables. `None` on SQLite.
    pub async fn row_level_security(&self) -> Result<Option<bool>, StoreError> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT NOT r.rolsuper AND NOT r.rolbypassrls \
                   AND NOT pg_has_role(current_user, c.relowner, 'USAGE') AS applies \
                 FROM pg_roles r, pg_class c \
                 WHERE r.rolname = current_user AND c.oid = 'public.tenants'::regclass",
            ))
            .await?
            .ok_or_else(|| StoreError::Corrupt("no role or no tenants table".into()))?;
        Ok(Some(row.try_get("", "applies")?))
    }

    /// Like [`Store::scoped`], for one statement (or reads that need not be atomic): on SQLite
    /// the connection itself, not a transaction, so the single SQLite connection is held for one
    /// statement, not across a `BEGIN … COMMIT` round trip.
    pub(crate) async fn scoped_one(
        &self,
        tenant: domain::TenantId,
    ) -> Result<Scope<'_>, StoreError> {
        Ok(match self.db.get_database_backend() {
            DbBackend::Postgres => Scope::Txn(self.scoped(tenant).await?),
            _ => Scope::Conn(&self.db),
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }
}
