//! The first schema: everything a durable inbound call touches.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    TenantId,
    Name,
    Prefix,
    KeyHash,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    TenantId,
    Name,
    Greeting,
    Instructions,
    Engine,
    EngineSettings,
    MaxCallDurationSecs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PhoneNumbers {
    Table,
    Id,
    TenantId,
    AgentId,
    E164,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Calls {
    Table,
    Id,
    TenantId,
    AgentId,
    CallSid,
    Direction,
    FromNumber,
    ToNumber,
    Status,
    Outcome,
    StartedAt,
    AnsweredAt,
    EndedAt,
    DurationSecs,
    WorkflowId,
}

#[derive(DeriveIden)]
enum TranscriptSegments {
    Table,
    Id,
    TenantId,
    CallId,
    Seq,
    Speaker,
    Text,
    StartMs,
    EndMs,
    Interrupted,
}

#[derive(DeriveIden)]
enum CallMetrics {
    Table,
    CallId,
    TenantId,
    CallerTurns,
    AgentTurns,
    Interruptions,
    StreamConnectMs,
    CreatedAt,
}

pub(crate) fn tenant_fk<T: IntoIden + 'static>(table: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_col(Alias::new("tenant_id"))
        .from_tbl(table)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One statement per function below. Databases have already run this migration: the SQL
    /// those functions build must never change; a new schema change is a new migration.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(tenants()).await?;
        manager.create_table(api_keys()).await?;
        manager.create_table(agents()).await?;
        manager.create_table(phone_numbers()).await?;
        manager.create_table(calls()).await?;
        manager.create_index(calls_by_tenant_and_start()).await?;
        manager.create_table(transcript_segments()).await?;
        manager.create_index(transcript_by_call_and_seq()).await?;
        manager.create_table(call_metrics()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CallMetrics::Table.into_iden(),
            TranscriptSegments::Table.into_iden(),
            Calls::Table.into_iden(),
            PhoneNumbers::Table.into_iden(),
            Agents::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Tenants: the owners of everything else.
fn tenants() -> TableCreateStatement {
    Table::create()
        .table(Tenants::Table)
        .col(pk_uuid(Tenants::Id))
        .col(string(Tenants::Name))
        .col(timestamp_with_time_zone(Tenants::CreatedAt))
        .to_owned()
}

/// API keys: only a SHA-256 hash and a display prefix of each key.
fn api_keys() -> TableCreateStatement {
    Table::create()
        .table(ApiKeys::Table)
        .col(pk_uuid(ApiKeys::Id))
        .col(uuid(ApiKeys::TenantId))
        .col(string(ApiKeys::Name))
        .col(string(ApiKeys::Prefix))
        .col(string_uniq(ApiKeys::KeyHash))
        .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
        .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
        .foreign_key(&mut tenant_fk(ApiKeys::Table))
        .to_owned()
}

/// Agents and their voice engine settings.
fn agents() -> TableCreateStatement {
    Table::create()
        .table(Agents::Table)
        .col(pk_uuid(Agents::Id))
        .col(uuid(Agents::TenantId))
        .col(string(Agents::Name))
        .col(text(Agents::Greeting))
        .col(text(Agents::Instructions))
        .col(string(Agents::Engine))
        .col(json(Agents::EngineSettings))
        .col(integer(Agents::MaxCallDurationSecs))
        .col(timestamp_with_time_zone(Agents::CreatedAt))
        .col(timestamp_with_time_zone(Agents::UpdatedAt))
        .foreign_key(&mut tenant_fk(Agents::Table))
        .to_owned()
}

/// Our phone numbers and the agent each routes to (none: the number routes nowhere).
fn phone_numbers() -> TableCreateStatement {
    Table::create()
        .table(PhoneNumbers::Table)
        .col(pk_uuid(PhoneNumbers::Id))
        .col(uuid(PhoneNumbers::TenantId))
        .col(uuid_null(PhoneNumbers::AgentId))
        .col(string_uniq(PhoneNumbers::E164))
        .col(timestamp_with_time_zone(PhoneNumbers::CreatedAt))
        .foreign_key(&mut tenant_fk(PhoneNumbers::Table))
        .foreign_key(
            ForeignKey::create()
                .from(PhoneNumbers::Table, PhoneNumbers::AgentId)
                .to(Agents::Table, Agents::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned()
}

/// One row per call, keyed by its Twilio call SID.
fn calls() -> TableCreateStatement {
    Table::create()
        .table(Calls::Table)
        .col(pk_uuid(Calls::Id))
        .col(uuid(Calls::TenantId))
        .col(uuid_null(Calls::AgentId))
        .col(string_uniq(Calls::CallSid))
        .col(string(Calls::Direction))
        .col(string(Calls::FromNumber))
        .col(string(Calls::ToNumber))
        .col(string(Calls::Status))
        .col(string_null(Calls::Outcome))
        .col(timestamp_with_time_zone(Calls::StartedAt))
        .col(timestamp_with_time_zone_null(Calls::AnsweredAt))
        .col(timestamp_with_time_zone_null(Calls::EndedAt))
        .col(integer_null(Calls::DurationSecs))
        .col(string(Calls::WorkflowId))
        .foreign_key(&mut tenant_fk(Calls::Table))
        .to_owned()
}

/// A tenant's calls in time order.
fn calls_by_tenant_and_start() -> IndexCreateStatement {
    Index::create()
        .name("idx_calls_tenant_started")
        .table(Calls::Table)
        .col(Calls::TenantId)
        .col(Calls::StartedAt)
        .to_owned()
}

/// Each call's transcript, one row per utterance.
fn transcript_segments() -> TableCreateStatement {
    Table::create()
        .table(TranscriptSegments::Table)
        .col(pk_uuid(TranscriptSegments::Id))
        .col(uuid(TranscriptSegments::TenantId))
        .col(uuid(TranscriptSegments::CallId))
        .col(integer(TranscriptSegments::Seq))
        .col(string(TranscriptSegments::Speaker))
        .col(text(TranscriptSegments::Text))
        .col(big_integer(TranscriptSegments::StartMs))
        .col(big_integer(TranscriptSegments::EndMs))
        .col(boolean(TranscriptSegments::Interrupted))
        .foreign_key(&mut tenant_fk(TranscriptSegments::Table))
        .foreign_key(
            ForeignKey::create()
                .from(TranscriptSegments::Table, TranscriptSegments::CallId)
                .to(Calls::Table, Calls::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// A call's transcript in order; one segment per position.
fn transcript_by_call_and_seq() -> IndexCreateStatement {
    Index::create()
        .name("idx_transcript_call_seq")
        .table(TranscriptSegments::Table)
        .col(TranscriptSegments::CallId)
        .col(TranscriptSegments::Seq)
        .unique()
        .to_owned()
}

/// Per-call counts and timings, one row per call.
fn call_metrics() -> TableCreateStatement {
    Table::create()
        .table(CallMetrics::Table)
        .col(pk_uuid(CallMetrics::CallId))
        .col(uuid(CallMetrics::TenantId))
        .col(integer(CallMetrics::CallerTurns))
        .col(integer(CallMetrics::AgentTurns))
        .col(integer(CallMetrics::Interruptions))
        .col(big_integer_null(CallMetrics::StreamConnectMs))
        .col(timestamp_with_time_zone(CallMetrics::CreatedAt))
        .foreign_key(&mut tenant_fk(CallMetrics::Table))
        .foreign_key(
            ForeignKey::create()
                .from(CallMetrics::Table, CallMetrics::CallId)
                .to(Calls::Table, Calls::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}
