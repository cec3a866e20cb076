//! Call recordings: one Ogg/Opus object per media stream of a call (`recordings`: where the
//! object is stored, its size and length), whether an agent records its calls
//! (`agents.record_calls`, on unless turned off) and how long a tenant keeps recordings
//! (`tenants.recording_retention_days`, null: forever).

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(Clone, Copy, DeriveIden)]
enum Recordings {
    Table,
    Id,
    TenantId,
    CallId,
    StreamSid,
    StorageKey,
    ContentType,
    Bytes,
    DurationMs,
    Channels,
    CreatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum Agents {
    Table,
    RecordCalls,
}

#[derive(Clone, Copy, DeriveIden)]
enum Tenants {
    Table,
    RecordingRetentionDays,
}

fn recordings() -> TableCreateStatement {
    use Recordings as R;
    Table::create()
        .table(R::Table)
        .col(pk_uuid(R::Id))
        .col(uuid(R::TenantId))
        .col(uuid(R::CallId))
        .col(string(R::StreamSid))
        .col(string(R::StorageKey))
        .col(string(R::ContentType))
        .col(big_integer(R::Bytes))
        .col(big_integer(R::DurationMs))
        .col(small_integer(R::Channels))
        .col(timestamp_with_time_zone(R::CreatedAt))
        .foreign_key(&mut tenant_fk(R::Table))
        .foreign_key(
            ForeignKey::create()
                .from(R::Table, R::CallId)
                .to(Alias::new("calls"), Alias::new("id"))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// One recording per stream of a call: saving it again (a retry) changes nothing.
fn one_per_stream() -> IndexCreateStatement {
    Index::create()
        .name("idx_recordings_call_stream")
        .table(Recordings::Table)
        .col(Recordings::CallId)
        .col(Recordings::StreamSid)
        .unique()
        .to_owned()
}

/// The purge finds a tenant's old recordings by age.
fn by_age() -> IndexCreateStatement {
    Index::create()
        .name("idx_recordings_tenant_created")
        .table(Recordings::Table)
        .col(Recordings::TenantId)
        .col(Recordings::CreatedAt)
        .to_owned()
}

const TABLES: [&str; 1] = ["recordings"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(recordings()).await?;
        manager.create_index(one_per_stream()).await?;
        manager.create_index(by_age()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .add_column(boolean(Agents::RecordCalls).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(integer_null(Tenants::RecordingRetentionDays))
                    .to_owned(),
            )
            .await?;
        isolate_new_tables(manager, &TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, &TABLES).await?;
        manager
            .drop_table(Table::drop().table(Recordings::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .drop_column(Agents::RecordCalls)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::RecordingRetentionDays)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
