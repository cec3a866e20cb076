//! Messages agents take for people at the business.

use crate::{Store, StoreError, entities::messages};
use chrono::{DateTime, Utc};
use domain::{CallSid, TenantId, conversation::TakeMessageInput};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
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
    pub status: String,
    pub created_at: DateTime<Utc>,
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
        Ok(Self {
            id: row.id,
            call_sid,
            for_whom: row.for_whom,
            caller_name: row.caller_name,
            callback_number: row.callback_number,
            body: row.body,
            status: row.status,
            created_at: row.created_at,
        })
    }
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
        messages::Entity::insert(messages::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(input.tenant_id.as_uuid()),
            call_sid: Set(Some(input.call_sid.to_string())),
            request_key: Set(request_key.to_owned()),
            for_whom: Set(input.for_whom.clone()),
            caller_name: Set(input.caller_name.clone()),
            callback_number: Set(input.callback_number.clone()),
            body: Set(input.message.clone()),
            status: Set("new".into()),
            created_at: Set(Utc::now()),
        })
        .on_conflict_do_nothing_on([messages::Column::TenantId, messages::Column::RequestKey])
        .exec_without_returning(&self.db)
        .await?;
        messages::Entity::find()
            .filter(messages::Column::TenantId.eq(input.tenant_id.as_uuid()))
            .filter(messages::Column::RequestKey.eq(request_key))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { entity: "message" })?
            .try_into()
    }

    async fn correct_message(
        &self,
        message_id: &str,
        input: &TakeMessageInput,
    ) -> Result<MessageRecord, StoreError> {
        let not_found = StoreError::NotFound { entity: "message" };
        let Ok(id) = Uuid::parse_str(message_id.trim()) else {
            return Err(not_found);
        };
        let updated = messages::Entity::update_many()
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
            .filter(messages::Column::Id.eq(id))
            .filter(messages::Column::TenantId.eq(input.tenant_id.as_uuid()))
            .filter(messages::Column::CallSid.eq(input.call_sid.to_string()))
            .exec(&self.db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(not_found);
        }
        messages::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(not_found)?
            .try_into()
    }

    /// The tenant's messages, newest first.
    pub async fn list_messages(
        &self,
        tenant: TenantId,
        limit: u64,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        use sea_orm::QuerySelect;
        messages::Entity::find()
            .filter(messages::Column::TenantId.eq(tenant.as_uuid()))
            .order_by_desc(messages::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(MessageRecord::try_from)
            .collect()
    }
}
