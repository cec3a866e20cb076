//! Post-call analysis on `calls`, calls that arrive from other platforms, and the tenant's
//! integration secrets.
//!
//! - calls: `analysis` (the `PostCallAnalysis` JSON, read whole), `outcome_class` (its
//!   business outcome, for grouping), `needs_attention` with `resolved_at`/`resolved_by` (the
//!   review queue), `campaign_id` (no foreign key: a call outlives its campaign), `source`
//!   (`twilio` for our own calls, `elevenlabs` …) and `external_id` (the other platform's id
//!   for the call, unique per tenant and source, so a redelivered webhook finds its call).
//! - appointments: at most one booked *by a call* per call, so processing an analysis twice
//!   cannot book twice (a partial index: people may still attach several to one call).
//! - tenant_integrations: one row per tenant and provider, holding the secret the provider
//!   signs its webhooks with.

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(Clone, Copy, DeriveIden)]
enum Calls {
    Table,
    TenantId,
    Analysis,
    OutcomeClass,
    NeedsAttention,
    ResolvedAt,
    ResolvedBy,
    CampaignId,
    ExternalId,
    Source,
}

#[derive(Clone, Copy, DeriveIden)]
enum TenantIntegrations {
    Table,
    Id,
    TenantId,
    Provider,
    Secret,
    CreatedAt,
    UpdatedAt,
}

/// SQLite adds one column per `ALTER TABLE`.
fn new_call_columns() -> Vec<ColumnDef> {
    use Calls as C;
    vec![
        text_null(C::Analysis),
        string_null(C::OutcomeClass),
        boolean(C::NeedsAttention).default(false).to_owned(),
        timestamp_with_time_zone_null(C::ResolvedAt),
        uuid_null(C::ResolvedBy),
        uuid_null(C::CampaignId),
        string_null(C::ExternalId),
        string(C::Source).default("twilio").to_owned(),
    ]
}

fn tenant_integrations() -> TableCreateStatement {
    use TenantIntegrations as T;
    Table::create()
        .table(T::Table)
        .col(pk_uuid(T::Id))
        .col(uuid(T::TenantId))
        .col(string(T::Provider))
        .col(text(T::Secret))
        .col(timestamp_with_time_zone(T::CreatedAt))
        .col(timestamp_with_time_zone(T::UpdatedAt))
        .foreign_key(&mut tenant_fk(T::Table))
        .index(
            Index::create()
                .name("idx_tenant_integrations_tenant_provider")
                .col(T::TenantId)
                .col(T::Provider)
                .unique(),
        )
        .to_owned()
}

/// Partial indexes read the same on PostgreSQL and SQLite; sea-query builds none, so SQL.
const ONE_CALL_BOOKING: &str = "CREATE UNIQUE INDEX idx_appointments_booked_by_call \
     ON appointments (tenant_id, call_sid) WHERE source = 'call' AND call_sid IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Databases that have run this migration keep its SQL: a change is a new migration.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in new_call_columns() {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Calls::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        for index in call_indexes() {
            manager.create_index(index).await?;
        }
        manager
            .get_connection()
            .execute_unprepared(ONE_CALL_BOOKING)
            .await?;
        manager.create_table(tenant_integrations()).await?;
        isolate_new_tables(manager, &["tenant_integrations"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, &["tenant_integrations"]).await?;
        manager
            .drop_table(Table::drop().table(TenantIntegrations::Table).to_owned())
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_appointments_booked_by_call")
            .await?;
        for name in [
            "idx_calls_tenant_source_external",
            "idx_calls_tenant_attention",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Calls::Table).to_owned())
                .await?;
        }
        use Calls as C;
        for column in [
            C::Analysis,
            C::OutcomeClass,
            C::NeedsAttention,
            C::ResolvedAt,
            C::ResolvedBy,
            C::CampaignId,
            C::ExternalId,
            C::Source,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(C::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// One call per external id (NULLs, our own calls, never collide); the review queue's filter.
fn call_indexes() -> Vec<IndexCreateStatement> {
    use Calls as C;
    vec![
        Index::create()
            .name("idx_calls_tenant_source_external")
            .table(C::Table)
            .col(C::TenantId)
            .col(C::Source)
            .col(C::ExternalId)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_calls_tenant_attention")
            .table(C::Table)
            .col(C::TenantId)
            .col(C::NeedsAttention)
            .col(C::ResolvedAt)
            .to_owned(),
    ]
}
