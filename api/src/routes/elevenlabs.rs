//! `POST /webhooks/elevenlabs/post-call`: ElevenLabs' post-call webhook, for tenants whose
//! agents run on ElevenLabs Conversational AI. Each finished conversation becomes a call row
//! (source `elevenlabs`, `external_id` = the conversation id) with its transcript and our
//! rule-based analysis, whose outcome acts as for our own calls (do-not-call, booking, review).
//!
//! One URL per tenant: `?tenant={tenant id}` says whose secret verifies the signature
//! (`GET /v1/tenant/integrations/elevenlabs` shows the URL to paste into ElevenLabs). A bad
//! signature, no secret set and no such tenant are the same 403, so the endpoint does not tell
//! strangers which tenants exist. A redelivered conversation is a 200 that changes nothing.
//!
//! Each recorded call is announced to the tenant's own webhook as one `call.analyzed` event
//! (`routes::webhook_deliveries`), however often ElevenLabs delivers the conversation.

use crate::query::Query;
use crate::{ApiError, AppState, hardening};
use axum::{Json, Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use chrono::{DateTime, Utc};
use domain::{
    CallDirection, CallOutcome, CallSid, CallStatus, CallerId, E164, TenantId,
    campaign::{AttemptOutcome, PostCallAnalysis, analyse_call, zones::infer_time_zone},
    elevenlabs::{self, PostCallTranscription, WebhookEvent},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{
    integrations::ELEVENLABS,
    post_call::{ExternalCall, Ingested},
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The path ElevenLabs posts to (with `?tenant=`).
pub const PATH: &str = "/webhooks/elevenlabs/post-call";
/// ElevenLabs' transcripts of long calls run to a few hundred kilobytes; 5 MB leaves room and
/// still bounds what an unauthenticated sender can make us buffer.
const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        PATH,
        post(post_call).layer(hardening::body_limit(MAX_BODY_BYTES)),
    )
}

/// The URL a tenant gives ElevenLabs.
pub fn webhook_url(state: &AppState, tenant: TenantId) -> String {
    state
        .config
        .public_url_for(&format!("{PATH}?tenant={tenant}"))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReceiverQuery {
    /// The tenant's id, as in the URL `GET /v1/tenant/integrations/elevenlabs` shows.
    pub tenant: Option<String>,
}

/// What the receiver did with a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// `recorded`, `duplicate` (this conversation was recorded before) or `ignored` (an event
    /// type or conversation we do not record, such as one that was not a phone call).
    pub status: &'static str,
    pub call_id: Option<Uuid>,
}

/// Receive ElevenLabs' post-call webhook. Authenticated by `ElevenLabs-Signature`
/// (`t={unix},v0={hex HMAC-SHA256 of "{t}.{body}"}`, 30 minutes' tolerance) with the secret
/// the tenant set through `PUT /v1/tenant/integrations/elevenlabs`.
#[utoipa::path(post, path = "/webhooks/elevenlabs/post-call", tag = "webhooks",
    params(ReceiverQuery,
        ("ElevenLabs-Signature" = String, Header, description = "t={unix},v0={hex}")),
    request_body(content = String, description = "ElevenLabs' webhook event (JSON)",
                 content_type = "application/json"),
    responses((status = 200, body = Receipt),
              (status = 400, description = "Invalid payload", body = crate::error::Problem),
              (status = 403, description = "Bad signature", body = crate::error::Problem),
              (status = 413, body = crate::error::Problem)))]
pub async fn post_call(
    State(state): State<AppState>,
    Query(query): Query<ReceiverQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Receipt>, ApiError> {
    let tenant = authenticate(&state, query.tenant.as_deref(), &headers, &body).await?;
    tracing::Span::current().record("tenant_id", tracing::field::display(tenant));
    let event: WebhookEvent = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("body", format!("not an ElevenLabs event: {e}")))?;
    let Some(payload) = event.post_call_transcription() else {
        return Ok(Json(ignored()));
    };
    let payload = payload.map_err(|e| ApiError::invalid("data", e))?;
    let Some(call) = external_call(tenant, &payload) else {
        return Ok(Json(ignored()));
    };
    let analysis = analyse(&state, tenant, &call, &payload).await?;
    let receipt = match state
        .store
        .ingest_external_call(tenant, &call, &analysis)
        .await?
    {
        Ingested::Recorded { call_id, .. } => Receipt {
            status: "recorded",
            call_id: Some(call_id),
        },
        Ingested::AlreadyRecorded { call_id } => Receipt {
            status: "duplicate",
            call_id: Some(call_id),
        },
    };
    if let Some(call_id) = receipt.call_id {
        // A redelivery too: the event exists once per call, and this mends a start that
        // failed after the call was recorded.
        super::webhook_deliveries::emit_call_analyzed(&state, tenant, call_id).await?;
    }
    tracing::info!(status = receipt.status, "ElevenLabs post-call webhook");
    Ok(Json(receipt))
}

fn ignored() -> Receipt {
    Receipt {
        status: "ignored",
        call_id: None,
    }
}

