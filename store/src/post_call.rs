//! What a finished call's analysis changes, in one transaction: the analysis on the call row,
//! a do-not-call entry when the person asked, the appointment they booked, the review flag.
//! Safe to repeat (a retried activity, a redelivered webhook): the do-not-call list holds one
//! entry per number, and a call books at most one appointment (a partial unique index).
//!
//! Calls from other platforms (ElevenLabs) arrive whole, after they ended:
//! [`Store::ingest_external_call`] records the call, its transcript and its analysis at once,
//! or nothing when that platform's call id was recorded before.

use crate::{
    Store, StoreError,
    calls::replace_transcript_from,
    entities::{appointments, calls, customers, dnc_entries, tenants},
};
use chrono::{DateTime, Utc};
use domain::{
    CallDirection, CallOutcome, CallSid, CallStatus, CallerId, E164, TenantId, TranscriptSegment,
    campaign::analysis::{ATTENTION_BELOW, OutcomeClass, PostCallAnalysis},
    crm::{AppointmentSource, AppointmentStatus, DncSource},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    TryInsertResult, sea_query::OnConflict,
};
use uuid::Uuid;

/// What recording an analysis did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnalysisEffects {
    /// The number is on the do-not-call list (added now or before).
    pub dnc_listed: bool,
    /// The appointment this call booked (now or on an earlier attempt).
    pub appointment_id: Option<Uuid>,
    pub needs_attention: bool,
}

/// What `book_appointment` agreed during a campaign's call.
#[derive(Debug, Clone)]
pub struct CallBooking {
    pub call_sid: CallSid,
    pub campaign_id: Uuid,
    pub customer_id: Option<Uuid>,
    /// The person called: who the customer is when the tenant has none with this number.
    pub name: String,
    pub phone: E164,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub notes: Option<String>,
}

/// A call that happened on another platform, as its post-call webhook describes it.
#[derive(Debug, Clone)]
pub struct ExternalCall {
    /// `elevenlabs` …
    pub source: &'static str,
    /// The platform's id for the call (ElevenLabs' `conversation_id`).
    pub external_id: String,
    pub call_sid: CallSid,
    pub direction: CallDirection,
    pub from: CallerId,
    pub to: E164,
    pub status: CallStatus,
    pub outcome: CallOutcome,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub duration_secs: u32,
    pub transcript: Vec<TranscriptSegment>,
    pub campaign_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    Recorded {
        call_id: Uuid,
        effects: AnalysisEffects,
    },
    /// The platform's call id was recorded before: nothing changed.
    AlreadyRecorded { call_id: Uuid },
}

