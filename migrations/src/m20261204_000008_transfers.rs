//! Warm transfers: one `transfers` row per attempt (`transfer-{CallSid}-{n}`), and the call's
//! last transfer result on `calls`.
//!
//! - transfers: whom it rang (`employee_id`, `target_name`), the person's leg
//!   (`employee_call_sid`, recorded from Twilio's `initiated` callback so a retried dial finds
//!   it), where it got to (`stage`), how it ended (`reason`, null when connected), and the
//!   times a caller waits (`ring_after_ms`, `connect_after_ms`).
//! - calls: `transfer_result` (`transferred`, `no_answer`, `busy`, `declined`,
//!   `message_requested`, `voicemail`, `caller_hung_up`, `failed`).

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Transfers {
    Table,
    Id,
    TenantId,
    CallSid,
    EmployeeId,
    TargetName,
    EmployeeCallSid,
    Stage,
    Reason,
    RingAfterMs,
    ConnectAfterMs,
    StartedAt,
    EndedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Calls {
    Table,
    TransferResult,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(transfers()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_transfers_tenant_call")
                    .table(Transfers::Table)
                    .col(Transfers::TenantId)
                    .col(Transfers::CallSid)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Calls::Table)
                    .add_column(string_null(Calls::TransferResult))
                    .to_owned(),
            )
            .await?;
        isolate_new_tables(manager, &["transfers"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, &["transfers"]).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Calls::Table)
                    .drop_column(Calls::TransferResult)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Transfers::Table).to_owned())
            .await
    }
}

fn transfers() -> TableCreateStatement {
    Table::create()
        .table(Transfers::Table)
        // `transfer-{CallSid}-{n}`: the workflow id.
        .col(string(Transfers::Id).primary_key())
        .col(uuid(Transfers::TenantId))
        .col(string(Transfers::CallSid))
        .col(uuid(Transfers::EmployeeId))
        .col(string(Transfers::TargetName))
        .col(string_null(Transfers::EmployeeCallSid))
        .col(string(Transfers::Stage))
        .col(string_null(Transfers::Reason))
        .col(big_integer_null(Transfers::RingAfterMs))
        .col(big_integer_null(Transfers::ConnectAfterMs))
        .col(timestamp_with_time_zone(Transfers::StartedAt))
        .col(timestamp_with_time_zone_null(Transfers::EndedAt))
        .col(timestamp_with_time_zone(Transfers::UpdatedAt))
        .foreign_key(&mut tenant_fk(Transfers::Table))
        .to_owned()
}
