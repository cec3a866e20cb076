//! Agents and the phone numbers that route callers to them.

use crate::{
    Store, StoreError,
    entities::{agents, phone_numbers, tenants},
};
use chrono::Utc;
use domain::{AgentId, AgentSettings, E164, TenantId, workflow_io::DEFAULT_MAX_CALL_DURATION_SECS};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    pub tenant_id: TenantId,
    pub name: String,
    pub greeting: String,
    pub instructions: String,
    /// Which voice engine serves this agent's calls (`offline`, `openai_realtime`, …).
    pub engine: String,
    pub engine_settings: serde_json::Value,
    pub max_call_duration_secs: u32,
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub greeting: String,
    pub instructions: String,
    pub engine: String,
    pub engine_settings: serde_json::Value,
    pub max_call_duration_secs: Option<u32>,
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
        }
    }
}

impl Store {
    pub async fn create_agent(&self, tenant: TenantId, new: NewAgent) -> Result<Agent, StoreError> {
        let id = AgentId::new();
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
            max_call_duration_secs: Set(i32::try_from(max).unwrap_or(i32::MAX)),
            created_at: Set(now),
            updated_at: Set(now),
        };
        agents::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        self.agent(tenant, id).await
    }

    pub async fn agent(&self, tenant: TenantId, id: AgentId) -> Result<Agent, StoreError> {
        agents::Entity::find_by_id(id.as_uuid())
            .filter(agents::Column::TenantId.eq(tenant.as_uuid()))
            .one(&self.db)
            .await?
            .map(Agent::from)
            .ok_or(StoreError::NotFound { entity: "agent" })
    }

    /// Routes `number` to one of the tenant's agents (replacing any earlier routing of it).
    pub async fn assign_phone_number(
        &self,
        tenant: TenantId,
        number: &E164,
        agent: AgentId,
    ) -> Result<(), StoreError> {
        self.agent(tenant, agent).await?;
        let existing = phone_numbers::Entity::find()
            .filter(phone_numbers::Column::E164.eq(number.as_str()))
            .one(&self.db)
            .await?;
        if let Some(row) = existing {
            if row.tenant_id != tenant.as_uuid() {
                return Err(StoreError::NotFound {
                    entity: "phone number",
                });
            }
            phone_numbers::Entity::update_many()
                .set(phone_numbers::ActiveModel {
                    agent_id: Set(Some(agent.as_uuid())),
                    ..Default::default()
                })
                .filter(phone_numbers::Column::Id.eq(row.id))
                .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()))
                .exec(&self.db)
                .await?;
            return Ok(());
        }
        phone_numbers::Entity::insert(phone_numbers::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            agent_id: Set(Some(agent.as_uuid())),
            e164: Set(number.as_str().to_owned()),
            created_at: Set(Utc::now()),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Routing edge: the tenant and agent that answer calls to `number`, if any.
    /// A number with no agent routes nowhere. Answers are reused for [`ROUTE_TTL`]: a number
    /// moved to another agent takes calls there at most that much later.
    pub async fn route_inbound_number(
        &self,
        number: &E164,
    ) -> Result<Option<InboundRoute>, StoreError> {
        let now = std::time::Instant::now();
        if let Some((at, route)) = self
            .routes
            .lock()
            .map_err(|_| StoreError::Corrupt("route cache poisoned".into()))?
            .get(number.as_str())
            && now.duration_since(*at) < ROUTE_TTL
        {
            return Ok(route.clone());
        }
        let route = self.load_inbound_route(number).await?;
        let mut cache = self
            .routes
            .lock()
            .map_err(|_| StoreError::Corrupt("route cache poisoned".into()))?;
        cache.retain(|_, (at, _)| now.duration_since(*at) < ROUTE_TTL);
        cache.insert(number.as_str().to_owned(), (now, route.clone()));
        Ok(route)
    }

    async fn load_inbound_route(&self, number: &E164) -> Result<Option<InboundRoute>, StoreError> {
        let Some(row) = phone_numbers::Entity::find()
            .filter(phone_numbers::Column::E164.eq(number.as_str()))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(agent_id) = row.agent_id else {
            return Ok(None);
        };
        let tenant_id: TenantId = row.tenant_id.into();
        let tenant = tenants::Entity::find_by_id(row.tenant_id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::Corrupt(
                "phone number of a missing tenant".into(),
            ))?;
        let agent = self.agent(tenant_id, agent_id.into()).await?;
        Ok(Some(InboundRoute {
            tenant_id,
            tenant_name: tenant.name,
            agent,
        }))
    }
}
