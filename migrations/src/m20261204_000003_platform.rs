//! Tenants' slug, time zone, settings and status; users; refresh-token families; API key roles
//! and last use; the audit log.
//!
//! SQLite's `ALTER TABLE … ADD COLUMN` takes neither `UNIQUE` nor a non-constant default: the
//! slug's uniqueness is a separate index, and new timestamp columns get a constant default that
//! the backfill overwrites. It does take `CHECK`, so the status and role rules hold on both.

use crate::m20261122_000001_foundation::tenant_fk;
use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, Statement, prelude::Uuid},
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Slug,
    TimeZone,
    Settings,
    Status,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TenantId,
    Email,
    Name,
    PasswordHash,
    Role,
    Status,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    TenantId,
    UserId,
    FamilyId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Role,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    ActorType,
    ActorId,
    Action,
    ResourceType,
    ResourceId,
    Before,
    After,
    RequestId,
    ClientAddr,
    CreatedAt,
}

/// The five roles of `domain::Role`, as stored.
const ROLES: [&str; 5] = ["owner", "admin", "manager", "agent", "viewer"];
/// What a timestamp column added to existing rows holds until the backfill.
const EPOCH: &str = "1970-01-01 00:00:00+00:00";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One statement per function below (the data migration runs before the slug's index).
    /// Databases have already run this migration: the SQL must never change.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for alter in tenant_columns() {
            manager.alter_table(alter).await?;
        }
        backfill_tenants(manager).await?;
        manager.create_index(tenants_by_slug()).await?;
        manager.create_table(users()).await?;
        manager.create_index(users_by_email()).await?;
        manager.create_table(refresh_tokens()).await?;
        manager.create_index(refresh_tokens_by_family()).await?;
        for alter in api_key_columns() {
            manager.alter_table(alter).await?;
        }
        manager.create_table(audit_log()).await?;
        manager.create_index(audit_by_tenant()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [ApiKeys::Role.into_iden(), ApiKeys::LastUsedAt.into_iden()] {
            let drop = Table::alter()
                .table(ApiKeys::Table)
                .drop_column(column)
                .to_owned();
            manager.alter_table(drop).await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tenants_slug")
                    .table(Tenants::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Tenants::Slug.into_iden(),
            Tenants::TimeZone.into_iden(),
            Tenants::Settings.into_iden(),
            Tenants::Status.into_iden(),
            Tenants::UpdatedAt.into_iden(),
        ] {
            let drop = Table::alter()
                .table(Tenants::Table)
                .drop_column(column)
                .to_owned();
            manager.alter_table(drop).await?;
        }
        Ok(())
    }
}

/// `IN (…)` of these spellings.
fn one_of(column: impl IntoIden, values: &[&str]) -> SimpleExpr {
    Expr::col(column.into_iden()).is_in(values.iter().copied())
}

/// The new tenant columns, one statement each (SQLite alters one column at a time).
fn tenant_columns() -> Vec<TableAlterStatement> {
    let columns = [
        string(Tenants::Slug).default("").to_owned(),
        string(Tenants::TimeZone).default("UTC").to_owned(),
        json(Tenants::Settings).default("{}").to_owned(),
        string(Tenants::Status)
            .default("active")
            .check(one_of(Tenants::Status, &["active", "suspended"]))
            .to_owned(),
        timestamp_with_time_zone(Tenants::UpdatedAt)
            .default(EPOCH)
            .to_owned(),
    ];
    columns
        .into_iter()
        .map(|mut c| {
            Table::alter()
                .table(Tenants::Table)
                .add_column(&mut c)
                .to_owned()
        })
        .collect()
}

/// Existing tenants get a slug from their name (`Acme Dental` → `acme-dental`, a suffix when
/// two names make the same one) and `updated_at = created_at`.
async fn backfill_tenants(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    db.execute_unprepared("UPDATE tenants SET updated_at = created_at")
        .await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, name FROM tenants ORDER BY created_at, id",
        ))
        .await?;
    let mut taken = std::collections::HashSet::new();
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let name: String = row.try_get("", "name")?;
        let base = slugify(&name);
        let mut slug = base.clone();
        let mut n = 2;
        while !taken.insert(slug.clone()) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        let update = Query::update()
            .table(Tenants::Table)
            .value(Tenants::Slug, slug)
            .and_where(Expr::col(Tenants::Id).eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}

/// `a-z0-9-` only, no leading, trailing or doubled `-`; `tenant` when nothing is left.
fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "tenant".to_owned()
    } else {
        slug.chars()
            .take(48)
            .collect::<String>()
            .trim_end_matches('-')
            .to_owned()
    }
}