impl Store {
    /// Stores `analysis` on the call and acts on its outcome (see the module doc), in one
    /// transaction. `customer_id` names whom an appointment is for; without it the customer
    /// is the one with the call's number, and with none an agreed appointment goes to review.
    pub async fn record_analysis(
        &self,
        tenant: TenantId,
        call_id: Uuid,
        analysis: &PostCallAnalysis,
        campaign_id: Option<Uuid>,
        customer_id: Option<Uuid>,
    ) -> Result<AnalysisEffects, StoreError> {
        let txn = self.scoped(tenant).await?;
        let call = calls::Entity::find_by_id(call_id)
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "call" })?;
        let effects =
            apply_analysis(&txn, tenant, &call, analysis, campaign_id, customer_id).await?;
        txn.commit().await?;
        Ok(effects)
    }

    /// The appointment a campaign's call booked while it was live (`book_appointment`):
    /// the one it booked before (a retried tool call), or a new one for the target's customer
    /// (found by id or number, or created from the target).
    pub async fn book_during_call(
        &self,
        tenant: TenantId,
        booking: CallBooking,
    ) -> Result<Uuid, StoreError> {
        let txn = self.scoped(tenant).await?;
        let booked_before = appointments::Entity::find()
            .filter(appointments::Column::TenantId.eq(tenant.as_uuid()))
            .filter(appointments::Column::CallSid.eq(booking.call_sid.as_str()))
            .filter(appointments::Column::Source.eq(AppointmentSource::Call.as_str()))
            .one(&txn)
            .await?;
        if let Some(existing) = booked_before {
            txn.commit().await?;
            return Ok(existing.id);
        }
        let now = Utc::now();
        let customer = customer_for_booking(&txn, tenant, &booking).await?;
        let id = Uuid::now_v7();
        appointments::Entity::insert(appointments::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.as_uuid()),
            customer_id: Set(customer.id),
            call_sid: Set(Some(booking.call_sid.to_string())),
            campaign_id: Set(Some(booking.campaign_id)),
            branch_id: Set(customer.branch_id),
            vehicle_id: Set(None),
            starts_at: Set(booking.starts_at),
            time_zone: Set(booking.time_zone),
            status: Set(AppointmentStatus::Booked.as_str().to_owned()),
            notes: Set(booking.notes),
            source: Set(AppointmentSource::Call.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Puts `phone` on the do-not-call list because the person asked during `call_sid`
    /// (already there is fine).
    pub async fn do_not_call_from_call(
        &self,
        tenant: TenantId,
        phone: &E164,
        call_sid: &CallSid,
    ) -> Result<(), StoreError> {
        let txn = self.scoped(tenant).await?;
        add_dnc(&txn, tenant, phone, call_sid.as_str()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records a finished call from another platform with its transcript and analysis, or
    /// nothing when `(source, external_id)` was recorded before.
    pub async fn ingest_external_call(
        &self,
        tenant: TenantId,
        call: &ExternalCall,
        analysis: &PostCallAnalysis,
    ) -> Result<Ingested, StoreError> {
        let txn = self.scoped(tenant).await?;
        let inserted = calls::Entity::insert(external_row(tenant, call))
            .on_conflict_do_nothing_on([
                calls::Column::TenantId,
                calls::Column::Source,
                calls::Column::ExternalId,
            ])
            .exec_without_returning(&txn)
            .await?;
        let row = calls::Entity::find()
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .filter(calls::Column::Source.eq(call.source))
            .filter(calls::Column::ExternalId.eq(call.external_id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "call" })?;
        if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            txn.commit().await?;
            return Ok(Ingested::AlreadyRecorded { call_id: row.id });
        }
        replace_transcript_from(&txn, tenant.as_uuid(), row.id, 0, &call.transcript).await?;
        let effects = apply_analysis(&txn, tenant, &row, analysis, call.campaign_id, None).await?;
        txn.commit().await?;
        Ok(Ingested::Recorded {
            call_id: row.id,
            effects,
        })
    }
}

fn external_row(tenant: TenantId, call: &ExternalCall) -> calls::ActiveModel {
    calls::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.as_uuid()),
        agent_id: Set(None),
        call_sid: Set(call.call_sid.to_string()),
        direction: Set(call.direction.as_str().to_owned()),
        from_number: Set(call.from.to_string()),
        to_number: Set(call.to.to_string()),
        status: Set(call.status.as_str().to_owned()),
        outcome: Set(Some(call.outcome.as_str().to_owned())),
        started_at: Set(call.started_at),
        answered_at: Set(call.answered_at),
        ended_at: Set(Some(call.ended_at)),
        duration_secs: Set(Some(i32::try_from(call.duration_secs).unwrap_or(i32::MAX))),
        answered_by: Set(None),
        // No workflow ran this call: it happened on the other platform.
        workflow_id: Set(String::new()),
        transfer_result: Set(None),
        analysis: Set(None),
        outcome_class: Set(None),
        needs_attention: Set(false),
        resolved_at: Set(None),
        resolved_by: Set(None),
        campaign_id: Set(call.campaign_id),
        external_id: Set(Some(call.external_id.clone())),
        source: Set(call.source.to_owned()),
        tool_calls: Set(None),
        reply_latencies_ms: Set(None),
        reply_latency_p50_ms: Set(None),
    }
}

/// The number on the other end of `call`: whom a do-not-call request or booking is about.
fn counterpart(call: &calls::Model) -> Option<E164> {
    let raw = match CallDirection::parse(&call.direction) {
        Some(CallDirection::Inbound) => &call.from_number,
        _ => &call.to_number,
    };
    E164::parse(raw).ok()
}

async fn apply_analysis(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    call: &calls::Model,
    analysis: &PostCallAnalysis,
    campaign_id: Option<Uuid>,
    customer_id: Option<Uuid>,
) -> Result<AnalysisEffects, StoreError> {
    let phone = counterpart(call);
    let mut effects = AnalysisEffects {
        needs_attention: analysis.needs_attention || analysis.confidence < ATTENTION_BELOW,
        ..AnalysisEffects::default()
    };
    match (analysis.outcome, phone.as_ref()) {
        (OutcomeClass::DoNotCall, Some(phone)) => {
            add_dnc(txn, tenant, phone, &call.call_sid).await?;
            effects.dnc_listed = true;
        }
        // A request we cannot act on (no number) is for a person to handle.
        (OutcomeClass::DoNotCall, None) => effects.needs_attention = true,
        (OutcomeClass::AppointmentBooked, _) => {
            let booking = Booking {
                call,
                analysis,
                campaign_id: campaign_id.or(call.campaign_id),
                customer_id,
                phone: phone.as_ref(),
            };
            effects.appointment_id = book(txn, tenant, booking).await?;
            effects.needs_attention |= effects.appointment_id.is_none();
        }
        _ => {}
    }
    store_on_call(
        txn,
        tenant,
        call,
        analysis,
        campaign_id,
        effects.needs_attention,
    )
    .await?;
    Ok(effects)
}

