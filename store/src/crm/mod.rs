//! The dealership CRM behind outbound campaigns (seed 004) and the owner's day (seed 003):
//! branches, customers and their vehicles, jobs, call scripts, appointments, the do-not-call
//! list, QA reviews, campaigns and their targets.
//!
//! - this module: [`Resource`], what one tenant-owned table needs to say about itself, and the
//!   five operations every such table shares ([`Store::create_resource`], [`Store::resource`],
//!   [`Store::list_resources`], [`Store::update_resource`], [`Store::delete_resource`]), each in a
//!   tenant scope with the tenant filter in the query.
//! - one module per resource family, named after it, with its record, fields and filter.
//! - [`schedule`]: the owner's views (today's jobs, tomorrow's schedule, open emergencies).
//!
//! Deleting a customer anonymises it (see [`customers`]); everything else is deleted.

pub mod appointments;
pub mod branches;
pub mod campaigns;
pub mod customers;
pub mod dnc;
pub mod engine;
pub mod jobs;
pub mod qa_reviews;
pub mod schedule;
pub mod scripts;
pub mod targets;

use crate::{Page, Store, StoreError, entities::agents};
use chrono::Utc;
use domain::TenantId;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// One tenant-owned table as the generic operations see it. Every CRM table has `id` (UUID v7,
/// so newest-first is id order and the id is the page cursor), `tenant_id`, `created_at` and
/// `updated_at`.
pub trait Resource: Send + Sync + 'static {
    type Entity: EntityTrait;
    /// What callers get back.
    type Record: Clone + Send + 'static;
    /// Everything a client sets, for a create or a whole replacement.
    type New: Send + 'static;
    /// What a list may be narrowed by.
    type Filter: Default + Send + Sync + 'static;

    /// The name a missing one is reported by (`customer not found`).
    const NAME: &'static str;
    /// What a unique violation means (`a do-not-call entry for this number`).
    const UNIQUE: &'static str = "this record";
    const ID: <Self::Entity as EntityTrait>::Column;
    const TENANT: <Self::Entity as EntityTrait>::Column;
    const CREATED_AT: <Self::Entity as EntityTrait>::Column;
    const UPDATED_AT: <Self::Entity as EntityTrait>::Column;

    fn id(record: &Self::Record) -> Uuid;
    /// The client's fields of a stored record (what a replacement starts from).
    fn fields_of(record: &Self::Record) -> Self::New;
    fn record(row: <Self::Entity as EntityTrait>::Model) -> Result<Self::Record, StoreError>;
    /// The client's fields as a row to insert or apply: every one `Set`.
    fn fields(new: Self::New) -> <Self::Entity as EntityTrait>::ActiveModel;

    /// Other rows `new` names, which must be the tenant's.
    fn references(_new: &Self::New) -> Vec<Reference> {
        Vec::new()
    }

    fn filter(_filter: &Self::Filter) -> Condition {
        Condition::all()
    }

    /// Rows that exist but are gone for callers (anonymised customers).
    fn visible() -> Condition {
        Condition::all()
    }

    /// What deleting writes instead of removing the row; `None` removes it.
    fn tombstone() -> Option<<Self::Entity as EntityTrait>::ActiveModel> {
        None
    }
}

/// Fills a [`Resource`] impl's column constants from the entity module `$m`.
macro_rules! tenant_columns {
    ($m:ident) => {
        const ID: $m::Column = $m::Column::Id;
        const TENANT: $m::Column = $m::Column::TenantId;
        const CREATED_AT: $m::Column = $m::Column::CreatedAt;
        const UPDATED_AT: $m::Column = $m::Column::UpdatedAt;
    };
}
pub(crate) use tenant_columns;

/// A row that a new or changed row names, by the request field that named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub field: &'static str,
    pub target: Target,
}

/// Which table a [`Reference`] points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Branch(Uuid),
    Customer(Uuid),
    Vehicle(Uuid),
    Script(Uuid),
    Campaign(Uuid),
    /// An agent that is not archived.
    Agent(Uuid),
}

impl Reference {
    pub fn to(field: &'static str, target: Target) -> Self {
        Self { field, target }
    }

