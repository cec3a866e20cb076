//! A tenant's phone numbers (bought from Twilio through the API, or seeded), the agent each
//! routes to, and the routing edge: which tenant and agent answer a dialled number.
//!
//! A released number keeps its row (`released_at`) for history and routes nowhere; the same
//! number may later be bought again, by anyone.

use crate::{
    Page, Store, StoreError,
    agents::{Agent, InboundRoute, ROUTE_TTL, find_active_agent, into_page},
    entities::{phone_numbers, tenants},
};
use chrono::{DateTime, Utc};
use domain::{AgentId, E164, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr, sea_query::Expr,
};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct PhoneNumber {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub e164: E164,
    pub agent_id: Option<AgentId>,
    /// Twilio's `PN…`; none for numbers seeded before numbers were bought through the API.
    pub twilio_sid: Option<String>,
    pub friendly_name: Option<String>,
    /// Twilio's `capabilities` object (`voice`, `sms`, …).
    pub capabilities: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
}

/// A number just bought from Twilio.
#[derive(Debug, Clone)]
pub struct NewPhoneNumber {
    pub e164: E164,
    pub twilio_sid: String,
    pub friendly_name: Option<String>,
    pub capabilities: Option<serde_json::Value>,
    pub agent_id: Option<AgentId>,
}

impl TryFrom<phone_numbers::Model> for PhoneNumber {
    type Error = StoreError;

    fn try_from(row: phone_numbers::Model) -> Result<Self, StoreError> {
        let e164 = E164::parse(&row.e164)
            .map_err(|_| StoreError::Corrupt(format!("phone_numbers.e164 of {}", row.id)))?;
        Ok(Self {
            id: row.id,
            tenant_id: row.tenant_id.into(),
            e164,
            agent_id: row.agent_id.map(AgentId::from),
            twilio_sid: row.twilio_sid,
            friendly_name: row.friendly_name,
            capabilities: row.capabilities,
            created_at: row.created_at,
            updated_at: row.updated_at,
            released_at: row.released_at,
        })
    }
}

const NOT_FOUND: StoreError = StoreError::NotFound {
    entity: "phone number",
};

/// The tenant's number `id`, released or not.
async fn find_number(
    db: &DatabaseTransaction,
    tenant: TenantId,
    id: Uuid,
) -> Result<PhoneNumber, StoreError> {
    phone_numbers::Entity::find_by_id(id)
        .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()))
        .one(db)
        .await?
        .ok_or(NOT_FOUND)?
        .try_into()
}

/// The tenant's number `e164`, if it has it and has not released it.
async fn find_live_number(
    db: &DatabaseTransaction,
    tenant: TenantId,
    e164: &E164,
) -> Result<Option<phone_numbers::Model>, StoreError> {
    Ok(phone_numbers::Entity::find()
        .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()))
        .filter(phone_numbers::Column::E164.eq(e164.as_str()))
        .filter(phone_numbers::Column::ReleasedAt.is_null())
        .one(db)
        .await?)
}

impl Store {
    /// Whether `e164` belongs to a tenant other than `tenant` (buying it would take it away).
    pub async fn number_taken_elsewhere(
        &self,
        tenant: TenantId,
        e164: &E164,
    ) -> Result<bool, StoreError> {
        Ok(self
            .number_tenant(e164.as_str())
            .await?
            .is_some_and(|t| t != tenant))
    }

    /// The tenant's numbers, newest first; released ones only when `include_released`.
    pub async fn list_phone_numbers(
        &self,
        tenant: TenantId,
        include_released: bool,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<PhoneNumber>, StoreError> {
        let mut query = phone_numbers::Entity::find()
            .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()));
        if !include_released {
            query = query.filter(phone_numbers::Column::ReleasedAt.is_null());
        }
        if let Some(cursor) = before {
            query = query.filter(phone_numbers::Column::Id.lt(cursor));
        }
        let txn = self.scoped(tenant).await?;
        let rows = query
            .order_by_desc(phone_numbers::Column::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        txn.commit().await?;
        into_page(rows, limit, |r| r.id, PhoneNumber::try_from)
    }

