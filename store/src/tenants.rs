//! Tenants and their API keys.

use crate::{
    Store, StoreError,
    entities::{api_keys, tenants},
};
use chrono::Utc;
use domain::{Secret, TenantId};
use rand::RngCore;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
}

/// A freshly created API key. `secret` is shown once and never stored.
#[derive(Clone, Debug)]
pub struct ApiKeyCreated {
    pub id: uuid::Uuid,
    pub prefix: String,
    pub secret: Secret<String>,
}

/// An API key that authenticated: whose it is and what it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthenticatedKey {
    pub tenant: TenantId,
    pub key_id: uuid::Uuid,
    pub role: domain::Role,
}

const API_KEY_PREFIX_LEN: usize = 11;

fn hash_api_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        let id = TenantId::new();
        tenants::Entity::insert(tenants::ActiveModel {
            id: Set(id.as_uuid()),
            name: Set(name.to_owned()),
            created_at: Set(Utc::now()),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(Tenant {
            id,
            name: name.to_owned(),
        })
    }

    pub async fn tenant(&self, tenant: TenantId) -> Result<Tenant, StoreError> {
        let row = tenants::Entity::find_by_id(tenant.as_uuid())
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { entity: "tenant" })?;
        Ok(Tenant {
            id: tenant,
            name: row.name,
        })
    }

    pub async fn find_tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        let row = tenants::Entity::find()
            .filter(tenants::Column::Name.eq(name))
            .one(&self.db)
            .await?;
        Ok(row.map(|r| Tenant {
            id: r.id.into(),
            name: r.name,
        }))
    }

    /// Creates an API key `sk_…` for the tenant. Only its hash and prefix are stored.
    pub async fn create_api_key(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> Result<ApiKeyCreated, StoreError> {
        let mut raw = [0u8; 24];
        rand::rng().fill_bytes(&mut raw);
        let secret = format!("sk_{}", hex::encode(raw));
        let prefix = secret[..API_KEY_PREFIX_LEN].to_owned();
        let id = uuid::Uuid::now_v7();
        api_keys::Entity::insert(api_keys::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.as_uuid()),
            name: Set(name.to_owned()),
            prefix: Set(prefix.clone()),
            key_hash: Set(hash_api_key(&secret)),
            created_at: Set(Utc::now()),
            revoked_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(ApiKeyCreated {
            id,
            prefix,
            secret: Secret::new(secret),
        })
    }

    /// Authentication edge: which tenant owns this (unrevoked) key? The lookup is by hash,
    /// so the secret itself is never compared or stored.
    pub async fn authenticate_api_key(
        &self,
        secret: &str,
    ) -> Result<Option<AuthenticatedKey>, StoreError> {
        let row = api_keys::Entity::find()
            .filter(api_keys::Column::KeyHash.eq(hash_api_key(secret)))
            .filter(api_keys::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?;
        Ok(row.map(|r| AuthenticatedKey {
            tenant: r.tenant_id.into(),
            key_id: r.id,
            role: domain::Role::Owner,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_created_api_keys_debug_never_shows_its_secret() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        let tenant = store.create_tenant("Acme").await.unwrap();
        let key = store.create_api_key(tenant.id, "ci").await.unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(key.secret.expose().as_str()), "{shown}");
        assert!(shown.contains(&key.prefix), "{shown}");
        assert_eq!(
            store
                .authenticate_api_key(key.secret.expose())
                .await
                .unwrap()
                .map(|k| k.tenant),
            Some(tenant.id)
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
