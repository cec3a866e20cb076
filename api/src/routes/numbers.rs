//! `/v1/phone-numbers`: the tenant's numbers — searching Twilio's inventory, buying,
//! assigning to an agent, releasing.
//!
//! Buying is exactly-once under retries: before buying we ask Twilio whether the account
//! already owns the number (a purchase whose answer was lost) and adopt it instead of buying
//! it twice; the store then returns the tenant's existing row for a number it already has.
//! A released number keeps its row (`released_at`) and routes nowhere.

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
use domain::{AgentId, E164, TenantId};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use store::{NewPhoneNumber, PhoneNumber};
use telephony::{
    TwilioError,
    rest::{AvailableNumber, BuyNumber, IncomingNumber, NumberSearch},
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/phone-numbers", get(list_numbers).post(buy_number))
        .route("/v1/phone-numbers/available", get(available_numbers))
        .route(
            "/v1/phone-numbers/{id}",
            get(get_number).patch(assign_number).delete(release_number),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListNumbersQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
    /// Include released numbers (default false).
    #[serde(default)]
    pub include_released: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNumberView {
    pub id: Uuid,
    /// E.164.
    pub phone_number: String,
    /// The agent that answers it; none: calls to it route nowhere.
    pub agent_id: Option<Uuid>,
    pub friendly_name: Option<String>,
    /// Twilio's `PN…`; none for numbers added before numbers were bought through the API.
    pub twilio_sid: Option<String>,
    pub capabilities: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set once released: the number is no longer ours.
    pub released_at: Option<DateTime<Utc>>,
}

impl From<PhoneNumber> for PhoneNumberView {
    fn from(n: PhoneNumber) -> Self {
        Self {
            id: n.id,
            phone_number: n.e164.to_string(),
            agent_id: n.agent_id.map(|a| a.as_uuid()),
            friendly_name: n.friendly_name,
            twilio_sid: n.twilio_sid,
            capabilities: n.capabilities,
            created_at: n.created_at,
            updated_at: n.updated_at,
            released_at: n.released_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNumberList {
    pub data: Vec<PhoneNumberView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AvailableQuery {
    /// ISO 3166 country (default `US`).
    pub country: Option<String>,
    /// Three digits.
    pub area_code: Option<String>,
    /// Digits the number contains; `*` matches any digit.
    pub contains: Option<String>,
    /// How many, 1 to 30 (default 10).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableNumberList {
    pub data: Vec<AvailableNumberView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableNumberView {
    pub phone_number: String,
    pub friendly_name: String,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub capabilities: Value,
}

impl From<AvailableNumber> for AvailableNumberView {
    fn from(n: AvailableNumber) -> Self {
        Self {
            phone_number: n.phone_number,
            friendly_name: n.friendly_name,
            locality: n.locality,
            region: n.region,
            country: n.iso_country,
            capabilities: n.capabilities,
        }
    }
}

/// A number to buy.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BuyNumberBody {
    /// E.164, one of `/v1/phone-numbers/available`.
    pub phone_number: String,
    /// The agent that answers it.
    pub agent_id: Option<Uuid>,
    pub friendly_name: Option<String>,
}

/// Which agent answers the number; `null` unassigns it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignNumberBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub agent_id: Option<Option<Uuid>>,
}

/// A field that is present (`null` included) becomes `Some`.
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn number_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("phone number"))
}

fn view_json(number: &PhoneNumber) -> Result<Value, ApiError> {
    audit::snapshot(&PhoneNumberView::from(number.clone()))
}

fn upstream(e: TwilioError) -> ApiError {
    ApiError::Upstream {
        service: "Twilio",
        detail: e.to_string(),
    }
}

impl AvailableQuery {
    /// Twilio's search, or a problem naming the field at fault.
    fn search(self) -> Result<NumberSearch, ApiError> {
        let country = self.country.unwrap_or_else(|| "US".to_owned());
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ApiError::invalid(
                "country",
                "must be an ISO 3166 code such as `US`",
            ));
        }
        if let Some(area) = &self.area_code
            && (area.len() != 3 || !area.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ApiError::invalid("area_code", "must be three digits"));
        }
        if let Some(contains) = &self.contains
            && (contains.is_empty()
                || contains.len() > 10
                || !contains.bytes().all(|b| b.is_ascii_digit() || b == b'*'))
        {
            return Err(ApiError::invalid(
                "contains",
                "must be 1 to 10 digits or `*`",
            ));
        }
        let limit = self.limit.unwrap_or(10);
        if !(1..=30).contains(&limit) {
            return Err(ApiError::invalid("limit", "must be between 1 and 30"));
        }
        Ok(NumberSearch {
            country,
            area_code: self.area_code,
            contains: self.contains,
            limit,
        })
    }
}

