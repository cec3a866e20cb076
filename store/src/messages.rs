//! Messages agents take for people at the business.

use crate::deliveries::{DeliveryRecord, attach_deliveries};
use crate::{Page, Store, StoreError, agents::into_page, entities::messages};
use chrono::{DateTime, Utc};
use domain::{
    CallSid, MessageStatus, TenantId, conversation::TakeMessageInput, message::MessageRecipient,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: Uuid,
    pub call_sid: Option<CallSid>,
    pub for_whom: Option<String>,
    pub caller_name: String,
    pub callback_number: Option<String>,
    pub body: String,
    pub status: MessageStatus,
    /// Who it is for, as the directory had them when it was taken.
    pub recipient: Option<MessageRecipient>,
    /// Where each delivery channel stands (none before delivery was planned).
    pub deliveries: Vec<DeliveryRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The recipient columns of a row; a recipient needs at least a kind and a name.
fn recipient(row: &messages::Model) -> Option<MessageRecipient> {
    Some(MessageRecipient {
        kind: row.recipient_kind.clone()?,
        id: row.recipient_id,
        name: row.recipient_name.clone()?,
        phone: row.recipient_phone.clone(),
        email: row.recipient_email.clone(),
    })
}

impl TryFrom<messages::Model> for MessageRecord {
    type Error = StoreError;

    fn try_from(row: messages::Model) -> Result<Self, StoreError> {
        let call_sid = match row.call_sid.as_deref() {
            Some(raw) => Some(
                CallSid::parse(raw)
                    .map_err(|_| StoreError::Corrupt(format!("messages.call_sid `{raw}`")))?,
            ),
            None => None,
        };
        let status = MessageStatus::parse(&row.status)
            .ok_or_else(|| StoreError::Corrupt(format!("messages.status `{}`", row.status)))?;
        Ok(Self {
            recipient: recipient(&row),
            deliveries: Vec::new(),
            id: row.id,
            call_sid,
            for_whom: row.for_whom,
            caller_name: row.caller_name,
            callback_number: row.callback_number,
            body: row.body,
            status,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "message" };

async fn find_message(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    id: Uuid,
) -> Result<MessageRecord, StoreError> {
    let mut message: MessageRecord = messages::Entity::find_by_id(id)
        .filter(messages::Column::TenantId.eq(tenant.as_uuid()))
        .one(txn)
        .await?
        .ok_or(NOT_FOUND)?
        .try_into()?;
    attach_deliveries(txn, tenant, std::slice::from_mut(&mut message)).await?;
    Ok(message)
}

/// The recipient columns of a new or corrected message.
fn recipient_columns(input: &TakeMessageInput, row: &mut messages::ActiveModel) {
    let r = input.recipient.as_ref();
    row.recipient_kind = Set(r.map(|r| r.kind.clone()));
    row.recipient_id = Set(r.and_then(|r| r.id));
    row.recipient_name = Set(r.map(|r| r.name.clone()));
    row.recipient_phone = Set(r.and_then(|r| r.phone.clone()));
    row.recipient_email = Set(r.and_then(|r| r.email.clone()));
}

impl Store {
    /// Stores a message once per `request_key`: a retried activity gets the first row back.
    /// With `input.replaces`, the message of that id (same tenant, same call) is corrected in
    /// place instead, which is idempotent by itself.
    pub async fn take_message(
        &self,
        request_key: &str,
        input: &TakeMessageInput,
    ) -> Result<MessageRecord, StoreError> {
        if let Some(replaces) = &input.replaces {
            return self.correct_message(replaces, input).await;
        }
        let now = Utc::now();
        let txn = self.scoped(input.tenant_id).await?;
        let mut row = messages::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(input.tenant_id.as_uuid()),
            call_sid: Set(Some(input.call_sid.to_string())),
            request_key: Set(request_key.to_owned()),
            for_whom: Set(input.for_whom.clone()),
            caller_name: Set(input.caller_name.clone()),
            callback_number: Set(input.callback_number.clone()),
            body: Set(input.message.clone()),
            status: Set(MessageStatus::New.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        recipient_columns(input, &mut row);
        messages::Entity::insert(row)
            .on_conflict_do_nothing_on([messages::Column::TenantId, messages::Column::RequestKey])
            .exec_without_returning(&txn)
            .await?;
        let id = messages::Entity::find()
            .filter(messages::Column::TenantId.eq(input.tenant_id.as_uuid()))
            .filter(messages::Column::RequestKey.eq(request_key))
            .one(&txn)
            .await?
            .ok_or(NOT_FOUND)?
            .id;
        let message = find_message(&txn, input.tenant_id, id).await?;
        txn.commit().await?;
        Ok(message)
    }

    async fn correct_message(
        &self,
        message_id: &str,
        input: &TakeMessageInput,
    ) -> Result<MessageRecord, StoreError> {
        let Ok(id) = Uuid::parse_str(message_id.trim()) else {
            return Err(NOT_FOUND);
        };
        let tenant = input.tenant_id;
        let txn = self.scoped(tenant).await?;
        let mut update = messages::Entity::update_many();
        if let Some(r) = &input.recipient {
            // A correction that names the recipient again re-snapshots them.
            update = update
                .col_expr(messages::Column::RecipientKind, Expr::value(r.kind.clone()))
                .col_expr(messages::Column::RecipientId, Expr::value(r.id))
                .col_expr(messages::Column::RecipientName, Expr::value(r.name.clone()))
                .col_expr(
                    messages::Column::RecipientPhone,
                    Expr::value(r.phone.clone()),
                )
                .col_expr(
                    messages::Column::RecipientEmail,
                    Expr::value(r.email.clone()),
                );
        }
        let updated = update
            .col_expr(
                messages::Column::ForWhom,
                Expr::value(input.for_whom.clone()),
            )
            .col_expr(
                messages::Column::CallerName,
                Expr::value(input.caller_name.clone()),
            )
            .col_expr(
                messages::Column::CallbackNumber,
                Expr::value(input.callback_number.clone()),
            )
            .col_expr(messages::Column::Body, Expr::value(input.message.clone()))
            .col_expr(messages::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(messages::Column::Id.eq(id))
            .filter(messages::Column::TenantId.eq(tenant.as_uuid()))
            .filter(messages::Column::CallSid.eq(input.call_sid.to_string()))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(NOT_FOUND);
        }
        let message = find_message(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(message)
    }

    /// The tenant's most recent messages, newest first.
    pub async fn list_messages(
        &self,
        tenant: TenantId,
        limit: u64,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        Ok(self
            .list_messages_page(tenant, None, limit, None)
            .await?
            .items)
    }

    /// The tenant's messages, newest first, with one `status` if given.
    pub async fn list_messages_page(
        &self,
        tenant: TenantId,
        status: Option<MessageStatus>,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<MessageRecord>, StoreError> {
        let mut query =
            messages::Entity::find().filter(messages::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(status) = status {
            query = query.filter(messages::Column::Status.eq(status.as_str()));
        }
        if let Some(cursor) = before {
            query = query.filter(messages::Column::Id.lt(cursor));
        }
        let txn = self.scoped(tenant).await?;
        let rows = query
            .order_by_desc(messages::Column::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        let mut page = into_page(rows, limit, |r| r.id, MessageRecord::try_from)?;
        attach_deliveries(&txn, tenant, &mut page.items).await?;
        txn.commit().await?;
        Ok(page)
    }

    pub async fn message(&self, tenant: TenantId, id: Uuid) -> Result<MessageRecord, StoreError> {
        let txn = self.scoped(tenant).await?;
        let message = find_message(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(message)
    }

    /// Sets message `id`'s status (`new` → `read` → `handled`, or back): (before, after).
    pub async fn set_message_status(
        &self,
        tenant: TenantId,
        id: Uuid,
        status: MessageStatus,
    ) -> Result<(MessageRecord, MessageRecord), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = find_message(&txn, tenant, id).await?;
        messages::Entity::update_many()
            .col_expr(messages::Column::Status, Expr::value(status.as_str()))
            .col_expr(messages::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(messages::Column::Id.eq(id))
            .filter(messages::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let after = find_message(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok((before, after))
    }
}
