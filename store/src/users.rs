//! Users: people who sign in to a tenant's console, with a role. Emails are stored lowercased
//! and are unique within a tenant (one person may belong to several tenants).

use crate::{Page, Store, StoreError, conflict_on_unique, entities::users};
use chrono::{DateTime, Utc};
use domain::{Role, TenantId, UserStatus};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A user to create. `password_hash` is the caller's (argon2) hash, never the password.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
}

/// The fields to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub password_hash: Option<String>,
}

impl TryFrom<users::Model> for User {
    type Error = StoreError;

    fn try_from(row: users::Model) -> Result<Self, StoreError> {
        let corrupt =
            |column: &str, value: &str| StoreError::Corrupt(format!("users.{column} `{value}`"));
        Ok(Self {
            role: Role::parse(&row.role).ok_or_else(|| corrupt("role", &row.role))?,
            status: UserStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
            id: row.id,
            tenant_id: row.tenant_id.into(),
            email: row.email,
            name: row.name,
            created_at: row.created_at,
            last_login_at: row.last_login_at,
        })
    }
}

/// The tenant's user row `id`.
async fn find_user(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<users::Model, StoreError> {
    users::Entity::find_by_id(id)
        .filter(users::Column::TenantId.eq(tenant.as_uuid()))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })
}

