//! The secrets other platforms sign their webhooks to us with, one per tenant and provider.
//! The tenant pastes the secret the platform generated; it is never shown back.

use crate::{Store, StoreError, entities::tenant_integrations};
use chrono::{DateTime, Utc};
use domain::{Secret, TenantId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use uuid::Uuid;

/// `tenant_integrations.provider` of ElevenLabs' post-call webhook.
pub const ELEVENLABS: &str = "elevenlabs";

/// When the integration was set, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationInfo {
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// Sets (or replaces) the tenant's secret for `provider`.
    pub async fn put_integration_secret(
        &self,
        tenant: TenantId,
        provider: &str,
        secret: &Secret<String>,
    ) -> Result<IntegrationInfo, StoreError> {
        let now = Utc::now();
        let row = tenant_integrations::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            provider: Set(provider.to_owned()),
            secret: Set(secret.expose().clone()),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = self.scoped(tenant).await?;
        tenant_integrations::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    tenant_integrations::Column::TenantId,
                    tenant_integrations::Column::Provider,
                ])
                .update_columns([
                    tenant_integrations::Column::Secret,
                    tenant_integrations::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        let info = find(&txn, tenant, provider)
            .await?
            .map(|row| info_of(&row))
            .ok_or(StoreError::NotFound {
                entity: "integration",
            })?;
        txn.commit().await?;
        Ok(info)
    }

    pub async fn integration(
        &self,
        tenant: TenantId,
        provider: &str,
    ) -> Result<Option<IntegrationInfo>, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let row = find(&scope, tenant, provider).await?;
        scope.commit().await?;
        Ok(row.as_ref().map(info_of))
    }

    /// The tenant's secret for `provider`; `None` for a tenant that has none or does not exist
    /// (a webhook receiver answers both alike).
    pub async fn integration_secret(
        &self,
        tenant: TenantId,
        provider: &str,
    ) -> Result<Option<Secret<String>>, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let row = find(&scope, tenant, provider).await?;
        scope.commit().await?;
        Ok(row.map(|r| Secret::new(r.secret)))
    }
}

fn info_of(row: &tenant_integrations::Model) -> IntegrationInfo {
    IntegrationInfo {
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

async fn find(
    conn: &impl sea_orm::ConnectionTrait,
    tenant: TenantId,
    provider: &str,
) -> Result<Option<tenant_integrations::Model>, StoreError> {
    Ok(tenant_integrations::Entity::find()
        .filter(tenant_integrations::Column::TenantId.eq(tenant.as_uuid()))
        .filter(tenant_integrations::Column::Provider.eq(provider))
        .one(conn)
        .await?)
}
