//! The delivery log of events sent to the tenant's webhook (`event_deliveries`): one row per
//! event, whose id is the event's id (the envelope's `id`, the `Switchboard-Delivery` header,
//! the `event-{id}` workflow). `(tenant_id, event_type, subject)` is unique, so a call analysed
//! twice (a retried activity, a redelivered ElevenLabs webhook) yields one `call.analyzed`.
//!
//! `payload` is text, not `jsonb`: it holds the exact bytes that are signed and sent on every
//! attempt (PostgreSQL's `jsonb` would reorder the keys). `attempts` counts the attempts whose
//! outcome was recorded; `last_status_code` and `last_error` are the last one's.

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(Clone, Copy, DeriveIden)]
enum EventDeliveries {
    Table,
    Id,
    TenantId,
    EventType,
    Subject,
    Payload,
    Status,
    Attempts,
    LastStatusCode,
    LastError,
    DeliveredAt,
    CreatedAt,
    UpdatedAt,
}

fn event_deliveries() -> TableCreateStatement {
    use EventDeliveries as E;
    Table::create()
        .table(E::Table)
        .col(pk_uuid(E::Id))
        .col(uuid(E::TenantId))
        .col(string(E::EventType))
        .col(string(E::Subject))
        .col(text(E::Payload))
        .col(string(E::Status))
        .col(integer(E::Attempts).default(0))
        .col(integer_null(E::LastStatusCode))
        .col(string_null(E::LastError))
        .col(timestamp_with_time_zone_null(E::DeliveredAt))
        .col(timestamp_with_time_zone(E::CreatedAt))
        .col(timestamp_with_time_zone(E::UpdatedAt))
        .foreign_key(&mut tenant_fk(E::Table))
        .index(
            Index::create()
                .name("idx_event_deliveries_tenant_type_subject")
                .col(E::TenantId)
                .col(E::EventType)
                .col(E::Subject)
                .unique(),
        )
        .to_owned()
}

/// The log is read per tenant, newest (largest v7 id) first, often by status.
fn log_index() -> IndexCreateStatement {
    Index::create()
        .name("idx_event_deliveries_tenant_status_id")
        .table(EventDeliveries::Table)
        .col(EventDeliveries::TenantId)
        .col(EventDeliveries::Status)
        .col(EventDeliveries::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(event_deliveries()).await?;
        manager.create_index(log_index()).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            use sea_orm_migration::sea_orm::ConnectionTrait;
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE event_deliveries ADD CONSTRAINT event_deliveries_status_check \
                     CHECK (status IN ('pending', 'delivered', 'failed', 'skipped'))",
                )
                .await?;
        }
        isolate_new_tables(manager, &["event_deliveries"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, &["event_deliveries"]).await?;
        manager
            .drop_table(Table::drop().table(EventDeliveries::Table).to_owned())
            .await
    }
}
