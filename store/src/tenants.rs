//! Tenants: the owners of everything else.

use crate::{
    Store, StoreError, conflict_on_unique,
    entities::{agents, api_keys, calls, knowledge_base, messages, phone_numbers, tenants, users},
};
use chrono::{DateTime, Utc};
use domain::{TenantId, TenantStatus};
use rand::RngCore;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::IntoCondition,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// Unique, `a-z0-9-`: how people name the tenant at login and in URLs.
    pub slug: String,
    /// IANA name (`Europe/Paris`); `UTC` by default.
    pub time_zone: String,
    pub settings: serde_json::Value,
    pub status: TenantStatus,
    /// Recordings older than this many days are purged; `None`: kept forever.
    pub recording_retention_days: Option<u32>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub name: String,
    pub slug: String,
    pub time_zone: String,
    pub settings: serde_json::Value,
}

/// The fields to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct TenantUpdate {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub settings: Option<serde_json::Value>,
    /// `Some(None)` keeps recordings forever.
    pub recording_retention_days: Option<Option<u32>>,
}

/// How much a tenant holds (the operator's view).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TenantUsage {
    pub users: u64,
    /// Unrevoked keys.
    pub api_keys: u64,
    pub agents: u64,
    pub phone_numbers: u64,
    pub calls: u64,
    pub messages: u64,
    pub knowledge: u64,
}

impl TryFrom<tenants::Model> for Tenant {
    type Error = StoreError;

    fn try_from(row: tenants::Model) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.into(),
            status: TenantStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("tenants.status `{}`", row.status)))?,
            name: row.name,
            slug: row.slug,
            time_zone: row.time_zone,
            settings: row.settings,
            recording_retention_days: row
                .recording_retention_days
                .and_then(|d| u32::try_from(d).ok()),
            created_at: row.created_at,
        })
    }
}

/// `a-z0-9-` only, no leading, trailing or doubled `-`; `tenant` when nothing is left.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(48).collect();
    match slug.trim_end_matches('-') {
        "" => "tenant".to_owned(),
        s => s.to_owned(),
    }
}

impl Store {
    /// Creates a tenant; a slug already taken is [`StoreError::Conflict`]`("slug")`.
    pub async fn create_tenant_with(&self, new: NewTenant) -> Result<Tenant, StoreError> {
        let id = TenantId::new();
        let now = Utc::now();
        let row = tenants::ActiveModel {
            id: Set(id.as_uuid()),
            name: Set(new.name),
            slug: Set(new.slug),
            time_zone: Set(new.time_zone),
            settings: Set(new.settings),
            status: Set(TenantStatus::Active.as_str().to_owned()),
            recording_retention_days: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = self.scoped(id).await?;
        tenants::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| conflict_on_unique(e, "slug"))?;
        let tenant = load(&txn, id).await?;
        txn.commit().await?;
        Ok(tenant)
    }

    /// Creates a tenant named `name`, in UTC, with a slug made from the name (and a random
    /// suffix when that one is taken).
    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        let base = slugify(name);
        let mut slug = base.clone();
        for _ in 0..5 {
            if self.slug_tenant(&slug).await?.is_none() {
                let new = NewTenant {
                    name: name.to_owned(),
                    slug: slug.clone(),
                    time_zone: "UTC".to_owned(),
                    settings: serde_json::json!({}),
                };
                match self.create_tenant_with(new).await {
                    Err(StoreError::Conflict(_)) => {}
                    done => return done,
                }
            }
            let mut suffix = [0u8; 3];
            rand::rng().fill_bytes(&mut suffix);
            slug = format!("{base}-{}", hex::encode(suffix));
        }
        Err(StoreError::Conflict("slug"))
    }

    pub async fn tenant(&self, tenant: TenantId) -> Result<Tenant, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let found = load(&txn, tenant).await?;
        txn.commit().await?;
        Ok(found)
    }

    pub async fn update_tenant(
        &self,
        tenant: TenantId,
        update: TenantUpdate,
    ) -> Result<Tenant, StoreError> {
        let mut row = tenants::ActiveModel {
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        if let Some(name) = update.name {
            row.name = Set(name);
        }
        if let Some(time_zone) = update.time_zone {
            row.time_zone = Set(time_zone);
        }
        if let Some(settings) = update.settings {
            row.settings = Set(settings);
        }
        if let Some(days) = update.recording_retention_days {
            row.recording_retention_days = Set(days.map(|d| i32::try_from(d).unwrap_or(i32::MAX)));
        }
        self.write_tenant(tenant, row).await
    }

    pub async fn set_tenant_status(
        &self,
        tenant: TenantId,
        status: TenantStatus,
    ) -> Result<Tenant, StoreError> {
        let row = tenants::ActiveModel {
            status: Set(status.as_str().to_owned()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        let written = self.write_tenant(tenant, row).await;
        // Inbound routes carry the tenant's status: a suspension applies to the next call.
        self.forget_routes();
        written
    }

    /// Writes the set fields of `row` to the tenant and reads it back.
    async fn write_tenant(
        &self,
        tenant: TenantId,
        row: tenants::ActiveModel,
    ) -> Result<Tenant, StoreError> {
        let txn = self.scoped(tenant).await?;
        let done = tenants::Entity::update_many()
            .set(row)
            .filter(tenants::Column::Id.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        let found = load(&txn, tenant).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// Edge: the tenant with this slug.
    pub async fn find_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>, StoreError> {
        match self.slug_tenant(slug).await? {
            Some(id) => Ok(Some(self.tenant(id).await?)),
            None => Ok(None),
        }
    }

    /// Edge (the platform operator): every tenant, oldest first.
    pub async fn all_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let mut all = Vec::new();
        for id in self.tenant_ids().await? {
            all.push(self.tenant(id).await?);
        }
        Ok(all)
    }

    /// Edge: the first tenant named exactly `name` (`dev` finds its demo tenant so). Reads
    /// every tenant: for the operator and `dev`, not for request paths.
    pub async fn find_tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        Ok(self
            .all_tenants()
            .await?
            .into_iter()
            .find(|t| t.name == name))
    }

    /// How many users, keys, agents, numbers, calls, messages and knowledge entries the tenant
    /// holds.
    pub async fn tenant_usage(&self, tenant: TenantId) -> Result<TenantUsage, StoreError> {
        let t = tenant.as_uuid();
        let txn = self.scoped_one(tenant).await?;
        let usage = TenantUsage {
            users: count::<users::Entity>(&txn, users::Column::TenantId.eq(t)).await?,
            api_keys: count::<api_keys::Entity>(
                &txn,
                sea_orm::Condition::all()
                    .add(api_keys::Column::TenantId.eq(t))
                    .add(api_keys::Column::RevokedAt.is_null()),
            )
            .await?,
            agents: count::<agents::Entity>(&txn, agents::Column::TenantId.eq(t)).await?,
            phone_numbers: count::<phone_numbers::Entity>(
                &txn,
                phone_numbers::Column::TenantId.eq(t),
            )
            .await?,
            calls: count::<calls::Entity>(&txn, calls::Column::TenantId.eq(t)).await?,
            messages: count::<messages::Entity>(&txn, messages::Column::TenantId.eq(t)).await?,
            knowledge: count::<knowledge_base::Entity>(
                &txn,
                knowledge_base::Column::TenantId.eq(t),
            )
            .await?,
        };
        txn.commit().await?;
        Ok(usage)
    }
}

/// The tenant's row, read in a transaction scoped to it.
async fn load(db: &impl ConnectionTrait, tenant: TenantId) -> Result<Tenant, StoreError> {
    tenants::Entity::find_by_id(tenant.as_uuid())
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "tenant" })?
        .try_into()
}