    pub async fn phone_number(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<PhoneNumber, StoreError> {
        let txn = self.scoped(tenant).await?;
        let number = find_number(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(number)
    }

    /// Records a number bought from Twilio. Recording it twice (a retried purchase) returns
    /// the first row; a number another tenant has is [`StoreError::Conflict`].
    pub async fn add_phone_number(
        &self,
        tenant: TenantId,
        new: NewPhoneNumber,
    ) -> Result<PhoneNumber, StoreError> {
        let txn = self.scoped(tenant).await?;
        if let Some(agent) = new.agent_id {
            find_active_agent(&txn, tenant, agent).await?;
        }
        if let Some(row) = find_live_number(&txn, tenant, &new.e164).await? {
            txn.commit().await?;
            return row.try_into();
        }
        let id = Uuid::now_v7();
        let now = Utc::now();
        let inserted = phone_numbers::Entity::insert(phone_numbers::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.as_uuid()),
            agent_id: Set(new.agent_id.map(|a| a.as_uuid())),
            e164: Set(new.e164.as_str().to_owned()),
            created_at: Set(now),
            twilio_sid: Set(Some(new.twilio_sid)),
            friendly_name: Set(new.friendly_name),
            capabilities: Set(new.capabilities),
            released_at: Set(None),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await;
        match inserted {
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(StoreError::Conflict("phone number"));
            }
            other => other?,
        };
        let number = find_number(&txn, tenant, id).await?;
        txn.commit().await?;
        self.forget_route(&number.e164);
        Ok(number)
    }

    /// Routes the tenant's number `id` to `agent` (an agent not archived), or to nobody:
    /// (before, after). A released number is not found.
    pub async fn assign_number(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: Option<AgentId>,
    ) -> Result<(PhoneNumber, PhoneNumber), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = Some(find_number(&txn, tenant, id).await?)
            .filter(|n| n.released_at.is_none())
            .ok_or(NOT_FOUND)?;
        if let Some(agent) = agent {
            find_active_agent(&txn, tenant, agent).await?;
        }
        phone_numbers::Entity::update_many()
            .col_expr(
                phone_numbers::Column::AgentId,
                Expr::value(agent.map(|a| a.as_uuid())),
            )
            .col_expr(phone_numbers::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(phone_numbers::Column::Id.eq(id))
            .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let after = find_number(&txn, tenant, id).await?;
        txn.commit().await?;
        self.forget_route(&after.e164);
        Ok((before, after))
    }

    /// Marks the tenant's number `id` released (Twilio no longer has it for us): it keeps its
    /// row and routes nowhere. (before, after); releasing twice is not found.
    pub async fn release_phone_number(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<(PhoneNumber, PhoneNumber), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = Some(find_number(&txn, tenant, id).await?)
            .filter(|n| n.released_at.is_none())
            .ok_or(NOT_FOUND)?;
        let now = Utc::now();
        phone_numbers::Entity::update_many()
            .col_expr(phone_numbers::Column::ReleasedAt, Expr::value(Some(now)))
            .col_expr(phone_numbers::Column::AgentId, Expr::value(None::<Uuid>))
            .col_expr(phone_numbers::Column::UpdatedAt, Expr::value(now))
            .filter(phone_numbers::Column::Id.eq(id))
            .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let after = find_number(&txn, tenant, id).await?;
        txn.commit().await?;
        self.forget_route(&after.e164);
        Ok((before, after))
    }

    /// Routes `number` to one of the tenant's agents, adding the number if the tenant does not
    /// have it (seeding: `switchboard dev` and tests, without Twilio).
    pub async fn assign_phone_number(
        &self,
        tenant: TenantId,
        number: &E164,
        agent: AgentId,
    ) -> Result<(), StoreError> {
        if self.number_taken_elsewhere(tenant, number).await? {
            return Err(NOT_FOUND);
        }
        let txn = self.scoped(tenant).await?;
        find_active_agent(&txn, tenant, agent).await?;
        let now = Utc::now();
        if let Some(row) = find_live_number(&txn, tenant, number).await? {
            phone_numbers::Entity::update_many()
                .col_expr(phone_numbers::Column::AgentId, Expr::value(agent.as_uuid()))
                .col_expr(phone_numbers::Column::UpdatedAt, Expr::value(now))
                .filter(phone_numbers::Column::Id.eq(row.id))
                .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()))
                .exec(&txn)
                .await?;
        } else {
            phone_numbers::Entity::insert(phone_numbers::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.as_uuid()),
                agent_id: Set(Some(agent.as_uuid())),
                e164: Set(number.as_str().to_owned()),
                created_at: Set(now),
                twilio_sid: Set(None),
                friendly_name: Set(None),
                capabilities: Set(None),
                released_at: Set(None),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        self.forget_route(number);
        Ok(())
    }

    /// Routing edge: the tenant and agent that answer calls to `number`, if any.
    /// A number with no agent, or released, routes nowhere. Answers are reused for
    /// [`ROUTE_TTL`]: a number changed by another process takes calls there at most that much
    /// later (this process forgets its answer at once).
    pub async fn route_inbound_number(
        &self,
        number: &E164,
    ) -> Result<Option<InboundRoute>, StoreError> {
        let now = std::time::Instant::now();
        if let Some((at, route)) = self.route_cache()?.get(number.as_str())
            && now.duration_since(*at) < ROUTE_TTL
        {
            return Ok(route.clone());
        }
        let route = self.load_inbound_route(number).await?;
        let mut cache = self.route_cache()?;
        cache.retain(|_, (at, _)| now.duration_since(*at) < ROUTE_TTL);
        cache.insert(number.as_str().to_owned(), (now, route.clone()));
        Ok(route)
    }

    fn route_cache(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, crate::agents::RouteCache>, StoreError> {
        self.routes
            .lock()
            .map_err(|_| StoreError::Corrupt("route cache poisoned".into()))
    }

    fn forget_route(&self, number: &E164) {
        if let Ok(mut cache) = self.routes.lock() {
            cache.remove(number.as_str());
        }
    }

    /// Forgets every cached route (an agent's numbers were all unassigned).
    pub(crate) fn forget_routes(&self) {
        if let Ok(mut cache) = self.routes.lock() {
            cache.clear();
        }
    }

    async fn load_inbound_route(&self, number: &E164) -> Result<Option<InboundRoute>, StoreError> {
        let Some(tenant) = self.number_tenant(number.as_str()).await? else {
            return Ok(None);
        };
        let txn = self.scoped(tenant).await?;
        let Some(agent_id) = find_live_number(&txn, tenant, number)
            .await?
            .and_then(|row| row.agent_id)
        else {
            txn.commit().await?;
            return Ok(None);
        };
        let tenant_row = tenants::Entity::find_by_id(tenant.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::Corrupt(
                "phone number of a missing tenant".into(),
            ))?;
        let agent: Agent = find_active_agent(&txn, tenant, agent_id.into()).await?;
        txn.commit().await?;
        let tenant = crate::tenants::Tenant::try_from(tenant_row)?;
        Ok(Some(InboundRoute {
            tenant_id: tenant.id,
            tenant_name: tenant.name,
            tenant_status: tenant.status,
            agent,
        }))
    }
}
