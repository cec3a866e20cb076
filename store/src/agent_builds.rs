//! Agent builds (`agent_builds`), their step events (`agent_build_events`) and the pages their
//! crawls fetched (`crawled_pages`).
//!
//! Events are the progress stream's source: any API node reads them (and follows new ones by
//! id), so no node needs the worker's memory. Pages are kept per build so that a crawl resumed
//! by a retried activity does not fetch them again.

use crate::{
    Store, StoreError,
    entities::{agent_build_events as ev, agent_builds as ab, crawled_pages as cp},
};
use chrono::{DateTime, Utc};
use domain::{
    AgentId, TenantId,
    site::{BuildKind, BuildState, BuildStep, ExtractedKnowledge, Page, StepPhase},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;

/// Events returned per read of the progress stream.
const EVENTS_PER_READ: u64 = 500;

/// What a build was asked to do.
#[derive(Debug, Clone)]
pub struct NewAgentBuild {
    pub id: Uuid,
    pub agent_id: AgentId,
    pub kind: BuildKind,
    pub url: String,
    pub name: Option<String>,
    pub area_code: Option<String>,
    pub engine: Option<String>,
    pub max_pages: u32,
}

/// One build or re-sync.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentBuild {
    pub id: Uuid,
    pub agent_id: AgentId,
    pub kind: BuildKind,
    pub url: String,
    pub name: Option<String>,
    pub area_code: Option<String>,
    pub engine: Option<String>,
    pub max_pages: u32,
    pub state: BuildState,
    /// The step running now, or the one that failed.
    pub step: Option<BuildStep>,
    pub error: Option<String>,
    /// `offline` or `llm`.
    pub extractor: Option<String>,
    pub knowledge: Option<ExtractedKnowledge>,
    /// The number the provision step picked (before buying it).
    pub chosen_number: Option<String>,
    /// Twilio's SID of the number bought (`PN…`).
    pub number_sid: Option<String>,
    pub phone_number_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A step's start, finish or failure.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildEvent {
    pub id: Uuid,
    pub step: BuildStep,
    pub phase: StepPhase,
    pub detail: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

/// Fields a step sets on its build; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct BuildChange {
    pub state: Option<BuildState>,
    pub step: Option<BuildStep>,
    pub error: Option<String>,
    pub extractor: Option<String>,
    pub knowledge: Option<ExtractedKnowledge>,
    pub number_sid: Option<String>,
    pub phone_number_id: Option<Uuid>,
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("agent_builds.{what} `{v}`"))
}

impl TryFrom<ab::Model> for AgentBuild {
    type Error = StoreError;

    fn try_from(row: ab::Model) -> Result<Self, StoreError> {
        let step = match &row.step {
            Some(s) => Some(BuildStep::parse(s).ok_or_else(|| corrupt("step", s))?),
            None => None,
        };
        let knowledge = match &row.knowledge {
            Some(json) => {
                Some(serde_json::from_str(json).map_err(|e| corrupt("knowledge", &e.to_string()))?)
            }
            None => None,
        };
        Ok(Self {
            kind: BuildKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
            state: BuildState::parse(&row.state).ok_or_else(|| corrupt("state", &row.state))?,
            step,
            knowledge,
            id: row.id,
            agent_id: row.agent_id.into(),
            url: row.url,
            name: row.name,
            area_code: row.area_code,
            engine: row.engine,
            max_pages: u32::try_from(row.max_pages).unwrap_or(0),
            error: row.error,
            extractor: row.extractor,
            chosen_number: row.chosen_number,
            number_sid: row.number_sid,
            phone_number_id: row.phone_number_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
        })
    }
}

impl TryFrom<ev::Model> for BuildEvent {
    type Error = StoreError;

