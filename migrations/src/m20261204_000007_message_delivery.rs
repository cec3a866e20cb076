//! Delivering taken messages.
//!
//! - messages: who the message is for, snapshotted when it is taken — `recipient_kind`
//!   (`employee`/`department`), `recipient_id`, `recipient_name`, `recipient_phone` (E.164),
//!   `recipient_email`; all nullable (messages taken before the directory have none).
//! - message_deliveries: one row per message and channel (`sms`/`email`/`webhook`) with its
//!   status, attempts, the provider's reference (Twilio Message SID, SMTP Message-ID, webhook
//!   delivery id) and a short error without personal data.
//! - tenant_webhooks: the tenant's message webhook (one per tenant) and its signing secret.
//!
//! Both new tables are behind the tenant isolation policy on PostgreSQL.

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    RecipientKind,
    RecipientId,
    RecipientName,
    RecipientPhone,
    RecipientEmail,
}

#[derive(DeriveIden)]
enum MessageDeliveries {
    Table,
    Id,
    TenantId,
    MessageId,
    Channel,
    Status,
    Attempts,
    ProviderRef,
    LastError,
    DeliveredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TenantWebhooks {
    Table,
    Id,
    TenantId,
    Url,
    Secret,
    CreatedAt,
    UpdatedAt,
}

const NEW_TABLES: &[&str] = &["message_deliveries", "tenant_webhooks"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_null(Messages::RecipientKind),
            uuid_null(Messages::RecipientId),
            string_null(Messages::RecipientName),
            string_null(Messages::RecipientPhone),
            string_null(Messages::RecipientEmail),
        ] {
            manager.alter_table(add(Messages::Table, column)).await?;
        }
        manager.create_table(message_deliveries()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_message_deliveries_message_channel")
                    .table(MessageDeliveries::Table)
                    .col(MessageDeliveries::MessageId)
                    .col(MessageDeliveries::Channel)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_table(tenant_webhooks()).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            use sea_orm_migration::sea_orm::ConnectionTrait;
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE message_deliveries ADD CONSTRAINT message_deliveries_channel_check \
                     CHECK (channel IN ('sms', 'email', 'webhook'));
                     ALTER TABLE message_deliveries ADD CONSTRAINT message_deliveries_status_check \
                     CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'skipped'));
                     ALTER TABLE messages ADD CONSTRAINT messages_recipient_kind_check \
                     CHECK (recipient_kind IN ('employee', 'department'));",
                )
                .await?;
        }
        isolate_new_tables(manager, NEW_TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, NEW_TABLES).await?;
        for table in [
            TenantWebhooks::Table.into_iden(),
            MessageDeliveries::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            use sea_orm_migration::sea_orm::ConnectionTrait;
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE messages DROP CONSTRAINT messages_recipient_kind_check",
                )
                .await?;
        }
        for column in [
            Messages::RecipientEmail.into_iden(),
            Messages::RecipientPhone.into_iden(),
            Messages::RecipientName.into_iden(),
            Messages::RecipientId.into_iden(),
            Messages::RecipientKind.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// `ALTER TABLE … ADD COLUMN …`: one column per statement, as SQLite requires.
fn add<T: IntoIden + 'static>(table: T, column: impl Into<ColumnDef>) -> TableAlterStatement {
    let mut column = column.into();
    Table::alter()
        .table(table)
        .add_column(&mut column)
        .to_owned()
}

fn message_deliveries() -> TableCreateStatement {
    Table::create()
        .table(MessageDeliveries::Table)
        .col(pk_uuid(MessageDeliveries::Id))
        .col(uuid(MessageDeliveries::TenantId))
        .col(uuid(MessageDeliveries::MessageId))
        .col(string(MessageDeliveries::Channel))
        .col(string(MessageDeliveries::Status))
        .col(integer(MessageDeliveries::Attempts).default(0))
        .col(string_null(MessageDeliveries::ProviderRef))
        .col(string_null(MessageDeliveries::LastError))
        .col(timestamp_with_time_zone_null(
            MessageDeliveries::DeliveredAt,
        ))
        .col(timestamp_with_time_zone(MessageDeliveries::CreatedAt))
        .col(timestamp_with_time_zone(MessageDeliveries::UpdatedAt))
        .foreign_key(&mut tenant_fk(MessageDeliveries::Table))
        .foreign_key(
            ForeignKey::create()
                .from(MessageDeliveries::Table, MessageDeliveries::MessageId)
                .to(Messages::Table, Messages::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn tenant_webhooks() -> TableCreateStatement {
    Table::create()
        .table(TenantWebhooks::Table)
        .col(pk_uuid(TenantWebhooks::Id))
        .col(uuid_uniq(TenantWebhooks::TenantId))
        .col(string(TenantWebhooks::Url))
        .col(string(TenantWebhooks::Secret))
        .col(timestamp_with_time_zone(TenantWebhooks::CreatedAt))
        .col(timestamp_with_time_zone(TenantWebhooks::UpdatedAt))
        .foreign_key(&mut tenant_fk(TenantWebhooks::Table))
        .to_owned()
}