async fn store_on_call(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    call: &calls::Model,
    analysis: &PostCallAnalysis,
    campaign_id: Option<Uuid>,
    needs_attention: bool,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(analysis)
        .map_err(|e| StoreError::Corrupt(format!("analysis does not serialise: {e}")))?;
    calls::Entity::update_many()
        .set(calls::ActiveModel {
            analysis: Set(Some(json)),
            outcome_class: Set(Some(analysis.outcome.as_str().to_owned())),
            needs_attention: Set(needs_attention),
            campaign_id: Set(campaign_id.or(call.campaign_id)),
            ..Default::default()
        })
        .filter(calls::Column::Id.eq(call.id))
        .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Adds `phone` to the do-not-call list unless it is there already.
async fn add_dnc(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    phone: &E164,
    call_sid: &str,
) -> Result<(), StoreError> {
    let now = Utc::now();
    dnc_entries::Entity::insert(dnc_entries::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.as_uuid()),
        phone: Set(phone.as_str().to_owned()),
        reason: Set(Some(
            "Asked during a call not to be called again.".to_owned(),
        )),
        source: Set(DncSource::Call.as_str().to_owned()),
        call_sid: Set(Some(call_sid.to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([dnc_entries::Column::TenantId, dnc_entries::Column::Phone])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The customer a campaign call books for: the one named or with the number, else a new one
/// made from the person called.
async fn customer_for_booking(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    booking: &CallBooking,
) -> Result<customers::Model, StoreError> {
    if let Some(customer) =
        customer_for(txn, tenant, booking.customer_id, Some(&booking.phone)).await?
    {
        return Ok(customer);
    }
    let now = Utc::now();
    let customer = customers::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.as_uuid()),
        name: Set(booking.name.clone()),
        phone: Set(Some(booking.phone.as_str().to_owned())),
        email: Set(None),
        time_zone: Set(Some(booking.time_zone.clone())),
        branch_id: Set(None),
        consent_calls: Set(true),
        consent_sms: Set(false),
        consent_recorded_at: Set(None),
        notes: Set(Some(
            "Added when a campaign call booked an appointment.".into(),
        )),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(customers::Entity::insert(customer)
        .exec_with_returning(txn)
        .await?)
}

struct Booking<'a> {
    call: &'a calls::Model,
    analysis: &'a PostCallAnalysis,
    campaign_id: Option<Uuid>,
    customer_id: Option<Uuid>,
    phone: Option<&'a E164>,
}

/// The appointment `booking`'s call made: the one booked on an earlier attempt, a new one, or
/// `None` when there is no time or no customer to book for (a person then books it).
async fn book(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    booking: Booking<'_>,
) -> Result<Option<Uuid>, StoreError> {
    let Some(starts_at) = booking.analysis.appointment_at else {
        return Ok(None);
    };
    let booked_before = appointments::Entity::find()
        .filter(appointments::Column::TenantId.eq(tenant.as_uuid()))
        .filter(appointments::Column::CallSid.eq(booking.call.call_sid.as_str()))
        .filter(appointments::Column::Source.eq(AppointmentSource::Call.as_str()))
        .one(txn)
        .await?;
    if let Some(existing) = booked_before {
        return Ok(Some(existing.id));
    }
    let Some(customer) = customer_for(txn, tenant, booking.customer_id, booking.phone).await?
    else {
        return Ok(None);
    };
    let zone = match customer.time_zone {
        Some(zone) => zone,
        None => tenant_zone(txn, tenant).await?,
    };
    let now = Utc::now();
    let id = Uuid::now_v7();
    appointments::Entity::insert(appointments::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.as_uuid()),
        customer_id: Set(customer.id),
        call_sid: Set(Some(booking.call.call_sid.clone())),
        campaign_id: Set(booking.campaign_id),
        branch_id: Set(customer.branch_id),
        vehicle_id: Set(None),
        starts_at: Set(starts_at),
        time_zone: Set(zone),
        status: Set(AppointmentStatus::Booked.as_str().to_owned()),
        notes: Set(Some(booking.analysis.summary.clone())),
        source: Set(AppointmentSource::Call.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(Some(id))
}

/// The customer named, if the tenant has it, else the live customer with this number.
async fn customer_for(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    customer_id: Option<Uuid>,
    phone: Option<&E164>,
) -> Result<Option<customers::Model>, StoreError> {
    let mut query = customers::Entity::find()
        .filter(customers::Column::TenantId.eq(tenant.as_uuid()))
        .filter(customers::Column::DeletedAt.is_null());
    query = match (customer_id, phone) {
        (Some(id), _) => query.filter(customers::Column::Id.eq(id)),
        (None, Some(phone)) => query.filter(customers::Column::Phone.eq(phone.as_str())),
        (None, None) => return Ok(None),
    };
    Ok(query.one(txn).await?)
}

async fn tenant_zone(txn: &impl ConnectionTrait, tenant: TenantId) -> Result<String, StoreError> {
    let row = tenants::Entity::find_by_id(tenant.as_uuid())
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "tenant" })?;
    Ok(row.time_zone)
}

#[cfg(test)]
mod tests;