/// How emails are stored and compared.
fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Store {
    /// Creates an active user; an email already in the tenant is
    /// [`StoreError::Conflict`]`("email")`.
    pub async fn create_user(&self, tenant: TenantId, new: NewUser) -> Result<User, StoreError> {
        let now = Utc::now();
        let row = users::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            email: Set(normalise_email(&new.email)),
            name: Set(new.name),
            password_hash: Set(new.password_hash),
            role: Set(new.role.as_str().to_owned()),
            status: Set(UserStatus::Active.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            last_login_at: Set(None),
        };
        let id = row.id.clone().unwrap();
        let txn = self.scoped(tenant).await?;
        users::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| conflict_on_unique(e, "email"))?;
        let user = find_user(&txn, tenant, id).await?;
        txn.commit().await?;
        user.try_into()
    }

    pub async fn user(&self, tenant: TenantId, id: Uuid) -> Result<User, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let row = find_user(&txn, tenant, id).await?;
        txn.commit().await?;
        row.try_into()
    }

    /// The tenant's users, newest first; `before` is the previous page's cursor.
    pub async fn list_users(
        &self,
        tenant: TenantId,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<User>, StoreError> {
        let mut query = users::Entity::find().filter(users::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(cursor) = before {
            query = query.filter(users::Column::Id.lt(cursor));
        }
        let txn = self.scoped_one(tenant).await?;
        let rows = query
            .order_by_desc(users::Column::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Page::from_rows(rows, limit, |r| r.id, User::try_from)
    }

    pub async fn update_user(
        &self,
        tenant: TenantId,
        id: Uuid,
        update: UserUpdate,
    ) -> Result<User, StoreError> {
        let mut row = users::ActiveModel {
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        if let Some(name) = update.name {
            row.name = Set(name);
        }
        if let Some(role) = update.role {
            row.role = Set(role.as_str().to_owned());
        }
        if let Some(status) = update.status {
            row.status = Set(status.as_str().to_owned());
        }
        if let Some(hash) = update.password_hash {
            row.password_hash = Set(hash);
        }
        let txn = self.scoped(tenant).await?;
        users::Entity::update_many()
            .set(row)
            .filter(users::Column::Id.eq(id))
            .filter(users::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let user = find_user(&txn, tenant, id).await?;
        txn.commit().await?;
        user.try_into()
    }

    /// The user's password hash (to verify a password change).
    pub async fn user_password_hash(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<String, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let row = find_user(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(row.password_hash)
    }

    /// Login edge: the active users with this email, in every tenant, with their password
    /// hashes (the caller verifies the password against each).
    pub async fn login_candidates(&self, email: &str) -> Result<Vec<(User, String)>, StoreError> {
        let email = normalise_email(email);
        let mut found = Vec::new();
        for tenant in self.tenants_for_email(&email).await? {
            let txn = self.scoped(tenant).await?;
            let row = users::Entity::find()
                .filter(users::Column::TenantId.eq(tenant.as_uuid()))
                .filter(users::Column::Email.eq(email.as_str()))
                .filter(users::Column::Status.eq(UserStatus::Active.as_str()))
                .one(&txn)
                .await?;
            txn.commit().await?;
            if let Some(row) = row {
                let hash = row.password_hash.clone();
                found.push((User::try_from(row)?, hash));
            }
        }
        Ok(found)
    }

    /// How many active owners the tenant has (the last one may not be demoted or disabled).
    pub async fn active_owner_count(&self, tenant: TenantId) -> Result<u64, StoreError> {
        let txn = self.scoped_one(tenant).await?;
        let n = users::Entity::find()
            .filter(users::Column::TenantId.eq(tenant.as_uuid()))
            .filter(users::Column::Role.eq(Role::Owner.as_str()))
            .filter(users::Column::Status.eq(UserStatus::Active.as_str()))
            .count(&txn)
            .await?;
        txn.commit().await?;
        Ok(n)
    }

    /// Notes a successful login.
    pub async fn record_login(&self, tenant: TenantId, user_id: Uuid) -> Result<(), StoreError> {
        let txn = self.scoped_one(tenant).await?;
        users::Entity::update_many()
            .set(users::ActiveModel {
                last_login_at: Set(Some(Utc::now())),
                ..Default::default()
            })
            .filter(users::Column::Id.eq(user_id))
            .filter(users::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(email: &str) -> NewUser {
        NewUser {
            email: email.into(),
            name: "Ada".into(),
            password_hash: "$argon2id$fake".into(),
            role: Role::Admin,
        }
    }

    #[tokio::test]
    async fn an_email_is_unique_within_a_tenant_but_not_across_tenants() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        let acme = store.create_tenant("Acme").await.unwrap().id;
        let globex = store.create_tenant("Globex").await.unwrap().id;
        let ada = store
            .create_user(acme, new_user("Ada@Example.com"))
            .await
            .unwrap();
        assert_eq!(ada.email, "ada@example.com");
        assert_eq!(store.active_owner_count(acme).await.unwrap(), 0);
        assert!(matches!(
            store.create_user(acme, new_user("ada@example.COM ")).await,
            Err(StoreError::Conflict("email"))
        ));
        store
            .create_user(globex, new_user("ada@example.com"))
            .await
            .unwrap();
        let candidates = store.login_candidates("ADA@example.com").await.unwrap();
        assert_eq!(candidates.len(), 2);
        assert!(candidates.iter().all(|(_, hash)| hash == "$argon2id$fake"));

        let disabled = UserUpdate {
            status: Some(UserStatus::Disabled),
            ..Default::default()
        };
        store.update_user(acme, ada.id, disabled).await.unwrap();
        let candidates = store.login_candidates("ada@example.com").await.unwrap();
        assert_eq!(candidates.len(), 1);
        assert_eq!(candidates[0].0.tenant_id, globex);
        assert!(matches!(
            store.user(globex, ada.id).await,
            Err(StoreError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn users_list_newest_first_in_pages() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        let acme = store.create_tenant("Acme").await.unwrap().id;
        for n in 0..3 {
            store
                .create_user(acme, new_user(&format!("u{n}@example.com")))
                .await
                .unwrap();
        }
        let first = store.list_users(acme, 2, None).await.unwrap();
        assert_eq!(first.items.len(), 2);
        assert_eq!(first.items[0].email, "u2@example.com");
        let rest = store.list_users(acme, 2, first.next_cursor).await.unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.next_cursor, None);
    }
}
