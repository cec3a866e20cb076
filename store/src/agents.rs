//! Agents: who answers a tenant's calls, with what engine, greeting and instructions.
//!
//! An agent is archived, never deleted: calls keep referencing it. Archiving unassigns its
//! numbers. Routing a number to an agent is in [`crate::numbers`].

use crate::{
    Page, Store, StoreError,
    entities::{agents, phone_numbers},
};
use chrono::{DateTime, Utc};
use domain::{AgentId, AgentSettings, TenantId, workflow_io::DEFAULT_MAX_CALL_DURATION_SECS};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

/// The language an agent speaks when none is given.
pub const DEFAULT_LANGUAGE: &str = "en-US";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    pub tenant_id: TenantId,
    pub name: String,
    pub greeting: String,
    pub instructions: String,
    /// Which voice engine serves this agent's calls (`offline`, `openai_realtime`, …).
    pub engine: String,
    /// The engine's own keys plus the platform's ([`AgentSettings`]: `voice`,
    /// `voicemail_message`, `followup_sms`, `llm_model`).
    pub engine_settings: serde_json::Value,
    pub max_call_duration_secs: u32,
    /// BCP 47 tag (`en-US`).
    pub language: String,
    /// Whether its calls are recorded (and the caller told so first).
    pub record_calls: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub greeting: String,
    pub instructions: String,
    pub engine: String,
    pub engine_settings: serde_json::Value,
    pub max_call_duration_secs: Option<u32>,
    /// [`DEFAULT_LANGUAGE`] when `None`.
    pub language: Option<String>,
    /// On when `None`.
    pub record_calls: Option<bool>,
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentChanges {
    pub name: Option<String>,
    pub greeting: Option<String>,
    pub instructions: Option<String>,
    pub engine: Option<String>,
    /// Replaces the whole settings object.
    pub engine_settings: Option<serde_json::Value>,
    pub max_call_duration_secs: Option<u32>,
    pub language: Option<String>,
    pub record_calls: Option<bool>,
}

/// How long [`Store::route_inbound_number`] reuses an answer.
pub const ROUTE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Number → (when it was looked up, where it routes).
pub(crate) type RouteCache =
    std::collections::HashMap<String, (std::time::Instant, Option<InboundRoute>)>;

/// Where an inbound call to a number goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRoute {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    /// As of the route's lookup: [`Store::set_tenant_status`] forgets this node's cached
    /// routes, other nodes see a change within [`ROUTE_TTL`].
    pub tenant_status: domain::TenantStatus,
    pub agent: Agent,
}

impl Agent {
    /// The settings the platform reads from [`Agent::engine_settings`].
    pub fn settings(&self) -> AgentSettings {
        AgentSettings::from_json(&self.engine_settings)
    }
}