    fn try_from(row: ev::Model) -> Result<Self, StoreError> {
        let bad =
            |what: &str, v: &str| StoreError::Corrupt(format!("agent_build_events.{what} `{v}`"));
        Ok(Self {
            id: row.id,
            step: BuildStep::parse(&row.step).ok_or_else(|| bad("step", &row.step))?,
            phase: StepPhase::parse(&row.phase).ok_or_else(|| bad("phase", &row.phase))?,
            detail: row
                .detail
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| bad("detail", &e.to_string()))?,
            at: row.at,
        })
    }
}

const NOT_FOUND: StoreError = StoreError::NotFound {
    entity: "agent build",
};

impl Store {
    /// Records a new build, `running`.
    pub async fn create_agent_build(
        &self,
        tenant: TenantId,
        new: NewAgentBuild,
    ) -> Result<AgentBuild, StoreError> {
        let now = Utc::now();
        let txn = self.scoped(tenant).await?;
        ab::Entity::insert(ab::ActiveModel {
            id: Set(new.id),
            tenant_id: Set(tenant.as_uuid()),
            agent_id: Set(new.agent_id.as_uuid()),
            kind: Set(new.kind.as_str().to_owned()),
            url: Set(new.url),
            name: Set(new.name),
            area_code: Set(new.area_code),
            engine: Set(new.engine),
            max_pages: Set(i32::try_from(new.max_pages).unwrap_or(i32::MAX)),
            state: Set(BuildState::Running.as_str().to_owned()),
            step: Set(None),
            error: Set(None),
            extractor: Set(None),
            knowledge: Set(None),
            chosen_number: Set(None),
            number_sid: Set(None),
            phone_number_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            finished_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        self.agent_build(tenant, new.id).await
    }

    pub async fn agent_build(&self, tenant: TenantId, id: Uuid) -> Result<AgentBuild, StoreError> {
        let txn = self.scoped(tenant).await?;
        let row = ab::Entity::find_by_id(id)
            .filter(ab::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?;
        txn.commit().await?;
        row.ok_or(NOT_FOUND)?.try_into()
    }

    /// The agent's builds and re-syncs, newest first.
    pub async fn agent_builds_of(
        &self,
        tenant: TenantId,
        agent: AgentId,
    ) -> Result<Vec<AgentBuild>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let rows = ab::Entity::find()
            .filter(ab::Column::TenantId.eq(tenant.as_uuid()))
            .filter(ab::Column::AgentId.eq(agent.as_uuid()))
            .order_by_desc(ab::Column::Id)
            .limit(50)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(AgentBuild::try_from).collect()
    }

    /// Applies `change`; a final state also sets `finished_at`.
    pub async fn update_agent_build(
        &self,
        tenant: TenantId,
        id: Uuid,
        change: BuildChange,
    ) -> Result<AgentBuild, StoreError> {
        let now = Utc::now();
        let mut query = ab::Entity::update_many().col_expr(ab::Column::UpdatedAt, Expr::value(now));
        if let Some(state) = change.state {
            query = query.col_expr(ab::Column::State, Expr::value(state.as_str()));
            if state != BuildState::Running {
                query = query.col_expr(ab::Column::FinishedAt, Expr::value(now));
            }
        }
        if let Some(step) = change.step {
            query = query.col_expr(ab::Column::Step, Expr::value(step.as_str()));
        }
        if let Some(error) = change.error {
            query = query.col_expr(ab::Column::Error, Expr::value(error));
        }
        if let Some(extractor) = change.extractor {
            query = query.col_expr(ab::Column::Extractor, Expr::value(extractor));
        }
        if let Some(knowledge) = change.knowledge {
            let json = serde_json::to_string(&knowledge)
                .map_err(|e| StoreError::Corrupt(format!("knowledge: {e}")))?;
            query = query.col_expr(ab::Column::Knowledge, Expr::value(json));
        }
        if let Some(sid) = change.number_sid {
            query = query.col_expr(ab::Column::NumberSid, Expr::value(sid));
        }
        if let Some(number) = change.phone_number_id {
            query = query.col_expr(ab::Column::PhoneNumberId, Expr::value(number));
        }
        let txn = self.scoped(tenant).await?;
        query
            .filter(ab::Column::Id.eq(id))
            .filter(ab::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.agent_build(tenant, id).await
    }

    /// The number the provision step buys: `candidate` if none was chosen yet, else the one
    /// chosen before (a retried step buys the same number, never a second one).
    pub async fn choose_build_number(
        &self,
        tenant: TenantId,
        id: Uuid,
        candidate: &str,
    ) -> Result<String, StoreError> {
        let txn = self.scoped(tenant).await?;
        ab::Entity::update_many()
            .col_expr(ab::Column::ChosenNumber, Expr::value(candidate))
            .filter(ab::Column::Id.eq(id))
            .filter(ab::Column::TenantId.eq(tenant.as_uuid()))
            .filter(ab::Column::ChosenNumber.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.agent_build(tenant, id)
            .await?
            .chosen_number
            .ok_or(NOT_FOUND)
    }

    /// Appends a step event and makes `step` the build's current step.
    pub async fn record_build_event(
        &self,
        tenant: TenantId,
        build: Uuid,
        step: BuildStep,
        phase: StepPhase,
        detail: Option<serde_json::Value>,
    ) -> Result<BuildEvent, StoreError> {
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.scoped(tenant).await?;
        ev::Entity::insert(ev::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.as_uuid()),
            build_id: Set(build),
            step: Set(step.as_str().to_owned()),
            phase: Set(phase.as_str().to_owned()),
            detail: Set(detail.as_ref().map(serde_json::Value::to_string)),
            at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        ab::Entity::update_many()
            .col_expr(ab::Column::Step, Expr::value(step.as_str()))
            .col_expr(ab::Column::UpdatedAt, Expr::value(now))
            .filter(ab::Column::Id.eq(build))
            .filter(ab::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(BuildEvent {
            id,
            step,
            phase,
            detail,
            at: now,
        })
    }

    /// The build's events after `after` (all when `None`), in order.
    pub async fn build_events(
        &self,
        tenant: TenantId,
        build: Uuid,
        after: Option<Uuid>,
    ) -> Result<Vec<BuildEvent>, StoreError> {
        let mut query = ev::Entity::find()
            .filter(ev::Column::TenantId.eq(tenant.as_uuid()))
            .filter(ev::Column::BuildId.eq(build));
        if let Some(after) = after {
            query = query.filter(ev::Column::Id.gt(after));
        }
        let txn = self.scoped(tenant).await?;
        let rows = query
            .order_by_asc(ev::Column::Id)
            .limit(EVENTS_PER_READ)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(BuildEvent::try_from).collect()
    }

    /// Keeps a fetched page of the build's crawl (a page kept before stays as it was).
    pub async fn save_crawled_page(
        &self,
        tenant: TenantId,
        build: Uuid,
        page: &Page,
    ) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(page).map_err(|e| StoreError::Corrupt(format!("page: {e}")))?;
        let txn = self.scoped(tenant).await?;
        cp::Entity::insert(cp::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            build_id: Set(build),
            url: Set(page.url.clone()),
            content_hash: Set(page.content_hash.clone()),
            page: Set(json),
            created_at: Set(Utc::now()),
        })
        .on_conflict_do_nothing_on([cp::Column::BuildId, cp::Column::Url])
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The pages the build's crawl kept, in the order they were fetched.
    pub async fn crawled_pages(
        &self,
        tenant: TenantId,
        build: Uuid,
    ) -> Result<Vec<Page>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let rows = cp::Entity::find()
            .filter(cp::Column::TenantId.eq(tenant.as_uuid()))
            .filter(cp::Column::BuildId.eq(build))
            .order_by_asc(cp::Column::Id)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|r| {
                serde_json::from_str(&r.page)
                    .map_err(|e| StoreError::Corrupt(format!("crawled_pages.page: {e}")))
            })
            .collect()
    }
}
