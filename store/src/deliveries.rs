//! Where each channel's delivery of a taken message stands (`message_deliveries`), the tenant's
//! message webhook (`tenant_webhooks`), and the number a message's SMS is sent from.

use crate::{
    MessageRecord, Store, StoreError,
    entities::{calls, message_deliveries as md, phone_numbers, tenant_webhooks as tw},
};
use chrono::{DateTime, Utc};
use domain::{
    CallDirection, CallSid, E164, Secret, TenantId,
    message::{DeliveryChannel, DeliveryStatus},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use uuid::Uuid;

/// One channel's delivery of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// Stable across attempts: the webhook's `Switchboard-Delivery`.
    pub id: Uuid,
    pub message_id: Uuid,
    pub channel: DeliveryChannel,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// Twilio's Message SID, the email's Message-ID or the webhook delivery id.
    pub provider_ref: Option<String>,
    /// Why the last attempt failed or the channel was skipped (short, no personal data).
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<md::Model> for DeliveryRecord {
    type Error = StoreError;

    fn try_from(row: md::Model) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str, v: &str| StoreError::Corrupt(format!("message_deliveries.{what} `{v}`"));
        Ok(Self {
            channel: DeliveryChannel::parse(&row.channel)
                .ok_or_else(|| corrupt("channel", &row.channel))?,
            status: DeliveryStatus::parse(&row.status)
                .ok_or_else(|| corrupt("status", &row.status))?,
            id: row.id,
            message_id: row.message_id,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            provider_ref: row.provider_ref,
            last_error: row.last_error,
            delivered_at: row.delivered_at,
            updated_at: row.updated_at,
        })
    }
}

/// What an attempt learned: the new status and, if any, the provider's reference or the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUpdate {
    pub status: DeliveryStatus,
    pub provider_ref: Option<String>,
    pub last_error: Option<String>,
}

/// The tenant's message webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantWebhook {
    pub url: String,
    pub secret: Secret<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<tw::Model> for TenantWebhook {
    fn from(row: tw::Model) -> Self {
        Self {
            url: row.url,
            secret: Secret::new(row.secret),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Fills each message's `deliveries` (one query for all of them).
pub(crate) async fn attach_deliveries(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    messages: &mut [MessageRecord],
) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows = md::Entity::find()
        .filter(md::Column::TenantId.eq(tenant.as_uuid()))
        .filter(md::Column::MessageId.is_in(messages.iter().map(|m| m.id)))
        .order_by_asc(md::Column::Channel)
        .all(txn)
        .await?;
    for row in rows {
        let delivery = DeliveryRecord::try_from(row)?;
        if let Some(m) = messages.iter_mut().find(|m| m.id == delivery.message_id) {
            m.deliveries.push(delivery);
        }
    }
    Ok(())
}

async fn find_delivery(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    message_id: Uuid,
    channel: DeliveryChannel,
) -> Result<Option<DeliveryRecord>, StoreError> {
    md::Entity::find()
        .filter(md::Column::TenantId.eq(tenant.as_uuid()))
        .filter(md::Column::MessageId.eq(message_id))
        .filter(md::Column::Channel.eq(channel.as_str()))
        .one(txn)
        .await?
        .map(DeliveryRecord::try_from)
        .transpose()
}

/// The row of (`message_id`, `channel`), created `pending` if there is none.
async fn ensure_delivery(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    message_id: Uuid,
    channel: DeliveryChannel,
) -> Result<DeliveryRecord, StoreError> {
    if let Some(found) = find_delivery(txn, tenant, message_id, channel).await? {
        return Ok(found);
    }
    let now = Utc::now();
    md::Entity::insert(md::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.as_uuid()),
        message_id: Set(message_id),
        channel: Set(channel.as_str().to_owned()),
        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        provider_ref: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict_do_nothing_on([md::Column::MessageId, md::Column::Channel])
    .exec_without_returning(txn)
    .await?;
    find_delivery(txn, tenant, message_id, channel)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "message delivery",
        })
}

async fn update_delivery(
    txn: &DatabaseTransaction,
    id: Uuid,
    update: &DeliveryUpdate,
    attempts: Option<u32>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let mut query = md::Entity::update_many()
        .col_expr(md::Column::Status, Expr::value(update.status.as_str()))
        .col_expr(
            md::Column::LastError,
            Expr::value(update.last_error.clone()),
        )
        .col_expr(md::Column::UpdatedAt, Expr::value(now));
    if update.provider_ref.is_some() {
        query = query.col_expr(
            md::Column::ProviderRef,
            Expr::value(update.provider_ref.clone()),
        );
    }
    if update.status == DeliveryStatus::Delivered {
        query = query.col_expr(md::Column::DeliveredAt, Expr::value(now));
    }
    if let Some(n) = attempts {
        query = query.col_expr(
            md::Column::Attempts,
            Expr::value(i32::try_from(n).unwrap_or(i32::MAX)),
        );
    }
    query.filter(md::Column::Id.eq(id)).exec(txn).await?;
    Ok(())
}

impl Store {
    /// Each channel's delivery of message `message_id`.
    pub async fn message_deliveries(
        &self,
        tenant: TenantId,
        message_id: Uuid,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let rows = md::Entity::find()
            .filter(md::Column::TenantId.eq(tenant.as_uuid()))
            .filter(md::Column::MessageId.eq(message_id))
            .order_by_asc(md::Column::Channel)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(DeliveryRecord::try_from).collect()
    }

