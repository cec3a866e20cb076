//! `/v1/scripts`: what an outbound agent is for, how it opens, what it asks and collects, and
//! the voicemail it leaves; `POST /v1/scripts/{id}/duplicate` copies one to edit.

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{MAX_NAME_CHARS, MAX_TEXT_CHARS, optional_text};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, Principal, perm},
};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use domain::crm::{CollectField, CollectKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::crm::scripts::{Script, ScriptFields, Scripts};
use utoipa::ToSchema;
use uuid::Uuid;

const MAX_QUESTIONS: usize = 50;
const MAX_KEY_CHARS: usize = 64;

#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptView {
    pub id: Uuid,
    pub name: String,
    pub goal: Option<String>,
    pub opening: Option<String>,
    pub questions: Vec<String>,
    /// `[{"key": "mileage", "prompt": "Roughly how many miles?", "type": "number"}]`.
    #[schema(value_type = Vec<Object>)]
    pub collect: Vec<CollectField>,
    pub voicemail_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Script> for ScriptView {
    fn from(s: Script) -> Self {
        let f = s.fields;
        Self {
            id: s.id,
            name: f.name,
            goal: f.goal,
            opening: f.opening,
            questions: f.questions,
            collect: f.collect,
            voicemail_message: f.voicemail_message,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ScriptBody {
    pub name: String,
    pub goal: Option<String>,
    pub opening: Option<String>,
    #[serde(default)]
    pub questions: Vec<String>,
    /// Each `{"key", "prompt", "type"}`; `type` is one of `text`, `number`, `date`, `yes_no`,
    /// `phone`, `email`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub collect: Vec<Value>,
    pub voicemail_message: Option<String>,
}

fn questions(values: Vec<String>) -> Result<Vec<String>, ApiError> {
    if values.len() > MAX_QUESTIONS {
        return Err(ApiError::invalid(
            "questions",
            format!("at most {MAX_QUESTIONS} questions"),
        ));
    }
    values
        .iter()
        .map(|q| crate::routes::text("questions", q, MAX_TEXT_CHARS))
        .collect()
}

fn collect(values: Vec<Value>) -> Result<Vec<CollectField>, ApiError> {
    let kinds = CollectKind::spellings().join(", ");
    let mut fields: Vec<CollectField> = Vec::with_capacity(values.len());
    for value in values {
        let field: CollectField = serde_json::from_value(value).map_err(|e| {
            ApiError::invalid(
                "collect",
                format!("{e}; each is {{key, prompt, type: {kinds}}}"),
            )
        })?;
        let key = crate::routes::text("collect", &field.key, MAX_KEY_CHARS)?;
        if fields.iter().any(|f| f.key == key) {
            return Err(ApiError::invalid(
                "collect",
                format!("key `{key}` appears twice"),
            ));
        }
        let prompt = crate::routes::text("collect", &field.prompt, MAX_TEXT_CHARS)?;
        fields.push(CollectField {
            key,
            prompt,
            kind: field.kind,
        });
    }
    Ok(fields)
}

impl Surface for Scripts {
    type View = ScriptView;
    type Body = ScriptBody;
    const KIND: &'static str = "script";

    fn validate(b: ScriptBody, _: &Principal) -> Result<ScriptFields, ApiError> {
        let text =
            |field, value: Option<String>| optional_text(field, value.as_deref(), MAX_TEXT_CHARS);
        Ok(ScriptFields {
            name: crate::routes::text("name", &b.name, MAX_NAME_CHARS)?,
            goal: text("goal", b.goal)?,
            opening: text("opening", b.opening)?,
            questions: questions(b.questions)?,
            collect: collect(b.collect)?,
            voicemail_message: text("voicemail_message", b.voicemail_message)?,
        })
    }
}

crud_operations!(
    resource: Scripts, tag: "crm",
    collection: "/v1/scripts", item: "/v1/scripts/{id}",
    read: ScriptsRead = "scripts:read", write: ScriptsWrite = "scripts:write",
    view: ScriptView, body: ScriptBody,
);

pub fn duplicate_router() -> axum::Router<AppState> {
    axum::Router::new().route("/v1/scripts/{id}/duplicate", axum::routing::post(duplicate))
}

/// The tenant's scripts, newest first.
#[utoipa::path(get, path = "/v1/scripts", tag = "crm", params(PageQuery),
    security(("bearer" = ["scripts:read"])),
    responses((status = 200, body = List<ScriptView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::ScriptsRead>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<ScriptView>>, ApiError> {
    crud::list::<Scripts>(&state, &auth.principal, (), page).await
}

/// Copy a script, named "<name> (copy)".
#[utoipa::path(post, path = "/v1/scripts/{id}/duplicate", tag = "crm",
    params(("id" = Uuid, Path)),
    security(("bearer" = ["scripts:write"])),
    responses((status = 201, body = ScriptView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn duplicate(
    State(state): State<AppState>,
    auth: Authorized<perm::ScriptsWrite>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ScriptView>), ApiError> {
    let id = crud::path_id::<Scripts>(&id)?;
    let copy = state.store.duplicate_script(auth.tenant, id).await?;
    crud::created::<Scripts>(&state, &auth.principal, "duplicate", copy).await
}