    /// `Some(id)` of `make(id)` for `field`; none for `None`.
    pub fn optional(
        field: &'static str,
        id: Option<Uuid>,
        make: fn(Uuid) -> Target,
    ) -> Option<Self> {
        id.map(|id| Self::to(field, make(id)))
    }
}

/// The tenant's visible row `id` of `R`.
pub(crate) async fn find<R: Resource>(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<R::Record, StoreError> {
    let mut query = R::Entity::find()
        .filter(R::ID.eq(id))
        .filter(R::TENANT.eq(tenant.as_uuid()))
        .filter(R::visible());
    // Held until the transaction ends, so a concurrent change waits instead of being lost.
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let row = query
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: R::NAME })?;
    R::record(row)
}

async fn exists<R: Resource>(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<bool, StoreError> {
    let found = R::Entity::find()
        .filter(R::ID.eq(id))
        .filter(R::TENANT.eq(tenant.as_uuid()))
        .filter(R::visible())
        .one(db)
        .await?;
    Ok(found.is_some())
}

async fn active_agent(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<bool, StoreError> {
    let found = agents::Entity::find_by_id(id)
        .filter(agents::Column::TenantId.eq(tenant.as_uuid()))
        .filter(agents::Column::ArchivedAt.is_null())
        .count(db)
        .await?;
    Ok(found > 0)
}

/// `Ok` when every reference is one of the tenant's rows, else the first that is not.
async fn check_references(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    references: Vec<Reference>,
) -> Result<(), StoreError> {
    for Reference { field, target } in references {
        let (found, entity) = match target {
            Target::Branch(id) => (
                exists::<branches::Branches>(db, tenant, id).await?,
                "branch",
            ),
            Target::Customer(id) => (
                exists::<customers::Customers>(db, tenant, id).await?,
                "customer",
            ),
            Target::Vehicle(id) => (
                exists::<customers::Vehicles>(db, tenant, id).await?,
                "vehicle",
            ),
            Target::Script(id) => (exists::<scripts::Scripts>(db, tenant, id).await?, "script"),
            Target::Campaign(id) => (
                exists::<campaigns::Campaigns>(db, tenant, id).await?,
                "campaign",
            ),
            Target::Agent(id) => (active_agent(db, tenant, id).await?, "agent"),
        };
        if !found {
            return Err(StoreError::UnknownReference { field, entity });
        }
    }
    Ok(())
}

/// The page of `limit` records from `rows`, fetched with `limit + 1` to learn whether more
/// follow.
pub(crate) fn page_of<R: Resource>(
    mut rows: Vec<<R::Entity as EntityTrait>::Model>,
    limit: u64,
) -> Result<Page<R::Record>, StoreError> {
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let items = rows
        .into_iter()
        .map(R::record)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if has_more {
        items.last().map(R::id)
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// `new`'s row with its id, tenant and stamps.
fn stamped<R: Resource>(
    tenant: TenantId,
    id: Uuid,
    new: R::New,
) -> <R::Entity as EntityTrait>::ActiveModel {
    let now = Utc::now();
    let mut row = R::fields(new);
    row.set(R::ID, id.into());
    row.set(R::TENANT, tenant.as_uuid().into());
    row.set(R::CREATED_AT, now.into());
    row.set(R::UPDATED_AT, now.into());
    row
}

impl Store {
    /// Adds `new` for the tenant and returns it as stored.
    pub async fn create_resource<R: Resource>(
        &self,
        tenant: TenantId,
        new: R::New,
    ) -> Result<R::Record, StoreError> {
        let id = Uuid::now_v7();
        let txn = self.scoped(tenant).await?;
        check_references(&txn, tenant, R::references(&new)).await?;
        R::Entity::insert(stamped::<R>(tenant, id, new))
            .exec_without_returning(&txn)
            .await
            .map_err(|e| crate::conflict_on_unique(e, R::UNIQUE))?;
        let record = find::<R>(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn resource<R: Resource>(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<R::Record, StoreError> {
        let txn = self.scoped(tenant).await?;
        let record = find::<R>(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(record)
    }

    /// The tenant's rows matching `filter`, newest first, `before` the cursor if given.
    pub async fn list_resources<R: Resource>(
        &self,
        tenant: TenantId,
        filter: &R::Filter,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<R::Record>, StoreError> {
        let mut query = R::Entity::find()
            .filter(R::TENANT.eq(tenant.as_uuid()))
            .filter(R::visible())
            .filter(R::filter(filter));
        if let Some(cursor) = before {
            query = query.filter(R::ID.lt(cursor));
        }
        let scope = self.scoped_one(tenant).await?;
        let rows = query
            .order_by_desc(R::ID)
            .limit(limit + 1)
            .all(&scope)
            .await?;
        scope.commit().await?;
        page_of::<R>(rows, limit)
    }

    /// Replaces row `id`'s fields with what `change` makes of the current record, in one
    /// transaction (on PostgreSQL the row is locked meanwhile): (before, after).
    pub async fn update_resource<R, E>(
        &self,
        tenant: TenantId,
        id: Uuid,
        change: impl FnOnce(&R::Record) -> Result<R::New, E> + Send,
    ) -> Result<(R::Record, R::Record), E>
    where
        R: Resource,
        E: From<StoreError>,
    {
        let txn = self.scoped(tenant).await?;
        let before = find::<R>(&txn, tenant, id).await?;
        let new = change(&before)?;
        // Only what the change names anew: an appointment of a since-anonymised customer can
        // still be cancelled.
        let kept = R::references(&R::fields_of(&before));
        let named = R::references(&new)
            .into_iter()
            .filter(|r| !kept.contains(r))
            .collect();
        check_references(&txn, tenant, named).await?;
        let mut row = R::fields(new);
        row.set(R::UPDATED_AT, Utc::now().into());
        R::Entity::update_many()
            .set(row)
            .filter(R::ID.eq(id))
            .filter(R::TENANT.eq(tenant.as_uuid()))
            .exec(&txn)
            .await
            .map_err(|e| crate::conflict_on_unique(e, R::UNIQUE))?;
        let after = find::<R>(&txn, tenant, id).await?;
        txn.commit().await.map_err(StoreError::from)?;
        Ok((before, after))
    }

    /// Deletes (or, for a resource with a [`Resource::tombstone`], blanks) row `id`, returning
    /// it as it was.
    pub async fn delete_resource<R: Resource>(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<R::Record, StoreError> {
        let txn = self.scoped(tenant).await?;
        let record = find::<R>(&txn, tenant, id).await?;
        let mine = Condition::all()
            .add(R::ID.eq(id))
            .add(R::TENANT.eq(tenant.as_uuid()));
        match R::tombstone() {
            Some(mut tombstone) => {
                tombstone.set(R::UPDATED_AT, Utc::now().into());
                R::Entity::update_many()
                    .set(tombstone)
                    .filter(mine)
                    .exec(&txn)
                    .await?;
            }
            None => {
                R::Entity::delete_many().filter(mine).exec(&txn).await?;
            }
        }
        txn.commit().await?;
        Ok(record)
    }
}

/// A row as callers see it: its id and stamps around the fields a client sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<T> {
    pub id: Uuid,
    pub fields: T,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

/// A stored E.164 number, or `Corrupt` naming `column`.
pub(crate) fn stored_phone(
    column: &str,
    value: Option<String>,
) -> Result<Option<domain::E164>, StoreError> {
    value
        .map(|v| domain::E164::parse(&v).map_err(|e| StoreError::Corrupt(format!("{column}: {e}"))))
        .transpose()
}

/// A stored IANA zone, or `Corrupt` naming `column`.
pub(crate) fn stored_zone(
    column: &str,
    value: Option<String>,
) -> Result<Option<chrono_tz::Tz>, StoreError> {
    value
        .map(|v| {
            v.parse()
                .map_err(|_| StoreError::Corrupt(format!("{column} `{v}`")))
        })
        .transpose()
}

/// A stored closed-vocabulary value, or `Corrupt` naming `column`.
pub(crate) fn stored_enum<T>(
    column: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(value).ok_or_else(|| StoreError::Corrupt(format!("{column} `{value}`")))
}

/// A stored JSON document as `T`, or `Corrupt` naming `column`.
pub(crate) fn stored_json<T: serde::de::DeserializeOwned>(
    column: &str,
    value: serde_json::Value,
) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// `value` as a JSON column; the CRM's typed documents always serialize.
pub(crate) fn json_column<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
