//! The tenant knowledge base: question/answer entries the agent may quote, by category.
//!
//! Search is keyword overlap scored in Rust over the tenant's entries, so it behaves the same on
//! PostgreSQL and SQLite; a tenant has hundreds of entries, not millions.

use crate::{Store, StoreError, entities::knowledge_base};
use chrono::Utc;
use domain::{TenantId, conversation::KnowledgeHit};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashSet;
use uuid::Uuid;

/// At most this many entries are scored per search.
const MAX_ENTRIES_SCANNED: u64 = 2_000;

#[derive(Debug, Clone)]
pub struct NewKnowledge {
    pub category: String,
    pub question: String,
    pub answer: String,
}

impl Store {
    pub async fn add_knowledge(
        &self,
        tenant: TenantId,
        entry: NewKnowledge,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        let now = Utc::now();
        knowledge_base::Entity::insert(knowledge_base::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.as_uuid()),
            category: Set(entry.category),
            question: Set(entry.question),
            answer: Set(entry.answer),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(id)
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
        let rows = knowledge_base::Entity::find()
            .filter(knowledge_base::Column::TenantId.eq(tenant.as_uuid()))
            .limit(MAX_ENTRIES_SCANNED)
            .all(&self.db)
            .await?;
        let mut scored: Vec<(usize, knowledge_base::Model)> = rows
            .into_iter()
            .filter_map(|row| {
                let question = keywords(&row.question);
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
