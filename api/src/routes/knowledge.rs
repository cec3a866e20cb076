//! `/v1/knowledge`: the tenant's knowledge base — question and answer entries the agents may
//! quote, each in one of the 18 categories of `domain::KnowledgeCategory`.

use super::body;
use crate::query::Query;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    routing::get,
};
use chrono::{DateTime, Utc};
use domain::KnowledgeCategory;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{KnowledgeChanges, KnowledgeEntry, NewKnowledge};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const MAX_QUESTION_CHARS: usize = 1_000;
const MAX_ANSWER_CHARS: usize = 10_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/knowledge", get(list_knowledge).post(create_knowledge))
        .route(
            "/v1/knowledge/{id}",
            get(get_knowledge)
                .patch(update_knowledge)
                .delete(delete_knowledge),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListKnowledgeQuery {
    /// Only this category.
    pub category: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KnowledgeView {
    pub id: Uuid,
    /// One of the 18 categories (`business_information`, `pricing_billing`, …).
    pub category: String,
    pub question: String,
    pub answer: String,
    /// The agent the entry belongs to; absent: every agent of the tenant.
    pub agent_id: Option<Uuid>,
    /// The page of the agent's website it was drawn from.
    pub source_url: Option<String>,
    /// `manual`, `site` (drawn from the website), or `edited` (a site entry a person changed:
    /// a re-sync keeps it).
    pub origin: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<KnowledgeEntry> for KnowledgeView {
    fn from(k: KnowledgeEntry) -> Self {
        Self {
            id: k.id,
            category: k.category.as_str().to_owned(),
            question: k.question,
            answer: k.answer,
            agent_id: k.agent_id.map(|a| a.as_uuid()),
            source_url: k.source_url,
            origin: k.origin.as_str().to_owned(),
            created_at: k.created_at,
            updated_at: k.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KnowledgeList {
    pub data: Vec<KnowledgeView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// A new entry.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewKnowledgeBody {
    pub category: String,
    pub question: String,
    pub answer: String,
}

/// Changes to an entry; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
pub struct KnowledgePatch {
    pub category: Option<String>,
    pub question: Option<String>,
    pub answer: Option<String>,
}

/// `text` as the category it spells, or a problem naming `category` and listing all 18.
fn category(text: &str) -> Result<KnowledgeCategory, ApiError> {
    KnowledgeCategory::parse(text).ok_or_else(|| {
        let all = KnowledgeCategory::spellings().join(", ");
        ApiError::invalid("category", format!("must be one of: {all}"))
    })
}

fn text(field: &'static str, text: &str, max: usize) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(text.to_owned())
}

impl TryFrom<KnowledgePatch> for KnowledgeChanges {
    type Error = ApiError;

    fn try_from(p: KnowledgePatch) -> Result<Self, ApiError> {
        Ok(Self {
            category: p.category.as_deref().map(category).transpose()?,
            question: p
                .question
                .as_deref()
                .map(|q| text("question", q, MAX_QUESTION_CHARS))
                .transpose()?,
            answer: p
                .answer
                .as_deref()
                .map(|a| text("answer", a, MAX_ANSWER_CHARS))
                .transpose()?,
        })
    }
}

impl TryFrom<NewKnowledgeBody> for NewKnowledge {
    type Error = ApiError;

    fn try_from(b: NewKnowledgeBody) -> Result<Self, ApiError> {
        Ok(Self {
            category: category(&b.category)?,
            question: text("question", &b.question, MAX_QUESTION_CHARS)?,
            answer: text("answer", &b.answer, MAX_ANSWER_CHARS)?,
            agent_id: None,
        })
    }
}

fn entry_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("knowledge entry"))
}

fn view_json(entry: &KnowledgeEntry) -> Result<Value, ApiError> {
    audit::snapshot(&KnowledgeView::from(entry.clone()))
}

/// The tenant's entries, newest first, of one category if asked.
#[utoipa::path(get, path = "/v1/knowledge", tag = "knowledge", params(ListKnowledgeQuery),
    security(("bearer" = ["knowledge:read"])),
    responses((status = 200, body = KnowledgeList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_knowledge(
    State(state): State<AppState>,
    auth: Authorized<perm::KnowledgeRead>,
    Query(query): Query<ListKnowledgeQuery>,
) -> Result<Json<KnowledgeList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let before = super::cursor(query.before.as_deref())?;
    let category = query.category.as_deref().map(category).transpose()?;
    let page = state
        .store
        .list_knowledge(auth.tenant, category, limit, before)
        .await?;
    Ok(Json(KnowledgeList {
        data: page.items.into_iter().map(KnowledgeView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Add an entry.
#[utoipa::path(post, path = "/v1/knowledge", tag = "knowledge", request_body = NewKnowledgeBody,
    security(("bearer" = ["knowledge:write"])),
    responses((status = 201, body = KnowledgeView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn create_knowledge(
    State(state): State<AppState>,
    auth: Authorized<perm::KnowledgeWrite>,
    new: Result<Json<NewKnowledgeBody>, JsonRejection>,
) -> Result<(StatusCode, Json<KnowledgeView>), ApiError> {
    let new = NewKnowledge::try_from(body(new)?)?;
    let id = state.store.add_knowledge(auth.tenant, new).await?;
    let entry = state.store.knowledge_entry(auth.tenant, id).await?;
    let change = Change {
        action: "knowledge.create",
        resource_type: "knowledge",
        resource_id: Some(id.to_string()),
        before: None,
        after: Some(view_json(&entry)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

/// One entry.
#[utoipa::path(get, path = "/v1/knowledge/{id}", tag = "knowledge",
    params(("id" = Uuid, Path, description = "Entry id")),
    security(("bearer" = ["knowledge:read"])),
    responses((status = 200, body = KnowledgeView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_knowledge(
    State(state): State<AppState>,
    auth: Authorized<perm::KnowledgeRead>,
    Path(id): Path<String>,
) -> Result<Json<KnowledgeView>, ApiError> {
    let entry = state
        .store
        .knowledge_entry(auth.tenant, entry_id(&id)?)
        .await?;
    Ok(Json(entry.into()))
}

/// Change an entry; absent fields stay.
#[utoipa::path(patch, path = "/v1/knowledge/{id}", tag = "knowledge", request_body = KnowledgePatch,
    params(("id" = Uuid, Path, description = "Entry id")),
    security(("bearer" = ["knowledge:write"])),
    responses((status = 200, body = KnowledgeView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn update_knowledge(
    State(state): State<AppState>,
    auth: Authorized<perm::KnowledgeWrite>,
    Path(id): Path<String>,
    patch: Result<Json<KnowledgePatch>, JsonRejection>,
) -> Result<Json<KnowledgeView>, ApiError> {
    let id = entry_id(&id)?;
    let changes = KnowledgeChanges::try_from(body(patch)?)?;
    let (before, after) = state
        .store
        .update_knowledge(auth.tenant, id, changes)
        .await?;
    let change = Change {
        action: "knowledge.update",
        resource_type: "knowledge",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&before)?),
        after: Some(view_json(&after)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}

/// Delete an entry.
#[utoipa::path(delete, path = "/v1/knowledge/{id}", tag = "knowledge",
    params(("id" = Uuid, Path, description = "Entry id")),
    security(("bearer" = ["knowledge:write"])),
    responses((status = 204, description = "Deleted"),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn delete_knowledge(
    State(state): State<AppState>,
    auth: Authorized<perm::KnowledgeWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = entry_id(&id)?;
    let entry = state.store.delete_knowledge(auth.tenant, id).await?;
    let change = Change {
        action: "knowledge.delete",
        resource_type: "knowledge",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&entry)?),
        after: None,
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(StatusCode::NO_CONTENT)
}