    /// Records a channel as not applying to the message (a delivered channel stays delivered).
    pub async fn skip_delivery(
        &self,
        tenant: TenantId,
        message_id: Uuid,
        channel: DeliveryChannel,
        reason: &str,
    ) -> Result<DeliveryRecord, StoreError> {
        let update = DeliveryUpdate {
            status: DeliveryStatus::Skipped,
            provider_ref: None,
            last_error: Some(reason.to_owned()),
        };
        self.settle(tenant, message_id, channel, &update).await
    }

    /// Starts an attempt: the row becomes `sending` with one more attempt counted, before the
    /// side effect. Returns the row as it was *before*: a delivered row is left unchanged (the
    /// caller has nothing left to do), and `attempts > 0` tells the caller an earlier attempt
    /// may have got through.
    pub async fn begin_delivery_attempt(
        &self,
        tenant: TenantId,
        message_id: Uuid,
        channel: DeliveryChannel,
    ) -> Result<DeliveryRecord, StoreError> {
        let update = DeliveryUpdate {
            status: DeliveryStatus::Sending,
            provider_ref: None,
            last_error: None,
        };
        let txn = self.scoped(tenant).await?;
        let before = ensure_delivery(&txn, tenant, message_id, channel).await?;
        if before.status != DeliveryStatus::Delivered {
            update_delivery(&txn, before.id, &update, Some(before.attempts + 1)).await?;
        }
        txn.commit().await?;
        Ok(before)
    }

    /// Records what an attempt learned (a delivered row stays delivered).
    pub async fn record_delivery(
        &self,
        tenant: TenantId,
        message_id: Uuid,
        channel: DeliveryChannel,
        update: &DeliveryUpdate,
    ) -> Result<DeliveryRecord, StoreError> {
        self.settle(tenant, message_id, channel, update).await
    }

    async fn settle(
        &self,
        tenant: TenantId,
        message_id: Uuid,
        channel: DeliveryChannel,
        update: &DeliveryUpdate,
    ) -> Result<DeliveryRecord, StoreError> {
        let txn = self.scoped(tenant).await?;
        let row = ensure_delivery(&txn, tenant, message_id, channel).await?;
        if row.status != DeliveryStatus::Delivered {
            update_delivery(&txn, row.id, update, None).await?;
        }
        let row = find_delivery(&txn, tenant, message_id, channel)
            .await?
            .unwrap_or(row);
        txn.commit().await?;
        Ok(row)
    }

    /// The tenant's message webhook, if it has one.
    pub async fn tenant_webhook(
        &self,
        tenant: TenantId,
    ) -> Result<Option<TenantWebhook>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let row = tw::Entity::find()
            .filter(tw::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?;
        txn.commit().await?;
        Ok(row.map(Into::into))
    }

    /// Sets the tenant's message webhook (replacing any): (before, after).
    pub async fn put_tenant_webhook(
        &self,
        tenant: TenantId,
        url: &str,
        secret: &Secret<String>,
    ) -> Result<(Option<TenantWebhook>, TenantWebhook), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = tw::Entity::find()
            .filter(tw::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?;
        let now = Utc::now();
        if let Some(row) = &before {
            tw::Entity::delete_by_id(row.id).exec(&txn).await?;
        }
        let created = before.as_ref().map_or(now, |r| r.created_at);
        tw::Entity::insert(tw::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            url: Set(url.to_owned()),
            secret: Set(secret.expose().clone()),
            created_at: Set(created),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        let after = tw::Entity::find()
            .filter(tw::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "webhook" })?;
        txn.commit().await?;
        Ok((before.map(Into::into), after.into()))
    }

    /// Removes the tenant's message webhook; the one removed, if there was one.
    pub async fn delete_tenant_webhook(
        &self,
        tenant: TenantId,
    ) -> Result<Option<TenantWebhook>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = tw::Entity::find()
            .filter(tw::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await?;
        if let Some(row) = &before {
            tw::Entity::delete_by_id(row.id).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(before.map(Into::into))
    }

    /// The number a message's SMS goes out from: the tenant's number the call was on (the
    /// dialled number of an inbound call, the caller ID of an outbound one), else the tenant's
    /// oldest number in service.
    pub async fn sms_sender(
        &self,
        tenant: TenantId,
        call_sid: Option<&CallSid>,
    ) -> Result<Option<E164>, StoreError> {
        let txn = self.scoped(tenant).await?;
        let call = match call_sid {
            Some(sid) => {
                calls::Entity::find()
                    .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
                    .filter(calls::Column::CallSid.eq(sid.as_str()))
                    .one(&txn)
                    .await?
            }
            None => None,
        };
        let from_call = call.and_then(|c| {
            let ours = if c.direction == CallDirection::Outbound.as_str() {
                c.from_number
            } else {
                c.to_number
            };
            E164::parse(&ours).ok()
        });
        if from_call.is_some() {
            txn.commit().await?;
            return Ok(from_call);
        }
        let oldest = phone_numbers::Entity::find()
            .filter(phone_numbers::Column::TenantId.eq(tenant.as_uuid()))
            .filter(phone_numbers::Column::ReleasedAt.is_null())
            .order_by_asc(phone_numbers::Column::CreatedAt)
            .one(&txn)
            .await?;
        txn.commit().await?;
        Ok(oldest.and_then(|n| E164::parse(&n.e164).ok()))
    }
}