/// The tenant's numbers, newest first.
#[utoipa::path(get, path = "/v1/phone-numbers", tag = "phone-numbers", params(ListNumbersQuery),
    security(("bearer" = ["numbers:read"])),
    responses((status = 200, body = PhoneNumberList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list_numbers(
    State(state): State<AppState>,
    auth: Authorized<perm::NumbersRead>,
    Query(query): Query<ListNumbersQuery>,
) -> Result<Json<PhoneNumberList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let before = super::cursor(query.before.as_deref())?;
    let page = state
        .store
        .list_phone_numbers(auth.tenant, query.include_released, limit, before)
        .await?;
    Ok(Json(PhoneNumberList {
        data: page.items.into_iter().map(PhoneNumberView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Numbers for sale (Twilio's local numbers).
#[utoipa::path(get, path = "/v1/phone-numbers/available", tag = "phone-numbers",
    params(AvailableQuery),
    security(("bearer" = ["numbers:read"])),
    responses((status = 200, body = AvailableNumberList),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 502, description = "Twilio failed", body = crate::error::Problem)))]
pub async fn available_numbers(
    State(state): State<AppState>,
    _auth: Authorized<perm::NumbersRead>,
    Query(query): Query<AvailableQuery>,
) -> Result<Json<AvailableNumberList>, ApiError> {
    let search = query.search()?;
    let numbers = state
        .twilio
        .available_numbers(&search)
        .await
        .map_err(|e| match e {
            TwilioError::Api { status: 404, .. } => {
                ApiError::invalid("country", "Twilio has no numbers for sale there")
            }
            TwilioError::Api {
                code: 21452,
                message,
                ..
            } => ApiError::invalid("area_code", message),
            other => upstream(other),
        })?;
    Ok(Json(AvailableNumberList {
        data: numbers.into_iter().map(AvailableNumberView::from).collect(),
    }))
}

/// The number Twilio says the account owns, or has just bought for us.
async fn own_number(
    state: &AppState,
    e164: &E164,
    friendly_name: Option<String>,
) -> Result<IncomingNumber, ApiError> {
    let buy = BuyNumber {
        phone_number: e164.to_string(),
        voice_url: state.config.public_url_for("/twilio/voice"),
        status_callback: state.config.public_url_for("/twilio/status"),
        friendly_name,
    };
    state.twilio.own_or_buy(&buy).await.map_err(|e| match e {
        TwilioError::Api {
            code: 21421 | 21422 | 21452,
            message,
            ..
        } => ApiError::invalid("phone_number", message),
        other => upstream(other),
    })
}

/// Checks a purchase before Twilio is asked: the agent is the tenant's, the number no one
/// else's.
async fn check_purchase(
    state: &AppState,
    tenant: TenantId,
    e164: &E164,
    agent: Option<AgentId>,
) -> Result<(), ApiError> {
    if let Some(agent) = agent {
        let found = state.store.agent(tenant, agent).await;
        if !found.is_ok_and(|a| a.archived_at.is_none()) {
            return Err(ApiError::invalid("agent_id", "is not one of your agents"));
        }
    }
    if state.store.number_taken_elsewhere(tenant, e164).await? {
        return Err(ApiError::Conflict(
            "this number belongs to another tenant".into(),
        ));
    }
    Ok(())
}

/// Buys `e164` for `tenant` (or adopts it when a retried purchase already bought it), records
/// it and routes it to `agent`.
pub(crate) async fn provision(
    state: &AppState,
    tenant: TenantId,
    e164: E164,
    friendly_name: Option<String>,
    agent: Option<AgentId>,
) -> Result<PhoneNumber, ApiError> {
    check_purchase(state, tenant, &e164, agent).await?;
    let owned = own_number(state, &e164, friendly_name.clone()).await?;
    let row = NewPhoneNumber {
        e164,
        twilio_sid: owned.sid,
        friendly_name: friendly_name.or(Some(owned.friendly_name)),
        capabilities: Some(owned.capabilities),
        agent_id: agent,
    };
    state
        .store
        .add_phone_number(tenant, row)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(_) => {
                ApiError::Conflict("this number belongs to another tenant".into())
            }
            other => other.into(),
        })
}

/// Buy a number (or adopt one a retried purchase already bought) and optionally assign it.
#[utoipa::path(post, path = "/v1/phone-numbers", tag = "phone-numbers",
    request_body = BuyNumberBody,
    security(("bearer" = ["numbers:write"])),
    responses((status = 201, body = PhoneNumberView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 409, description = "Another tenant has the number", body = crate::error::Problem),
              (status = 502, description = "Twilio failed", body = crate::error::Problem)))]
