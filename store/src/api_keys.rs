//! API keys: only a SHA-256 hash and a display prefix of each key are stored, with the role the
//! key acts as.

use crate::{Store, StoreError, entities::api_keys};
use chrono::{DateTime, Utc};
use domain::{Role, Secret, TenantId};
use rand::RngCore;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A freshly created API key. `secret` is shown once and never stored.
#[derive(Clone, Debug)]
pub struct ApiKeyCreated {
    pub id: Uuid,
    pub prefix: String,
    pub secret: Secret<String>,
}

/// An API key that authenticated: whose it is and what it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthenticatedKey {
    pub tenant: TenantId,
    pub key_id: Uuid,
    pub role: Role,
}

/// An API key as listed: everything but the secret, which is not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: Uuid,
    pub name: String,
    /// The key's first characters (`sk_` and 8 more), to recognise it by.
    pub prefix: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const API_KEY_PREFIX_LEN: usize = 11;
/// `last_used_at` is written at most this often per key: authentication stays a read.
const LAST_USED_GRANULARITY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

fn hash_api_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl TryFrom<api_keys::Model> for ApiKeyInfo {
    type Error = StoreError;

    fn try_from(row: api_keys::Model) -> Result<Self, StoreError> {
        Ok(Self {
            role: Role::parse(&row.role)
                .ok_or_else(|| StoreError::Corrupt(format!("api_keys.role `{}`", row.role)))?,
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

/// Inserts a new key `sk_…` and returns it with its secret.
async fn insert_key(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
    role: Role,
) -> Result<ApiKeyCreated, StoreError> {
    let mut raw = [0u8; 24];
    rand::rng().fill_bytes(&mut raw);
    let secret = format!("sk_{}", hex::encode(raw));
    let prefix = secret[..API_KEY_PREFIX_LEN].to_owned();
    let id = Uuid::now_v7();
    api_keys::Entity::insert(api_keys::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.as_uuid()),
        name: Set(name.to_owned()),
        prefix: Set(prefix.clone()),
        key_hash: Set(hash_api_key(&secret)),
        role: Set(role.as_str().to_owned()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(ApiKeyCreated {
        id,
        prefix,
        secret: Secret::new(secret),
    })
}

/// The tenant's key `id`, revoked or not.
async fn find_key(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<api_keys::Model, StoreError> {
    api_keys::Entity::find_by_id(id)
        .filter(api_keys::Column::TenantId.eq(tenant.as_uuid()))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "api key" })
}

/// Revokes the key (a revoked key stays revoked at its first revocation time).
async fn revoke(db: &impl ConnectionTrait, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
    api_keys::Entity::update_many()
        .set(api_keys::ActiveModel {
            revoked_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .filter(api_keys::Column::Id.eq(id))
        .filter(api_keys::Column::TenantId.eq(tenant.as_uuid()))
        .filter(api_keys::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

impl Store {
    /// Creates an API key with full power (`owner`).
    pub async fn create_api_key(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> Result<ApiKeyCreated, StoreError> {
        self.create_api_key_with_role(tenant, name, Role::Owner)
            .await
    }

    /// Creates an API key `sk_…` acting as `role`. Only its hash and prefix are stored.
    pub async fn create_api_key_with_role(
        &self,
        tenant: TenantId,
        name: &str,
        role: Role,
    ) -> Result<ApiKeyCreated, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let created = insert_key(&txn, tenant, name, role).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// The tenant's keys, revoked ones included, newest first.
    pub async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let rows = api_keys::Entity::find()
            .filter(api_keys::Column::TenantId.eq(tenant.as_uuid()))
            .order_by_desc(api_keys::Column::Id)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(ApiKeyInfo::try_from).collect()
    }

    pub async fn api_key(&self, tenant: TenantId, id: Uuid) -> Result<ApiKeyInfo, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let row = find_key(&txn, tenant, id).await?;
        txn.commit().await?;
        row.try_into()
    }

    /// Replaces an unrevoked key: the old one is revoked and a new one with the same name and
    /// role is created, in one transaction.
    pub async fn rotate_api_key(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<ApiKeyCreated, StoreError> {
        let txn = self.scoped(tenant).await?;
        let old = ApiKeyInfo::try_from(find_key(&txn, tenant, id).await?)?;
        if old.revoked_at.is_some() {
            return Err(StoreError::NotFound { entity: "api key" });
        }
        revoke(&txn, tenant, id).await?;
        let created = insert_key(&txn, tenant, &old.name, old.role).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Revokes the key; revoking it again changes nothing.
    pub async fn revoke_api_key(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<ApiKeyInfo, StoreError> {
        let txn = self.scoped(tenant).await?;
        revoke(&txn, tenant, id).await?;
        let row = find_key(&txn, tenant, id).await?;
        txn.commit().await?;
        row.try_into()
    }

    /// Authentication edge: which tenant owns this (unrevoked) key, and as which role? The
    /// lookup is by hash, so the secret itself is never compared or stored. Notes the key's use
    /// (at most once a minute).
    pub async fn authenticate_api_key(
        &self,
        secret: &str,
    ) -> Result<Option<AuthenticatedKey>, StoreError> {
        let hash = hash_api_key(secret);
        let Some(tenant) = self.api_key_tenant(&hash).await? else {
            return Ok(None);
        };
        let txn = self.scoped_one(tenant).await?;
        let row = api_keys::Entity::find()
            .filter(api_keys::Column::TenantId.eq(tenant.as_uuid()))
            .filter(api_keys::Column::KeyHash.eq(hash))
            .filter(api_keys::Column::RevokedAt.is_null())
            .one(&txn)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let now = Utc::now();
        if row
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_GRANULARITY)
        {
            api_keys::Entity::update_many()
                .set(api_keys::ActiveModel {
                    last_used_at: Set(Some(now)),
                    ..Default::default()
                })
                .filter(api_keys::Column::Id.eq(row.id))
                .filter(api_keys::Column::TenantId.eq(tenant.as_uuid()))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        let info = ApiKeyInfo::try_from(row)?;
        Ok(Some(AuthenticatedKey {
            tenant,
            key_id: info.id,
            role: info.role,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store_and_tenant() -> (Store, TenantId) {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        let tenant = store.create_tenant("Acme").await.unwrap().id;
        (store, tenant)
    }

    #[tokio::test]
    async fn a_created_api_keys_debug_never_shows_its_secret() {
        let (store, tenant) = store_and_tenant().await;
        let key = store.create_api_key(tenant, "ci").await.unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(key.secret.expose().as_str()), "{shown}");
        assert!(shown.contains(&key.prefix), "{shown}");
        let found = store
            .authenticate_api_key(key.secret.expose())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.tenant, found.role), (tenant, Role::Owner));
        let info = store.api_key(tenant, key.id).await.unwrap();
        assert!(info.last_used_at.is_some(), "authentication notes the use");
    }

    #[tokio::test]
    async fn a_rotated_key_keeps_name_and_role_and_the_old_one_stops_working() {
        let (store, tenant) = store_and_tenant().await;
        let old = store
            .create_api_key_with_role(tenant, "reports", Role::Viewer)
            .await
            .unwrap();
        let new = store.rotate_api_key(tenant, old.id).await.unwrap();
        assert_eq!(
            store
                .authenticate_api_key(old.secret.expose())
                .await
                .unwrap(),
            None
        );
        let found = store
            .authenticate_api_key(new.secret.expose())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.key_id, found.role), (new.id, Role::Viewer));
        let listed = store.list_api_keys(tenant).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].id, new.id, "newest first");
        assert_eq!(listed[0].name, "reports");
        assert!(listed[1].revoked_at.is_some());
        assert!(matches!(
            store.rotate_api_key(tenant, old.id).await,
            Err(StoreError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn a_revoked_key_is_refused_and_another_tenant_cannot_revoke_it() {
        let (store, tenant) = store_and_tenant().await;
        let other = store.create_tenant("Globex").await.unwrap().id;
        let key = store.create_api_key(tenant, "ci").await.unwrap();
        assert!(matches!(
            store.revoke_api_key(other, key.id).await,
            Err(StoreError::NotFound { .. })
        ));
        let revoked = store.revoke_api_key(tenant, key.id).await.unwrap();
        let again = store.revoke_api_key(tenant, key.id).await.unwrap();
        assert_eq!(revoked.revoked_at, again.revoked_at);
        assert_eq!(
            store
                .authenticate_api_key(key.secret.expose())
                .await
                .unwrap(),
            None
        );
    }

    #[test]
    fn api_key_hash_is_stable_and_hides_the_secret() {
        let h = hash_api_key("sk_abc");
        assert_eq!(h, hash_api_key("sk_abc"));
        assert_ne!(h, hash_api_key("sk_abd"));
        assert!(!h.contains("abc"));
        assert_eq!(h.len(), 64);
    }
}