/// The tenant whose secret signed `body`, or the one 403 for every way of failing.
async fn authenticate(
    state: &AppState,
    tenant: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TenantId, ApiError> {
    let tenant = tenant
        .and_then(|t| Uuid::parse_str(t).ok())
        .map(TenantId::from)
        .ok_or(ApiError::InvalidSignature)?;
    let header = headers
        .get(elevenlabs::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::InvalidSignature)?;
    let secret = state
        .store
        .integration_secret(tenant, ELEVENLABS)
        .await?
        .ok_or(ApiError::InvalidSignature)?;
    elevenlabs::verify(secret.expose(), header, body, Utc::now().timestamp()).map_err(|e| {
        tracing::warn!(reason = %e, "rejected an ElevenLabs webhook");
        ApiError::InvalidSignature
    })?;
    Ok(tenant)
}

/// Our `CallSid` for an ElevenLabs conversation: derived from the tenant and conversation, so
/// a redelivery derives the same one. Not ElevenLabs' Twilio SID: `calls.call_sid` is unique
/// across tenants, and a payload's SID is only the sender's claim.
fn call_sid_for(tenant: TenantId, conversation_id: &str) -> Option<CallSid> {
    let digest = Sha256::digest(format!("elevenlabs:{tenant}:{conversation_id}"));
    CallSid::parse(&format!("CA{}", &hex::encode(digest)[..32])).ok()
}

/// The call a conversation was, or `None` when it was not a phone call we can record.
fn external_call(tenant: TenantId, payload: &PostCallTranscription) -> Option<ExternalCall> {
    let phone = payload.metadata.phone_call.as_ref()?;
    let direction = match phone.direction.as_deref() {
        Some("inbound") => CallDirection::Inbound,
        _ => CallDirection::Outbound,
    };
    let external = phone.external_number.as_deref().unwrap_or_default();
    let agent = phone.agent_number.as_deref().unwrap_or_default();
    let (from, to) = match direction {
        CallDirection::Inbound => (CallerId::parse(external), E164::parse(agent).ok()?),
        CallDirection::Outbound => (CallerId::parse(agent), E164::parse(external).ok()?),
    };
    let failed = payload.status.as_deref() == Some("failed");
    let duration = payload.metadata.call_duration_secs.unwrap_or(0.0).max(0.0);
    let started_at = payload
        .metadata
        .start_time_unix_secs
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_else(Utc::now);
    let answered = !failed && payload.transcript.iter().any(|t| t.role == "user");
    Some(ExternalCall {
        source: ELEVENLABS,
        external_id: payload.conversation_id.clone(),
        call_sid: call_sid_for(tenant, &payload.conversation_id)?,
        direction,
        from,
        to,
        status: if failed {
            CallStatus::Failed
        } else {
            CallStatus::Completed
        },
        outcome: if failed {
            CallOutcome::Failed
        } else {
            CallOutcome::Completed
        },
        started_at,
        answered_at: answered.then_some(started_at),
        ended_at: started_at + chrono::Duration::milliseconds((duration * 1000.0) as i64),
        duration_secs: duration.round() as u32,
        transcript: payload.segments(),
        campaign_id: None,
    })
}

/// Our rule-based analysis, read in the person's zone (by their number, else the tenant's)
/// as of the call's start. ElevenLabs' own summary, when it wrote one, reads better than ours.
async fn analyse(
    state: &AppState,
    tenant: TenantId,
    call: &ExternalCall,
    payload: &PostCallTranscription,
) -> Result<PostCallAnalysis, ApiError> {
    let person = match call.direction {
        CallDirection::Inbound => match &call.from {
            CallerId::Number(n) => Some(n.clone()),
            _ => None,
        },
        CallDirection::Outbound => Some(call.to.clone()),
    };
    let tenant_zone = state.store.tenant(tenant).await?.time_zone.parse().ok();
    let zone = person
        .as_ref()
        .and_then(infer_time_zone)
        .or(tenant_zone)
        .unwrap_or(chrono_tz::UTC);
    let attempt = match (call.status, call.answered_at) {
        (CallStatus::Failed, _) => AttemptOutcome::Failed,
        (_, None) => AttemptOutcome::NoAnswer,
        _ => AttemptOutcome::Completed,
    };
    let mut analysis = analyse_call(&call.transcript, attempt, zone, call.started_at);
    let theirs = payload
        .analysis
        .as_ref()
        .and_then(|a| a.transcript_summary.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(summary) = theirs {
        analysis.summary = summary.to_owned();
    }
    Ok(analysis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_keeps_its_call_sid_across_deliveries_and_tenants_get_their_own() {
        let a = TenantId::from(Uuid::now_v7());
        let b = TenantId::from(Uuid::now_v7());
        let sid = call_sid_for(a, "conv_1");
        assert!(sid.is_some());
        assert_eq!(sid, call_sid_for(a, "conv_1"));
        assert_ne!(sid, call_sid_for(b, "conv_1"));
    }
}
