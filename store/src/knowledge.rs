//! The tenant knowledge base: question/answer entries the agent may quote, by category.
//!
//! Search is keyword overlap scored in Rust over the tenant's entries, so it behaves the same on
//! PostgreSQL and SQLite; a tenant has hundreds of entries, not millions.

use crate::{Page, Store, StoreError, agents::into_page, entities::knowledge_base};
use chrono::{DateTime, Utc};
use domain::{KnowledgeCategory, TenantId, conversation::KnowledgeHit};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashSet;
use uuid::Uuid;

/// At most this many entries are scored per search.
const MAX_ENTRIES_SCANNED: u64 = 2_000;

#[derive(Debug, Clone)]
pub struct NewKnowledge {
    pub category: KnowledgeCategory,
    pub question: String,
    pub answer: String,
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<knowledge_base::Model> for KnowledgeEntry {
    type Error = StoreError;

    fn try_from(row: knowledge_base::Model) -> Result<Self, StoreError> {
        let category = KnowledgeCategory::parse(&row.category).ok_or_else(|| {
            StoreError::Corrupt(format!("knowledge_base.category `{}`", row.category))
        })?;
        Ok(Self {
            id: row.id,
            category,
            question: row.question,
            answer: row.answer,
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
        knowledge_base::Entity::update_many()
            .set(knowledge_base::ActiveModel {
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
    pub async fn search_knowledge(
        &self,
        tenant: TenantId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KnowledgeHit>, StoreError> {
        let wanted = keywords(query);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.scoped(tenant).await?;
        let rows = knowledge_base::Entity::find()
            .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()))
            .limit(MAX_ENTRIES_SCANNED)
            .all(&txn)
            .await?;
        txn.commit().await?;
        let mut scored: Vec<(usize, knowledge_base::Model)> = rows
            .into_iter()
            .filter_map(|row| {
                let question = keywords(&row.question);
                // `business_information` counts as the words `business` and `information`.
                let rest = keywords(&format!("{} {}", row.category, row.answer));
                // A word of the entry's question counts double: it says what the entry is about.
                let score = wanted
                    .iter()
                    .map(|w| 2 * usize::from(question.contains(w)) + usize::from(rest.contains(w)))
                    .sum::<usize>();
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

/// Lower-cased words of three letters or more, minus common filler, crudely singularised.
fn keywords(text: &str) -> HashSet<String> {
    const STOP: &[&str] = &[
        "the", "and", "are", "you", "your", "what", "when", "where", "which", "who", "how", "can",
        "for", "with", "have", "has", "does", "did", "was", "were", "will", "would", "could",
        "about", "this", "that", "there", "their", "from", "any", "our", "not", "but", "like",
        "want", "need", "please", "tell", "know",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.len() >= 3 && !STOP.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() >= 3 && !w.ends_with("ss") => stem.to_owned(),
            _ => w,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::keywords;

    #[test]
    fn keywords_drop_filler_and_plurals() {
        let k = keywords("What are your opening hours on Saturdays?");
        assert!(k.contains("opening") && k.contains("hour") && k.contains("saturday"));
        assert!(!k.contains("what") && !k.contains("your") && !k.contains("on"));
        assert!(keywords("business").contains("business"));
    }
}
