//! The edges: lookups that *find* a tenant from a credential before any tenant is known (an API
//! key, a dialled number, a refresh token, a login email, a slug; the operator's tenant list).
//!
//! On PostgreSQL they call the `SECURITY DEFINER` functions of migration 5, which see past the
//! row-level security and return only tenant ids; on SQLite they run the same query directly.
//! Whatever the caller then reads about the tenant, it reads in [`Store::scoped`].

use crate::{
    Store, StoreError,
    entities::{api_keys, phone_numbers, refresh_tokens, tenants, users},
};
use domain::TenantId;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, Value,
};
use uuid::Uuid;

impl Store {
    fn on_postgres(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }

    /// The tenant ids `function(argument)` returns (`SELECT * FROM f($1)`; NULLs skipped).
    async fn edge_call(
        &self,
        function: &str,
        argument: Option<Value>,
    ) -> Result<Vec<TenantId>, StoreError> {
        let (sql, values) = match argument {
            Some(v) => (format!("SELECT {function}($1) AS tenant"), vec![v]),
            None => (format!("SELECT {function}() AS tenant"), vec![]),
        };
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                values,
            ))
            .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(id) = row.try_get::<Option<Uuid>>("", "tenant")? {
                ids.push(id.into());
            }
        }
        Ok(ids)
    }

    /// Edge: the tenant of the unrevoked API key with this SHA-256 hash.
    pub(crate) async fn api_key_tenant(
        &self,
        key_hash: &str,
    ) -> Result<Option<TenantId>, StoreError> {
        if self.on_postgres() {
            let found = self
                .edge_call("switchboard_api_key_tenant", Some(key_hash.into()))
                .await?;
            return Ok(found.into_iter().next());
        }
        let row = api_keys::Entity::find()
            .filter(api_keys::Column::KeyHash.eq(key_hash))
            .filter(api_keys::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?;
        Ok(row.map(|r| r.tenant_id.into()))
    }

    /// Edge (routing): the tenant holding this number now; a released number is nobody's.
    pub async fn number_tenant(&self, e164: &str) -> Result<Option<TenantId>, StoreError> {
        if self.on_postgres() {
            let found = self
                .edge_call("switchboard_number_tenant", Some(e164.into()))
                .await?;
            return Ok(found.into_iter().next());
        }
        let row = phone_numbers::Entity::find()
            .filter(phone_numbers::Column::E164.eq(e164))
            .filter(phone_numbers::Column::ReleasedAt.is_null())
            .one(&self.db)
            .await?;
        Ok(row.map(|r| r.tenant_id.into()))
    }

    /// Edge: the tenant of the refresh token with this hash, used or not.
    pub(crate) async fn refresh_token_tenant(
        &self,
        token_hash: &str,
    ) -> Result<Option<TenantId>, StoreError> {
        if self.on_postgres() {
            let found = self
                .edge_call("switchboard_refresh_token_tenant", Some(token_hash.into()))
                .await?;
            return Ok(found.into_iter().next());
        }
        let row = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await?;
        Ok(row.map(|r| r.tenant_id.into()))
    }

    /// Edge (login): the tenants with an active user of this email.
    pub(crate) async fn tenants_for_email(&self, email: &str) -> Result<Vec<TenantId>, StoreError> {
        let email = email.trim().to_lowercase();
        if self.on_postgres() {
            return self
                .edge_call("switchboard_tenants_for_email", Some(email.into()))
                .await;
        }
        let ids: Vec<Uuid> = users::Entity::find()
            .select_only()
            .column(users::Column::TenantId)
            .filter(users::Column::Email.eq(email))
            .filter(users::Column::Status.eq(domain::UserStatus::Active.as_str()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(ids.into_iter().map(TenantId::from).collect())
    }

    /// Edge: the tenant with this slug.
    pub(crate) async fn slug_tenant(&self, slug: &str) -> Result<Option<TenantId>, StoreError> {
        if self.on_postgres() {
            let found = self
                .edge_call("switchboard_tenant_by_slug", Some(slug.into()))
                .await?;
            return Ok(found.into_iter().next());
        }
        let id: Option<Uuid> = tenants::Entity::find()
            .select_only()
            .column(tenants::Column::Id)
            .filter(tenants::Column::Slug.eq(slug))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(id.map(TenantId::from))
    }

    /// Edge (the platform operator): every tenant's id, oldest first.
    pub(crate) async fn tenant_ids(&self) -> Result<Vec<TenantId>, StoreError> {
        if self.on_postgres() {
            return self.edge_call("switchboard_tenant_ids", None).await;
        }
        let ids: Vec<Uuid> = tenants::Entity::find()
            .select_only()
            .column(tenants::Column::Id)
            .order_by_asc(tenants::Column::CreatedAt)
            .order_by_asc(tenants::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(ids.into_iter().map(TenantId::from).collect())
    }
}
