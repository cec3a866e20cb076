//! The do-not-call list: one entry per number per tenant. The campaign engine asks
//! [`Store::is_dnc`] before a dial, or takes the whole [`Store::dnc_set`] once per batch.

use super::{Resource, Stored, stored_enum, stored_phone, tenant_columns};
use crate::{Store, StoreError, entities::dnc_entries};
use domain::{CallSid, E164, TenantId, crm::DncSource};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use std::collections::HashSet;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct DncFields {
    pub phone: E164,
    pub reason: Option<String>,
    pub source: DncSource,
    /// The call in which the person asked.
    pub call_sid: Option<CallSid>,
}

pub type DncEntry = Stored<DncFields>;

#[derive(Debug, Clone, Default)]
pub struct DncFilter {
    pub phone: Option<E164>,
}

pub struct DncEntries;

impl Resource for DncEntries {
    type Entity = dnc_entries::Entity;
    type Record = DncEntry;
    type New = DncFields;
    type Filter = DncFilter;
    const NAME: &'static str = "do-not-call entry";
    const UNIQUE: &'static str = "a do-not-call entry for this number";
    tenant_columns!(dnc_entries);

    fn id(record: &DncEntry) -> Uuid {
        record.id
    }

    fn fields_of(record: &DncEntry) -> DncFields {
        record.fields.clone()
    }

    fn record(row: dnc_entries::Model) -> Result<DncEntry, StoreError> {
        let phone = stored_phone("dnc_entries.phone", Some(row.phone))?
            .ok_or_else(|| StoreError::Corrupt("dnc_entries.phone".into()))?;
        let call_sid = row
            .call_sid
            .map(|s| {
                CallSid::parse(&s)
                    .map_err(|e| StoreError::Corrupt(format!("dnc_entries.call_sid: {e}")))
            })
            .transpose()?;
        Ok(Stored {
            id: row.id,
            fields: DncFields {
                phone,
                reason: row.reason,
                source: stored_enum("dnc_entries.source", &row.source, DncSource::parse)?,
                call_sid,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn fields(new: DncFields) -> dnc_entries::ActiveModel {
        dnc_entries::ActiveModel {
            phone: Set(new.phone.as_str().to_owned()),
            reason: Set(new.reason),
            source: Set(new.source.as_str().to_owned()),
            call_sid: Set(new.call_sid.map(|s| s.as_str().to_owned())),
            ..Default::default()
        }
    }

    fn filter(filter: &DncFilter) -> sea_orm::Condition {
        sea_orm::Condition::all().add_option(
            filter
                .phone
                .as_ref()
                .map(|p| dnc_entries::Column::Phone.eq(p.as_str())),
        )
    }
}

impl Store {
    /// Whether `phone` is on the tenant's do-not-call list.
    pub async fn is_dnc(&self, tenant: TenantId, phone: &E164) -> Result<bool, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let found = dnc_entries::Entity::find()
            .filter(dnc_entries::Column::TenantId.eq(tenant.as_uuid()))
            .filter(dnc_entries::Column::Phone.eq(phone.as_str()))
            .count(&scope)
            .await?;
        scope.commit().await?;
        Ok(found > 0)
    }

    /// Every number on the tenant's do-not-call list (E.164), for scrubbing a batch of targets
    /// in memory: a list is thousands of short strings, not millions.
    pub async fn dnc_set(&self, tenant: TenantId) -> Result<HashSet<String>, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let numbers: Vec<String> = dnc_entries::Entity::find()
            .select_only()
            .column(dnc_entries::Column::Phone)
            .filter(dnc_entries::Column::TenantId.eq(tenant.as_uuid()))
            .into_tuple()
            .all(&scope)
            .await?;
        scope.commit().await?;
        Ok(numbers.into_iter().collect())
    }
}