/// One tenant per slug.
fn tenants_by_slug() -> IndexCreateStatement {
    Index::create()
        .name("idx_tenants_slug")
        .table(Tenants::Table)
        .col(Tenants::Slug)
        .unique()
        .to_owned()
}

/// People who sign in to a tenant's console.
fn users() -> TableCreateStatement {
    Table::create()
        .table(Users::Table)
        .col(pk_uuid(Users::Id))
        .col(uuid(Users::TenantId))
        // Stored lowercased.
        .col(string(Users::Email))
        .col(string(Users::Name))
        .col(string(Users::PasswordHash))
        .col(string(Users::Role).check(one_of(Users::Role, &ROLES)))
        .col(string(Users::Status).check(one_of(Users::Status, &["active", "disabled"])))
        .col(timestamp_with_time_zone(Users::CreatedAt))
        .col(timestamp_with_time_zone(Users::UpdatedAt))
        .col(timestamp_with_time_zone_null(Users::LastLoginAt))
        .foreign_key(&mut tenant_fk(Users::Table))
        .to_owned()
}

/// One user per email in a tenant (the same person may belong to several tenants).
fn users_by_email() -> IndexCreateStatement {
    Index::create()
        .name("idx_users_tenant_email")
        .table(Users::Table)
        .col(Users::TenantId)
        .col(Users::Email)
        .unique()
        .to_owned()
}

/// Refresh tokens (only their SHA-256): each refresh uses one and issues the next of its family.
fn refresh_tokens() -> TableCreateStatement {
    Table::create()
        .table(RefreshTokens::Table)
        .col(pk_uuid(RefreshTokens::Id))
        .col(uuid(RefreshTokens::TenantId))
        .col(uuid(RefreshTokens::UserId))
        .col(uuid(RefreshTokens::FamilyId))
        .col(string_uniq(RefreshTokens::TokenHash))
        .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
        .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
        .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
        .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
        .foreign_key(&mut tenant_fk(RefreshTokens::Table))
        .foreign_key(
            ForeignKey::create()
                .from(RefreshTokens::Table, RefreshTokens::UserId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// A family is revoked at once when one of its tokens is reused.
fn refresh_tokens_by_family() -> IndexCreateStatement {
    Index::create()
        .name("idx_refresh_tokens_family")
        .table(RefreshTokens::Table)
        .col(RefreshTokens::FamilyId)
        .to_owned()
}

/// API keys get a role (existing keys keep full power: `owner`) and their last use.
fn api_key_columns() -> Vec<TableAlterStatement> {
    let columns = [
        string(ApiKeys::Role)
            .default("owner")
            .check(one_of(ApiKeys::Role, &ROLES))
            .to_owned(),
        timestamp_with_time_zone_null(ApiKeys::LastUsedAt),
    ];
    columns
        .into_iter()
        .map(|mut c| {
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(&mut c)
                .to_owned()
        })
        .collect()
}

/// One row per mutation: who, what, before and after.
fn audit_log() -> TableCreateStatement {
    Table::create()
        .table(AuditLog::Table)
        .col(pk_uuid(AuditLog::Id))
        .col(uuid(AuditLog::TenantId))
        .col(string(AuditLog::ActorType))
        .col(uuid_null(AuditLog::ActorId))
        .col(string(AuditLog::Action))
        .col(string(AuditLog::ResourceType))
        .col(string_null(AuditLog::ResourceId))
        .col(json_null(AuditLog::Before))
        .col(json_null(AuditLog::After))
        .col(string_null(AuditLog::RequestId))
        .col(string_null(AuditLog::ClientAddr))
        .col(timestamp_with_time_zone(AuditLog::CreatedAt))
        .foreign_key(&mut tenant_fk(AuditLog::Table))
        .to_owned()
}

/// A tenant's log, newest first (ids are UUIDv7).
fn audit_by_tenant() -> IndexCreateStatement {
    Index::create()
        .name("idx_audit_log_tenant_id")
        .table(AuditLog::Table)
        .col(AuditLog::TenantId)
        .col(AuditLog::Id)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_keep_letters_digits_and_single_dashes() {
        assert_eq!(slugify("Acme Dental"), "acme-dental");
        assert_eq!(slugify("  Dr. Smith & Sons, LLC "), "dr-smith-sons-llc");
        assert_eq!(slugify("Café 24/7"), "caf-24-7");
        assert_eq!(slugify("!!!"), "tenant");
    }
}