impl From<agents::Model> for Agent {
    fn from(row: agents::Model) -> Self {
        Self {
            id: row.id.into(),
            tenant_id: row.tenant_id.into(),
            name: row.name,
            greeting: row.greeting,
            instructions: row.instructions,
            engine: row.engine,
            engine_settings: row.engine_settings,
            max_call_duration_secs: u32::try_from(row.max_call_duration_secs)
                .unwrap_or(DEFAULT_MAX_CALL_DURATION_SECS),
            language: row.language,
            record_calls: row.record_calls,
            archived_at: row.archived_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn duration_column(secs: u32) -> i32 {
    i32::try_from(secs).unwrap_or(i32::MAX)
}

/// The first `limit` of `rows` (fetched as `limit + 1`, newest first) and the cursor of the
/// next page, if there is one.
pub(crate) fn into_page<R, T>(
    mut rows: Vec<R>,
    limit: u64,
    id: impl Fn(&R) -> Uuid,
    convert: impl FnMut(R) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if has_more { rows.last().map(id) } else { None };
    Ok(Page {
        items: rows.into_iter().map(convert).collect::<Result<_, _>>()?,
        next_cursor,
    })
}

/// The tenant's agent `id`, archived or not.
pub(crate) async fn find_agent(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: AgentId,
) -> Result<Agent, StoreError> {
    agents::Entity::find_by_id(id.as_uuid())
        .filter(agents::Column::TenantId.eq(tenant.as_uuid()))
        .one(db)
        .await?
        .map(Agent::from)
        .ok_or(StoreError::NotFound { entity: "agent" })
}

/// The tenant's agent `id`, if it is not archived.
pub(crate) async fn find_active_agent(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: AgentId,
) -> Result<Agent, StoreError> {
    Some(find_agent(db, tenant, id).await?)
        .filter(|a| a.archived_at.is_none())
        .ok_or(StoreError::NotFound { entity: "agent" })
}

impl Store {
    pub async fn create_agent(&self, tenant: TenantId, new: NewAgent) -> Result<Agent, StoreError> {
        self.create_agent_with_id(tenant, AgentId::new(), new).await
    }

    /// Creates agent `id`; when it exists already (a retried step), returns it unchanged.
    pub async fn create_agent_with_id(
        &self,
        tenant: TenantId,
        id: AgentId,
        new: NewAgent,
    ) -> Result<Agent, StoreError> {
        let now = Utc::now();
        let max = new
            .max_call_duration_secs
            .unwrap_or(DEFAULT_MAX_CALL_DURATION_SECS);
        let row = agents::ActiveModel {
            id: Set(id.as_uuid()),
            tenant_id: Set(tenant.as_uuid()),
            name: Set(new.name),
            greeting: Set(new.greeting),
            instructions: Set(new.instructions),
            engine: Set(new.engine),
            engine_settings: Set(new.engine_settings),
            max_call_duration_secs: Set(duration_column(max)),
            language: Set(new.language.unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned())),
            record_calls: Set(new.record_calls.unwrap_or(true)),
            archived_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = self.scoped(tenant).await?;
        agents::Entity::insert(row)
            .on_conflict_do_nothing_on([agents::Column::Id])
            .exec_without_returning(&txn)
            .await?;
        let agent = find_agent(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(agent)
    }

    /// The tenant's agent `id`, archived or not (calls keep referencing archived agents).
    pub async fn agent(&self, tenant: TenantId, id: AgentId) -> Result<Agent, StoreError> {
        let txn = self.scoped(tenant).await?;
        let agent = find_agent(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(agent)
    }

    /// The tenant's agents that are not archived, newest first, `before` the cursor if given.
    pub async fn list_agents(
        &self,
        tenant: TenantId,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<Agent>, StoreError> {
        let mut query = agents::Entity::find()
            .filter(agents::Column::TenantId.eq(tenant.as_uuid()))
            .filter(agents::Column::ArchivedAt.is_null());
        if let Some(cursor) = before {
            query = query.filter(agents::Column::Id.lt(cursor));
        }
        let txn = self.scoped(tenant).await?;
        let rows = query
            .order_by_desc(agents::Column::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        txn.commit().await?;
        into_page(rows, limit, |r| r.id, |r| Ok(Agent::from(r)))
    }

    /// Applies `changes` to an agent that is not archived: (before, after).
    pub async fn update_agent(
        &self,
        tenant: TenantId,
        id: AgentId,
        changes: AgentChanges,
    ) -> Result<(Agent, Agent), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = find_active_agent(&txn, tenant, id).await?;
        let row = agents::ActiveModel {
            name: changes.name.map_or(Default::default(), Set),
            greeting: changes.greeting.map_or(Default::default(), Set),
            instructions: changes.instructions.map_or(Default::default(), Set),
            engine: changes.engine.map_or(Default::default(), Set),
            engine_settings: changes.engine_settings.map_or(Default::default(), Set),
            max_call_duration_secs: changes
                .max_call_duration_secs
                .map_or(Default::default(), |s| Set(duration_column(s))),
            language: changes.language.map_or(Default::default(), Set),
            record_calls: changes.record_calls.map_or(Default::default(), Set),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        agents::Entity::update_many()
            .set(row)
            .filter(agents::Column::Id.eq(id.as_uuid()))
            .filter(agents::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let after = find_agent(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok((before, after))
    }

    /// Archives an agent and unassigns its numbers, which then route nowhere: (before, after).
    pub async fn archive_agent(
        &self,
        tenant: TenantId,
        id: AgentId,
    ) -> Result<(Agent, Agent), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = find_active_agent(&txn, tenant, id).await?;
        let now = Utc::now();
        agents::Entity::update_many()
            .col_expr(agents::Column::ArchivedAt, Expr::value(Some(now)))
            .col_expr(agents::Column::UpdatedAt, Expr::value(now))
            .filter(agents::Column::Id.eq(id.as_uuid()))
            .filter(agents::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        phone_numbers::Entity::update_many()
            .col_expr(phone_numbers::Column::AgentId, Expr::value(None::<Uuid>))
            .col_expr(phone_numbers::Column::UpdatedAt, Expr::value(now))
            .filter(phone_numbers::Column::AgentId.eq(id.as_uuid()))
            .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let after = find_agent(&txn, tenant, id).await?;
        txn.commit().await?;
        self.forget_routes();
        Ok((before, after))
    }
}