/// Rows of `E` matching `filter`.
async fn count<E: EntityTrait>(
    db: &impl ConnectionTrait,
    filter: impl IntoCondition,
) -> Result<u64, StoreError>
where
    E::Model: Sync,
{
    Ok(E::find().filter(filter).count(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        store
    }

    #[test]
    fn slugs_keep_letters_digits_and_single_dashes() {
        assert_eq!(slugify("Acme Dental"), "acme-dental");
        assert_eq!(slugify("  Dr. Smith & Sons, LLC "), "dr-smith-sons-llc");
        assert_eq!(slugify("!!!"), "tenant");
    }

    #[tokio::test]
    async fn a_taken_slug_is_a_conflict_and_create_tenant_finds_another() {
        let store = store().await;
        let first = store.create_tenant("Acme").await.unwrap();
        assert_eq!(first.slug, "acme");
        assert_eq!(first.time_zone, "UTC");
        let taken = NewTenant {
            name: "Other".into(),
            slug: "acme".into(),
            time_zone: "UTC".into(),
            settings: serde_json::json!({}),
        };
        assert!(matches!(
            store.create_tenant_with(taken).await,
            Err(StoreError::Conflict("slug"))
        ));
        let second = store.create_tenant("Acme").await.unwrap();
        assert!(second.slug.starts_with("acme-"), "{}", second.slug);
        assert_eq!(
            store
                .find_tenant_by_slug("acme")
                .await
                .unwrap()
                .map(|t| t.id),
            Some(first.id)
        );
        assert_eq!(store.all_tenants().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn existing_tenants_get_slugs_from_their_names_when_migrated() {
        use migrations::{Migrator, MigratorTrait};
        use sea_orm::ConnectionTrait;
        let store = Store::connect("sqlite::memory:").await.unwrap();
        Migrator::up(store.connection(), Some(2)).await.unwrap();
        for (n, name) in [(1, "Acme Dental"), (2, "acme  dental!"), (3, "Ünïcode")] {
            let created = chrono::DateTime::from_timestamp(n * 60, 0).unwrap();
            let insert = sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)",
                [
                    uuid::Uuid::from_u128(n as u128).into(),
                    name.into(),
                    created.into(),
                ],
            );
            store.connection().execute_raw(insert).await.unwrap();
        }
        store.migrate_up().await.unwrap();
        let slugs: Vec<_> = store
            .all_tenants()
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.slug, t.status, t.time_zone))
            .collect();
        let active = TenantStatus::Active;
        assert_eq!(
            slugs,
            [
                ("acme-dental".into(), active, "UTC".into()),
                ("acme-dental-2".into(), active, "UTC".into()),
                ("n-code".into(), active, "UTC".into()),
            ]
        );
    }

    #[tokio::test]
    async fn updates_and_status_read_back() {
        let store = store().await;
        let t = store.create_tenant("Acme").await.unwrap();
        let update = TenantUpdate {
            time_zone: Some("Europe/Paris".into()),
            settings: Some(serde_json::json!({"brand": "blue"})),
            ..Default::default()
        };
        let updated = store.update_tenant(t.id, update).await.unwrap();
        assert_eq!(updated.name, "Acme");
        assert_eq!(updated.time_zone, "Europe/Paris");
        assert_eq!(updated.settings["brand"], "blue");
        let suspended = store
            .set_tenant_status(t.id, TenantStatus::Suspended)
            .await
            .unwrap();
        assert_eq!(suspended.status, TenantStatus::Suspended);
        assert_eq!(
            store.tenant_usage(t.id).await.unwrap(),
            TenantUsage::default()
        );
    }
}