pub async fn buy_number(
    State(state): State<AppState>,
    auth: Authorized<perm::NumbersWrite>,
    new: Result<Json<BuyNumberBody>, JsonRejection>,
) -> Result<(StatusCode, Json<PhoneNumberView>), ApiError> {
    let new = body(new)?;
    let e164 = E164::parse(&new.phone_number)
        .map_err(|e| ApiError::invalid("phone_number", e.to_string()))?;
    let agent = new.agent_id.map(AgentId::from);
    let number = provision(&state, auth.tenant, e164, new.friendly_name, agent).await?;
    let change = Change {
        action: "phone_number.buy",
        resource_type: "phone_number",
        resource_id: Some(number.id.to_string()),
        before: None,
        after: Some(view_json(&number)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok((StatusCode::CREATED, Json(number.into())))
}

/// One of the tenant's numbers.
#[utoipa::path(get, path = "/v1/phone-numbers/{id}", tag = "phone-numbers",
    params(("id" = Uuid, Path, description = "Phone number id")),
    security(("bearer" = ["numbers:read"])),
    responses((status = 200, body = PhoneNumberView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn get_number(
    State(state): State<AppState>,
    auth: Authorized<perm::NumbersRead>,
    Path(id): Path<String>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    let number = state
        .store
        .phone_number(auth.tenant, number_id(&id)?)
        .await?;
    Ok(Json(number.into()))
}

/// Assign the number to an agent (`agent_id`), or unassign it (`null`).
#[utoipa::path(patch, path = "/v1/phone-numbers/{id}", tag = "phone-numbers",
    request_body = AssignNumberBody,
    params(("id" = Uuid, Path, description = "Phone number id")),
    security(("bearer" = ["numbers:write"])),
    responses((status = 200, body = PhoneNumberView),
              (status = 400, description = "Invalid field", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn assign_number(
    State(state): State<AppState>,
    auth: Authorized<perm::NumbersWrite>,
    Path(id): Path<String>,
    patch: Result<Json<AssignNumberBody>, JsonRejection>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    let id = number_id(&id)?;
    let agent = body(patch)?
        .agent_id
        .ok_or_else(|| ApiError::invalid("agent_id", "is required (null unassigns)"))?
        .map(AgentId::from);
    let (before, after) = state
        .store
        .assign_number(auth.tenant, id, agent)
        .await
        .map_err(|e| match e {
            store::StoreError::NotFound { entity: "agent" } => {
                ApiError::invalid("agent_id", "is not one of your agents")
            }
            other => other.into(),
        })?;
    let change = Change {
        action: "phone_number.assign",
        resource_type: "phone_number",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&before)?),
        after: Some(view_json(&after)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}

/// Release the number back to Twilio. Its row stays, with `released_at`, for history.
#[utoipa::path(delete, path = "/v1/phone-numbers/{id}", tag = "phone-numbers",
    params(("id" = Uuid, Path, description = "Phone number id")),
    security(("bearer" = ["numbers:write"])),
    responses((status = 200, description = "The released number", body = PhoneNumberView),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem),
              (status = 502, description = "Twilio failed", body = crate::error::Problem)))]
pub async fn release_number(
    State(state): State<AppState>,
    auth: Authorized<perm::NumbersWrite>,
    Path(id): Path<String>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    let id = number_id(&id)?;
    let number = state.store.phone_number(auth.tenant, id).await?;
    if number.released_at.is_some() {
        return Err(ApiError::NotFound("phone number"));
    }
    if let Some(sid) = &number.twilio_sid {
        match state.twilio.release_number(sid).await {
            // Released already: a retried release whose first answer was lost.
            Ok(()) | Err(TwilioError::Api { status: 404, .. }) => {}
            Err(other) => return Err(upstream(other)),
        }
    }
    let (before, after) = state.store.release_phone_number(auth.tenant, id).await?;
    let change = Change {
        action: "phone_number.release",
        resource_type: "phone_number",
        resource_id: Some(id.to_string()),
        before: Some(view_json(&before)?),
        after: Some(view_json(&after)?),
    };
    audit::record(&state, &auth.principal, change).await?;
    Ok(Json(after.into()))
}
