//! `/v1/agents`: the tenant's agents. Deleting archives (calls keep referencing the agent) and
//! unassigns its numbers.
//!
//! `voice`, `voicemail_message`, `followup_sms` and `llm_model` are keys of the agent's
//! `engine_settings` (read by `domain::AgentSettings` and the voice engines); the API shows and
//! takes them as fields.

use super::body;
use super::text;
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
use domain::AgentId;
use domain::conversation::{ToolName, enabled_tools};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{Agent, AgentChanges, NewAgent};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Bounds of `max_call_duration_secs`: half a minute to four hours.
const MIN_DURATION_SECS: u32 = 30;
const MAX_DURATION_SECS: u32 = 4 * 60 * 60;
/// The `engine_settings` keys the API shows as fields.
const SETTING_FIELDS: [&str; 4] = ["voice", "voicemail_message", "followup_sms", "llm_model"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/agents", get(list_agents).post(create_agent))
        .route(
            "/v1/agents/{id}",
            get(get_agent).patch(update_agent).delete(archive_agent),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: Uuid,
    pub name: String,
    pub greeting: String,
    pub instructions: String,
    pub engine: String,
    pub voice: Option<String>,
    pub max_call_duration_secs: u32,
    pub voicemail_message: Option<String>,
    pub followup_sms: Option<String>,
    pub llm_model: Option<String>,
    /// BCP 47 tag (`en-US`).
    pub language: String,
    /// Whether calls are recorded; the agent then opens with "This call may be recorded."
    pub record_calls: bool,
    /// The tools the agent offers on its calls (`end_call` always).
    pub tools: Vec<String>,
    /// Every tool an agent may offer.
    pub available_tools: Vec<String>,
    /// Set once the agent is deleted (archived).
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Agent> for AgentView {
    fn from(a: Agent) -> Self {
        let setting = |key: &str| {
            a.engine_settings
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let tools = enabled_tools(a.settings().tools.as_deref())
            .into_iter()
            .map(|t| t.as_str().to_owned())
            .collect();
        Self {
            id: a.id.as_uuid(),
            tools,
            available_tools: ToolName::RECEPTIONIST
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            voice: setting("voice"),
            voicemail_message: setting("voicemail_message"),
            followup_sms: setting("followup_sms"),
            llm_model: setting("llm_model"),
            name: a.name,
            greeting: a.greeting,
            instructions: a.instructions,
            engine: a.engine,
            max_call_duration_secs: a.max_call_duration_secs,
            language: a.language,
            record_calls: a.record_calls,
            archived_at: a.archived_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    pub data: Vec<AgentView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// A new agent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAgentBody {
    pub name: String,
    /// What the agent says first.
    pub greeting: String,
    #[serde(default)]
    pub instructions: String,
    /// A voice engine this deployment offers (`offline`, `openai_realtime`, …).
    pub engine: String,
    pub voice: Option<String>,
    /// 30 to 14400 (default 1800).
    pub max_call_duration_secs: Option<u32>,
    pub voicemail_message: Option<String>,
    pub followup_sms: Option<String>,
    pub llm_model: Option<String>,
    /// BCP 47 tag (default `en-US`).
    pub language: Option<String>,
    /// Record calls, and say so first (default true).
    pub record_calls: Option<bool>,
    /// The tools the agent offers, by name (default: all; `end_call` is always offered).
    pub tools: Option<Vec<String>>,
}

/// Changes to an agent; absent fields stay. An empty `voice`, `voicemail_message`,
/// `followup_sms` or `llm_model` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub greeting: Option<String>,
    pub instructions: Option<String>,
    pub engine: Option<String>,
    pub voice: Option<String>,
    pub max_call_duration_secs: Option<u32>,
    pub voicemail_message: Option<String>,
    pub followup_sms: Option<String>,
    pub llm_model: Option<String>,
    pub language: Option<String>,
    pub record_calls: Option<bool>,
    /// The tools the agent offers, by name (`end_call` is always offered).
    pub tools: Option<Vec<String>>,
}

impl AgentPatch {
    /// The settings fields that were given, in [`SETTING_FIELDS`] order.
    fn settings(&self) -> [(&'static str, Option<&String>); 4] {
        let values = [
            self.voice.as_ref(),
            self.voicemail_message.as_ref(),
            self.followup_sms.as_ref(),
            self.llm_model.as_ref(),
        ];
        let mut out = [("", None); 4];
        for (i, value) in values.into_iter().enumerate() {
            out[i] = (SETTING_FIELDS[i], value);
        }
        out
    }
}

impl From<NewAgentBody> for AgentPatch {
    fn from(b: NewAgentBody) -> Self {
        Self {
            name: Some(b.name),
            greeting: Some(b.greeting),
            instructions: Some(b.instructions),
            engine: Some(b.engine),
            voice: b.voice,
            max_call_duration_secs: b.max_call_duration_secs,
            voicemail_message: b.voicemail_message,
            followup_sms: b.followup_sms,
            llm_model: b.llm_model,
            language: b.language,
            record_calls: b.record_calls,
            tools: b.tools,
        }
    }
}

/// A BCP 47-like tag: a 2–3 letter language, then 2–8 letter-or-digit subtags (`en-US`,
/// `es-419`, `zh-Hant-TW`).
fn language(tag: &str) -> Result<String, ApiError> {
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !primary_ok || !rest_ok || tag.len() > 35 {
        return Err(ApiError::invalid(
            "language",
            "must be a BCP 47 language tag such as `en-US`",
        ));
    }
    Ok(tag.to_owned())
}

/// `settings` with the patch's settings fields applied (an empty one removes its key).
fn merge_settings(patch: &AgentPatch, settings: &Value) -> Result<Value, ApiError> {
    let mut merged = settings.as_object().cloned().unwrap_or_default();
    for (key, value) in patch.settings() {
        match value.map(|v| v.trim()) {
            None => {}
            Some("") => {
                merged.remove(key);
            }
            Some(v) if v.chars().count() > 1_000 => {
                return Err(ApiError::invalid(key, "must be at most 1000 characters"));
            }
            Some(v) => {
                merged.insert(key.to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    if let Some(tools) = &patch.tools {
        merged.insert("tools".to_owned(), tool_names(tools)?);
    }
    Ok(Value::Object(merged))
}

/// The `tools` setting for `names`: each a receptionist tool, listed once.
fn tool_names(names: &[String]) -> Result<Value, ApiError> {
    let mut chosen: Vec<&'static str> = Vec::new();
    for name in names {
        let tool = ToolName::parse(name.trim())
            .filter(|t| ToolName::RECEPTIONIST.contains(t))
            .ok_or_else(|| {
                let offered: Vec<&str> =
                    ToolName::RECEPTIONIST.iter().map(|t| t.as_str()).collect();
                ApiError::invalid(
                    "tools",
                    format!("`{name}` is not a tool; one of: {}", offered.join(", ")),
                )
            })?;
        if !chosen.contains(&tool.as_str()) {
            chosen.push(tool.as_str());
        }
    }
    Ok(Value::from(chosen))
}

/// Validates `patch` against the engines on offer and applies its settings fields onto
/// `settings`: the store's changes.
fn changes(
    state: &AppState,
    patch: AgentPatch,
    settings: &Value,
) -> Result<AgentChanges, ApiError> {
    let engine_settings = merge_settings(&patch, settings)?;
    if let Some(engine) = &patch.engine
        && !state.engines.names().contains(&engine.as_str())
    {
        let offered = state.engines.names().join(", ");
        return Err(ApiError::invalid(
            "engine",
            format!("must be one of: {offered}"),
        ));
    }
    if let Some(secs) = patch.max_call_duration_secs
        && !(MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(&secs)
    {
        let bounds = format!("must be between {MIN_DURATION_SECS} and {MAX_DURATION_SECS}");
        return Err(ApiError::invalid("max_call_duration_secs", bounds));
    }
    Ok(AgentChanges {
        name: patch
            .name
            .as_deref()
            .map(|n| text("name", n, 100))
            .transpose()?,
        greeting: patch
            .greeting
            .as_deref()
            .map(|g| text("greeting", g, 2_000))
            .transpose()?,
        instructions: match patch.instructions.as_deref().map(str::trim) {
            Some(i) if i.chars().count() > 50_000 => {
                return Err(ApiError::invalid(
                    "instructions",
                    "must be at most 50000 characters",
                ));
            }
            other => other.map(str::to_owned),
        },
        engine: patch.engine,
        engine_settings: Some(engine_settings),
        max_call_duration_secs: patch.max_call_duration_secs,
        language: patch.language.as_deref().map(language).transpose()?,
        record_calls: patch.record_calls,
    })
}

fn agent_id(id: &str) -> Result<AgentId, ApiError> {
    Uuid::parse_str(id)
        .map(AgentId::from)
        .map_err(|_| ApiError::NotFound("agent"))
}

fn view_json(agent: &Agent) -> Result<Value, ApiError> {
    audit::snapshot(&AgentView::from(agent.clone()))
}

/// The tenant's agents (not archived), newest first.
#[utoipa::path(get, path = "/v1/agents", tag = "agents", params(ListQuery),
    security(("bearer" = ["agents:read"])),
    responses((status = 200, body = AgentList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_agents(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsRead>,
    Query(query): Query<ListQuery>,
) -> Result<Json<AgentList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let before = super::cursor(query.before.as_deref())?;
    let page = state.store.list_agents(auth.tenant, limit, before).await?;
    Ok(Json(AgentList {
        data: page.items.into_iter().map(AgentView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create an agent.
#[utoipa::path(post, path = "/v1/agents", tag = "agents", request_body = NewAgentBody,
    security(("bearer" = ["agents:write"])),
    responses((status = 201, body = AgentView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn create_agent(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsWrite>,
    new: Result<Json<NewAgentBody>, JsonRejection>,
) -> Result<(StatusCode, Json<AgentView>), ApiError> {
    let c = changes(&state, body(new)?.into(), &Value::Null)?;
    let new = NewAgent {
        name: c.name.unwrap_or_default(),
        greeting: c.greeting.unwrap_or_default(),
        instructions: c.instructions.unwrap_or_default(),
        engine: c.engine.unwrap_or_default(),
        engine_settings: c.engine_settings.unwrap_or_default(),
        max_call_duration_secs: c.max_call_duration_secs,
        language: c.language,
        record_calls: c.record_calls,
    };
    let agent = state.store.create_agent(auth.tenant, new).await?;
    let change = Change {
        action: "agent.create",
        resource_type: "agent",
        resource_id: Some(agent.id.to_string()),
        before: None,
        after: Some(view_json(&agent)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok((StatusCode::CREATED, Json(agent.into())))
}

/// One agent (archived ones too: calls refer to them).
#[utoipa::path(get, path = "/v1/agents/{id}", tag = "agents",
    params(("id" = Uuid, Path, description = "Agent id")),
    security(("bearer" = ["agents:read"])),
    responses((status = 200, body = AgentView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_agent(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsRead>,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, ApiError> {
    let agent = state.store.agent(auth.tenant, agent_id(&id)?).await?;
    Ok(Json(agent.into()))
}

/// Change an agent; absent fields stay as they are.
#[utoipa::path(patch, path = "/v1/agents/{id}", tag = "agents", request_body = AgentPatch,
    params(("id" = Uuid, Path, description = "Agent id")),
    security(("bearer" = ["agents:write"])),
    responses((status = 200, body = AgentView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn update_agent(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsWrite>,
    Path(id): Path<String>,
    patch: Result<Json<AgentPatch>, JsonRejection>,
) -> Result<Json<AgentView>, ApiError> {
    let id = agent_id(&id)?;
    let patch = body(patch)?;
    let current = state.store.agent(auth.tenant, id).await?;
    let c = changes(&state, patch, &current.engine_settings)?;
    let (before, after) = state.store.update_agent(auth.tenant, id, c).await?;
    let change = Change {
        action: "agent.update",
        resource_type: "agent",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&before)?),
        after: Some(view_json(&after)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}

/// Delete (archive) an agent; its numbers are unassigned and route nowhere.
#[utoipa::path(delete, path = "/v1/agents/{id}", tag = "agents",
    params(("id" = Uuid, Path, description = "Agent id")),
    security(("bearer" = ["agents:write"])),
    responses((status = 200, description = "The archived agent", body = AgentView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn archive_agent(
    State(state): State<AppState>,
    auth: Authorized<perm::AgentsWrite>,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, ApiError> {
    let id = agent_id(&id)?;
    let (before, after) = state.store.archive_agent(auth.tenant, id).await?;
    let change = Change {
        action: "agent.archive",
        resource_type: "agent",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&before)?),
        after: Some(view_json(&after)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_bcp47_shaped() {
        for ok in ["en-US", "es-419", "zh-Hant-TW", "fr"] {
            assert!(language(ok).is_ok(), "{ok}");
        }
        for bad in ["", "english", "en_US", "e", "en-", "en-U"] {
            assert!(language(bad).is_err(), "{bad}");
        }
    }
}
