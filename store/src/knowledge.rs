//! The tenant knowledge base: question/answer entries the agent may quote, by category.
//!
//! Search is keyword overlap scored in Rust over the tenant's entries, so it behaves the same on
//! PostgreSQL and SQLite; a tenant has hundreds of entries, not millions.

use crate::{Page, Store, StoreError, agents::into_page, entities::knowledge_base};
use chrono::{DateTime, Utc};
use domain::{
    AgentId, KnowledgeCategory, TenantId,
    conversation::{KnowledgeHit, keywords, knowledge_score},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// At most this many entries are scored per search.
const MAX_ENTRIES_SCANNED: u64 = 2_000;

#[derive(Debug, Clone)]
pub struct NewKnowledge {
    pub category: KnowledgeCategory,
    pub question: String,
    pub answer: String,
    /// The agent it belongs to; `None`: every agent of the tenant.
    pub agent_id: Option<AgentId>,
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnowledgeOrigin {
    /// Written by a person.
    Manual,
    /// Drawn from the agent's website by a build or re-sync.
    Site,
    /// Drawn from the site, then changed by a person: a re-sync keeps it.
    Edited,
}

impl KnowledgeOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            KnowledgeOrigin::Manual => "manual",
            KnowledgeOrigin::Site => "site",
            KnowledgeOrigin::Edited => "edited",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Manual, Self::Site, Self::Edited]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeChanges {
    pub category: Option<KnowledgeCategory>,
    pub question: Option<String>,
    pub answer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeEntry {
    pub id: Uuid,
    pub category: KnowledgeCategory,
    pub question: String,
    pub answer: String,
    pub agent_id: Option<AgentId>,
    pub source_url: Option<String>,
    pub origin: KnowledgeOrigin,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<knowledge_base::Model> for KnowledgeEntry {
    type Error = StoreError;

    fn try_from(row: knowledge_base::Model) -> Result<Self, StoreError> {
        let category = KnowledgeCategory::parse(&row.category).ok_or_else(|| {
            StoreError::Corrupt(format!("knowledge_base.category `{}`", row.category))
        })?;
        let origin = KnowledgeOrigin::parse(&row.origin).ok_or_else(|| {
            StoreError::Corrupt(format!("knowledge_base.origin `{}`", row.origin))
        })?;
        Ok(Self {
            id: row.id,
            category,
            question: row.question,
            answer: row.answer,
            agent_id: row.agent_id.map(AgentId::from),
            source_url: row.source_url,
            origin,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const NOT_FOUND: StoreError = StoreError::NotFound {
    entity: "knowledge entry",
};

async fn find_entry(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    id: Uuid,
) -> Result<KnowledgeEntry, StoreError> {
    knowledge_base::Entity::find_by_id(id)
        .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()))
        .one(txn)
        .await?
        .ok_or(NOT_FOUND)?
        .try_into()
}

impl Store {
    pub async fn add_knowledge(
        &self,
        tenant: TenantId,
        entry: NewKnowledge,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.scoped(tenant).await?;
        knowledge_base::Entity::insert(knowledge_base::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.as_uuid()),
            category: Set(entry.category.as_str().to_owned()),
            question: Set(entry.question),
            answer: Set(entry.answer),
            agent_id: Set(entry.agent_id.map(|a| a.as_uuid())),
            source_url: Set(None),
            origin: Set(KnowledgeOrigin::Manual.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(id)
    }

    pub async fn knowledge_entry(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<KnowledgeEntry, StoreError> {
        let txn = self.scoped(tenant).await?;
        let entry = find_entry(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(entry)
    }

    /// The tenant's entries, newest first, of one `category` if given.
    pub async fn list_knowledge(
        &self,
        tenant: TenantId,
        category: Option<KnowledgeCategory>,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<KnowledgeEntry>, StoreError> {
        let mut query = knowledge_base::Entity::find()
            .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(category) = category {
            query = query.filter(knowledge_base::Column::Category.eq(category.as_str()));
        }
        if let Some(cursor) = before {
            query = query.filter(knowledge_base::Column::Id.lt(cursor));
        }
        let txn = self.scoped(tenant).await?;
        let rows = query
            .order_by_desc(knowledge_base::Column::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        txn.commit().await?;
        into_page(rows, limit, |r| r.id, KnowledgeEntry::try_from)
    }

    /// Applies `changes` to entry `id`: (before, after).
    pub async fn update_knowledge(
        &self,
        tenant: TenantId,
        id: Uuid,
        changes: KnowledgeChanges,
    ) -> Result<(KnowledgeEntry, KnowledgeEntry), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = find_entry(&txn, tenant, id).await?;
        // A site entry a person changes is theirs from now on: a re-sync keeps it.
        let origin = match before.origin {
            KnowledgeOrigin::Site => Set(KnowledgeOrigin::Edited.as_str().to_owned()),
            _ => Default::default(),
        };
        knowledge_base::Entity::update_many()
            .set(knowledge_base::ActiveModel {
                origin,
                category: changes
                    .category
                    .map_or(Default::default(), |c| Set(c.as_str().to_owned())),
                question: changes.question.map_or(Default::default(), Set),
                answer: changes.answer.map_or(Default::default(), Set),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(knowledge_base::Column::Id.eq(id))
            .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let after = find_entry(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok((before, after))
    }

    /// Deletes entry `id`, returning it.
    pub async fn delete_knowledge(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<KnowledgeEntry, StoreError> {
        let txn = self.scoped(tenant).await?;
        let entry = find_entry(&txn, tenant, id).await?;
        knowledge_base::Entity::delete_many()
            .filter(knowledge_base::Column::Id.eq(id))
            .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(entry)
    }

    /// The entries of `tenant` that best match `query`, best first; none when nothing matches.
    /// With `agent`, the tenant's shared entries and that agent's own; without, the shared ones.
    pub async fn search_knowledge(
        &self,
        tenant: TenantId,
        agent: Option<AgentId>,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KnowledgeHit>, StoreError> {
        let wanted = keywords(query);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut whose = Condition::any().add(knowledge_base::Column::AgentId.is_null());
        if let Some(agent) = agent {
            whose = whose.add(knowledge_base::Column::AgentId.eq(agent.as_uuid()));
        }
        let txn = self.scoped(tenant).await?;
        let rows = knowledge_base::Entity::find()
            .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()))
            .filter(whose)
            .limit(MAX_ENTRIES_SCANNED)
            .all(&txn)
            .await?;
        txn.commit().await?;
        let mut scored: Vec<(usize, knowledge_base::Model)> = rows
            .into_iter()
            .filter_map(|row| {
                let score = knowledge_score(&wanted, &row.category, &row.question, &row.answer);
                (score > 0).then_some((score, row))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        Ok(scored
            .into_iter()
            .take(limit)
            .map(|(_, row)| KnowledgeHit {
                category: row.category,
                question: row.question,
                answer: row.answer,
            })
            .collect())
    }
}

/// What a re-sync did to an agent's site knowledge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnowledgeSync {
    pub added: u32,
    /// Same question and page, new answer.
    pub changed: u32,
    pub unchanged: u32,
    /// No longer on the site.
    pub removed: u32,
    /// A person's edit of a site entry, kept over the site's new text.
    pub kept_edits: u32,
}

/// An entry's identity across re-syncs: the same question from the same page.
fn site_key(category: &str, question: &str, source: Option<&str>) -> (String, String, String) {
    (
        category.to_owned(),
        question.trim().to_lowercase(),
        source.unwrap_or_default().to_owned(),
    )
}

/// The agent's entries by their identity across re-syncs.
async fn agent_entries_by_key(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    agent: AgentId,
) -> Result<std::collections::HashMap<(String, String, String), knowledge_base::Model>, StoreError>
{
    let rows = knowledge_base::Entity::find()
        .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()))
        .filter(knowledge_base::Column::AgentId.eq(agent.as_uuid()))
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                site_key(&r.category, &r.question, r.source_url.as_deref()),
                r,
            )
        })
        .collect())
}

/// A new entry of `agent` drawn from its site.
fn site_row(
    tenant: TenantId,
    agent: AgentId,
    entry: &domain::site::KnowledgeEntry,
) -> knowledge_base::ActiveModel {
    let now = Utc::now();
    knowledge_base::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.as_uuid()),
        category: Set(entry.category.as_str().to_owned()),
        question: Set(entry.question.clone()),
        answer: Set(entry.answer.clone()),
        agent_id: Set(Some(agent.as_uuid())),
        source_url: Set(Some(entry.source_url.clone())),
        origin: Set(KnowledgeOrigin::Site.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

impl Store {
    /// Makes the agent's site entries those of `entries`: new ones added, changed answers
    /// updated, entries no longer on the site removed. Entries a person wrote or edited stay.
    pub async fn sync_site_knowledge(
        &self,
        tenant: TenantId,
        agent: AgentId,
        entries: &[domain::site::KnowledgeEntry],
    ) -> Result<KnowledgeSync, StoreError> {
        use knowledge_base::{Column, Entity};
        let txn = self.scoped(tenant).await?;
        let mut by_key = agent_entries_by_key(&txn, tenant, agent).await?;
        let mut sync = KnowledgeSync::default();
        let now = Utc::now();
        for entry in entries {
            let key = site_key(
                entry.category.as_str(),
                &entry.question,
                Some(&entry.source_url),
            );
            match by_key.remove(&key) {
                Some(row) if row.origin != KnowledgeOrigin::Site.as_str() => sync.kept_edits += 1,
                Some(row) if row.answer == entry.answer => sync.unchanged += 1,
                Some(row) => {
                    Entity::update_many()
                        .col_expr(
                            Column::Answer,
                            sea_orm::sea_query::Expr::value(entry.answer.clone()),
                        )
                        .col_expr(Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
                        .filter(Column::Id.eq(row.id))
                        .exec(&txn)
                        .await?;
                    sync.changed += 1;
                }
                None => {
                    Entity::insert(site_row(tenant, agent, entry))
                        .exec_without_returning(&txn)
                        .await?;
                    sync.added += 1;
                }
            }
        }
        // Site entries the site no longer has.
        let gone: Vec<Uuid> = by_key
            .into_values()
            .filter(|r| r.origin == KnowledgeOrigin::Site.as_str())
            .map(|r| r.id)
            .collect();
        sync.removed = gone.len() as u32;
        Entity::delete_many()
            .filter(Column::Id.is_in(gone))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(sync)
    }

    /// Removes every entry of the agent (a cancelled build's draft).
    pub async fn delete_agent_knowledge(
        &self,
        tenant: TenantId,
        agent: AgentId,
    ) -> Result<u64, StoreError> {
        let txn = self.scoped(tenant).await?;
        let done = knowledge_base::Entity::delete_many()
            .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()))
            .filter(knowledge_base::Column::AgentId.eq(agent.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(done.rows_affected)
    }
}
