//! The live transcript: each segment of a call in progress as the media bridge sends it to the
//! call's workflow (`live_transcript_segments`), so the console's live page can show a call's
//! words while it happens from whichever API node asks. The call's own transcript
//! (`transcript_segments`) is still what the workflow saves; a finished call's live rows go.

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(Clone, Copy, DeriveIden)]
enum LiveTranscriptSegments {
    Table,
    Id,
    TenantId,
    CallId,
    Speaker,
    Text,
    StartMs,
    EndMs,
    Interrupted,
    CreatedAt,
}

fn live_transcript_segments() -> TableCreateStatement {
    use LiveTranscriptSegments as L;
    Table::create()
        .table(L::Table)
        .col(pk_uuid(L::Id))
        .col(uuid(L::TenantId))
        .col(uuid(L::CallId))
        .col(string(L::Speaker))
        .col(text(L::Text))
        .col(big_integer(L::StartMs))
        .col(big_integer(L::EndMs))
        .col(boolean(L::Interrupted))
        .col(timestamp_with_time_zone(L::CreatedAt))
        .foreign_key(&mut tenant_fk(L::Table))
        .foreign_key(
            ForeignKey::create()
                .from(L::Table, L::CallId)
                .to(Alias::new("calls"), Alias::new("id"))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn segments_by_time() -> IndexCreateStatement {
    Index::create()
        .name("idx_live_transcript_tenant_created")
        .table(LiveTranscriptSegments::Table)
        .col(LiveTranscriptSegments::TenantId)
        .col(LiveTranscriptSegments::CreatedAt)
        .to_owned()
}

const TABLES: [&str; 1] = ["live_transcript_segments"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(live_transcript_segments()).await?;
        manager.create_index(segments_by_time()).await?;
        isolate_new_tables(manager, &TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, &TABLES).await?;
        manager
            .drop_table(
                Table::drop()
                    .table(LiveTranscriptSegments::Table)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
