//! One row per dial of a campaign target (`campaign_attempts`), the witness that makes a dial
//! happen once: the attempt's row exists before Twilio is asked to call, Twilio's `initiated`
//! callback (or the create-call answer) writes the call SID into it, and a retried dial that
//! finds a SID adopts that call instead of placing another. The row also carries what the
//! answer webhook and the media bridge need for the call: the campaign script as an
//! instruction line, the opening line, the voicemail message (none: hang up on machines),
//! and a callback time the person asked for.

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(Clone, Copy, DeriveIden)]
enum CampaignAttempts {
    Table,
    Id,
    TenantId,
    CampaignId,
    TargetId,
    Attempt,
    CallSid,
    Status,
    InstructionLine,
    Opening,
    Voicemail,
    CallbackAt,
    CreatedAt,
    UpdatedAt,
}

fn campaign_attempts() -> TableCreateStatement {
    use CampaignAttempts as A;
    Table::create()
        .table(A::Table)
        .col(pk_uuid(A::Id))
        .col(uuid(A::TenantId))
        .col(uuid(A::CampaignId))
        .col(uuid(A::TargetId))
        .col(integer(A::Attempt))
        .col(string_null(A::CallSid))
        .col(string_null(A::Status))
        .col(text(A::InstructionLine))
        .col(text(A::Opening))
        .col(text_null(A::Voicemail))
        .col(timestamp_with_time_zone_null(A::CallbackAt))
        .col(timestamp_with_time_zone(A::CreatedAt))
        .col(timestamp_with_time_zone(A::UpdatedAt))
        .foreign_key(&mut tenant_fk(A::Table))
        .foreign_key(
            ForeignKey::create()
                .name("fk_campaign_attempts_target")
                .from(A::Table, A::TargetId)
                .to(Alias::new("campaign_targets"), Alias::new("id"))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .index(
            Index::create()
                .name("idx_campaign_attempts_target_attempt")
                .col(A::TargetId)
                .col(A::Attempt)
                .unique(),
        )
        .to_owned()
}

fn call_index() -> IndexCreateStatement {
    Index::create()
        .name("idx_campaign_attempts_tenant_call")
        .table(CampaignAttempts::Table)
        .col(CampaignAttempts::TenantId)
        .col(CampaignAttempts::CallSid)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(campaign_attempts()).await?;
        manager.create_index(call_index()).await?;
        isolate_new_tables(manager, &["campaign_attempts"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, &["campaign_attempts"]).await?;
        manager
            .drop_table(Table::drop().table(CampaignAttempts::Table).to_owned())
            .await
    }
}
