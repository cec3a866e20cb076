//! Refresh tokens, by family: each refresh uses its token once and issues the next of the same
//! family. A token presented a second time means it was stolen (or the client is confused):
//! the whole family is revoked, and the user signs in again. Only SHA-256 hashes are stored.

use crate::{Store, StoreError, entities::refresh_tokens};
use chrono::{DateTime, Utc};
use domain::TenantId;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// What presenting a refresh token came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshUse {
    /// The token was good and is now used: issue the next one in `family`.
    Fresh {
        tenant: TenantId,
        user_id: Uuid,
        family: Uuid,
    },
    /// The token had been used or revoked already: the whole family is now revoked.
    Reused {
        tenant: TenantId,
        family: Uuid,
    },
    Expired,
    Unknown,
}

/// Revokes the family's tokens not revoked yet.
async fn revoke_family(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    family: Uuid,
) -> Result<(), StoreError> {
    refresh_tokens::Entity::update_many()
        .set(refresh_tokens::ActiveModel {
            revoked_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .filter(refresh_tokens::Column::TenantId.eq(tenant.as_uuid()))
        .filter(refresh_tokens::Column::FamilyId.eq(family))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

impl Store {
    /// Stores a refresh token (its SHA-256 hex) for the user, in `family` or a new one; returns
    /// the family.
    pub async fn issue_refresh_token(
        &self,
        tenant: TenantId,
        user_id: Uuid,
        family: Option<Uuid>,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        let family = family.unwrap_or_else(Uuid::now_v7);
        let txn = self.scoped(tenant).await?;
        refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            user_id: Set(user_id),
            family_id: Set(family),
            token_hash: Set(token_hash.to_owned()),
            created_at: Set(Utc::now()),
            expires_at: Set(expires_at),
            used_at: Set(None),
            revoked_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(family)
    }

    /// Edge: uses the token with this hash. Marking it used is one conditional `UPDATE`, so of
    /// two refreshes racing with one token only one is [`RefreshUse::Fresh`]; the other is
    /// [`RefreshUse::Reused`] and revokes the family.
    pub async fn consume_refresh_token(&self, token_hash: &str) -> Result<RefreshUse, StoreError> {
        let Some(tenant) = self.refresh_token_tenant(token_hash).await? else {
            return Ok(RefreshUse::Unknown);
        };
        let now = Utc::now();
        let txn = self.scoped(tenant).await?;
        let by_hash = || {
            refresh_tokens::Entity::find()
                .filter(refresh_tokens::Column::TenantId.eq(tenant.as_uuid()))
                .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        };
        let used = refresh_tokens::Entity::update_many()
            .set(refresh_tokens::ActiveModel {
                used_at: Set(Some(now)),
                ..Default::default()
            })
            .filter(refresh_tokens::Column::TenantId.eq(tenant.as_uuid()))
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .filter(refresh_tokens::Column::UsedAt.is_null())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .filter(refresh_tokens::Column::ExpiresAt.gt(now))
            .exec(&txn)
            .await?;
        let Some(row) = by_hash().one(&txn).await? else {
            return Ok(RefreshUse::Unknown);
        };
        let family = row.family_id;
        let outcome = if used.rows_affected == 1 {
            RefreshUse::Fresh {
                tenant,
                user_id: row.user_id,
                family,
            }
        } else if row.used_at.is_some() || row.revoked_at.is_some() {
            revoke_family(&txn, tenant, family).await?;
            RefreshUse::Reused { tenant, family }
        } else {
            RefreshUse::Expired
        };
        txn.commit().await?;
        Ok(outcome)
    }

    /// Revokes every token of the family (logout).
    pub async fn revoke_refresh_family(
        &self,
        tenant: TenantId,
        family: Uuid,
    ) -> Result<(), StoreError> {
        let txn = self.scoped(tenant).await?;
        revoke_family(&txn, tenant, family).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Revokes every refresh token of the user (disabled, password changed).
    pub async fn revoke_user_refresh_tokens(
        &self,
        tenant: TenantId,
        user_id: Uuid,
    ) -> Result<(), StoreError> {
        let txn = self.scoped(tenant).await?;
        refresh_tokens::Entity::update_many()
            .set(refresh_tokens::ActiveModel {
                revoked_at: Set(Some(Utc::now())),
                ..Default::default()
            })
            .filter(refresh_tokens::Column::TenantId.eq(tenant.as_uuid()))
            .filter(refresh_tokens::Column::UserId.eq(user_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::NewUser;
    use chrono::TimeDelta;

    async fn store_with_user() -> (Store, TenantId, Uuid) {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        let tenant = store.create_tenant("Acme").await.unwrap().id;
        let user = NewUser {
            email: "ada@example.com".into(),
            name: "Ada".into(),
            password_hash: "h".into(),
            role: domain::Role::Owner,
        };
        let user = store.create_user(tenant, user).await.unwrap().id;
        (store, tenant, user)
    }

    fn in_a_day() -> DateTime<Utc> {
        Utc::now() + TimeDelta::days(1)
    }

    #[tokio::test]
    async fn rotation_uses_each_token_once_and_a_reuse_revokes_the_family() {
        let (store, tenant, user) = store_with_user().await;
        let family = store
            .issue_refresh_token(tenant, user, None, "h1", in_a_day())
            .await
            .unwrap();
        assert_eq!(
            store.consume_refresh_token("h1").await.unwrap(),
            RefreshUse::Fresh {
                tenant,
                user_id: user,
                family
            }
        );
        let same = store
            .issue_refresh_token(tenant, user, Some(family), "h2", in_a_day())
            .await
            .unwrap();
        assert_eq!(same, family);
        assert_eq!(
            store.consume_refresh_token("h1").await.unwrap(),
            RefreshUse::Reused { tenant, family },
            "the first token again: stolen"
        );
        assert_eq!(
            store.consume_refresh_token("h2").await.unwrap(),
            RefreshUse::Reused { tenant, family },
            "the family's newest token died with it"
        );
        assert_eq!(
            store.consume_refresh_token("nope").await.unwrap(),
            RefreshUse::Unknown
        );
    }

    #[tokio::test]
    async fn an_expired_token_is_refused_and_logout_revokes() {
        let (store, tenant, user) = store_with_user().await;
        let past = Utc::now() - TimeDelta::minutes(1);
        store
            .issue_refresh_token(tenant, user, None, "old", past)
            .await
            .unwrap();
        assert_eq!(
            store.consume_refresh_token("old").await.unwrap(),
            RefreshUse::Expired
        );
        let family = store
            .issue_refresh_token(tenant, user, None, "h", in_a_day())
            .await
            .unwrap();
        store.revoke_refresh_family(tenant, family).await.unwrap();
        assert!(matches!(
            store.consume_refresh_token("h").await.unwrap(),
            RefreshUse::Reused { .. }
        ));
        store
            .issue_refresh_token(tenant, user, None, "k", in_a_day())
            .await
            .unwrap();
        store
            .revoke_user_refresh_tokens(tenant, user)
            .await
            .unwrap();
        assert!(matches!(
            store.consume_refresh_token("k").await.unwrap(),
            RefreshUse::Reused { .. }
        ));
    }

    #[tokio::test]
    async fn of_two_concurrent_refreshes_with_one_token_one_wins() {
        let (store, tenant, user) = store_with_user().await;
        store
            .issue_refresh_token(tenant, user, None, "race", in_a_day())
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            store.consume_refresh_token("race"),
            store.consume_refresh_token("race")
        );
        let fresh = [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|u| matches!(u, RefreshUse::Fresh { .. }))
            .count();
        assert_eq!(fresh, 1);
    }
}
