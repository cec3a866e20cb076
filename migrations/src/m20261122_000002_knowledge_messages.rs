//! What agents know and what they take down: the tenant knowledge base and caller messages;
//! and who answered an outbound call (Twilio's answering machine detection).

use crate::m20261122_000001_foundation::tenant_fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum KnowledgeBase {
    Table,
    Id,
    TenantId,
    Category,
    Question,
    Answer,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Calls {
    Table,
    AnsweredBy,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    TenantId,
    CallSid,
    RequestKey,
    ForWhom,
    CallerName,
    CallbackNumber,
    Body,
    Status,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One statement per function below. Databases have already run this migration: the SQL
    /// those functions build must never change; a new schema change is a new migration.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(knowledge_base()).await?;
        manager.create_index(knowledge_base_by_tenant()).await?;
        manager.create_table(messages()).await?;
        manager.create_index(messages_by_request_key()).await?;
        manager.alter_table(calls_answered_by()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Calls::Table)
                    .drop_column(Calls::AnsweredBy)
                    .to_owned(),
            )
            .await?;
        for table in [
            Messages::Table.into_iden(),
            KnowledgeBase::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The tenant knowledge base: question and answer per category.
fn knowledge_base() -> TableCreateStatement {
    Table::create()
        .table(KnowledgeBase::Table)
        .col(pk_uuid(KnowledgeBase::Id))
        .col(uuid(KnowledgeBase::TenantId))
        .col(string(KnowledgeBase::Category))
        .col(text(KnowledgeBase::Question))
        .col(text(KnowledgeBase::Answer))
        .col(timestamp_with_time_zone(KnowledgeBase::CreatedAt))
        .col(timestamp_with_time_zone(KnowledgeBase::UpdatedAt))
        .foreign_key(&mut tenant_fk(KnowledgeBase::Table))
        .to_owned()
}

/// A tenant's knowledge base entries.
fn knowledge_base_by_tenant() -> IndexCreateStatement {
    Index::create()
        .name("idx_knowledge_base_tenant")
        .table(KnowledgeBase::Table)
        .col(KnowledgeBase::TenantId)
        .to_owned()
}

/// Messages agents take for people at the business.
fn messages() -> TableCreateStatement {
    Table::create()
        .table(Messages::Table)
        .col(pk_uuid(Messages::Id))
        .col(uuid(Messages::TenantId))
        .col(string_null(Messages::CallSid))
        // Idempotency: a retried activity writes the same key and changes nothing.
        .col(string(Messages::RequestKey))
        .col(string_null(Messages::ForWhom))
        .col(string(Messages::CallerName))
        .col(string_null(Messages::CallbackNumber))
        .col(text(Messages::Body))
        .col(string(Messages::Status))
        .col(timestamp_with_time_zone(Messages::CreatedAt))
        .foreign_key(&mut tenant_fk(Messages::Table))
        .to_owned()
}

/// One message per request key and tenant: the idempotency of `take_message`.
fn messages_by_request_key() -> IndexCreateStatement {
    Index::create()
        .name("idx_messages_tenant_request_key")
        .table(Messages::Table)
        .col(Messages::TenantId)
        .col(Messages::RequestKey)
        .unique()
        .to_owned()
}

/// Who answered an outbound call (Twilio's answering machine detection).
fn calls_answered_by() -> TableAlterStatement {
    Table::alter()
        .table(Calls::Table)
        .add_column(string_null(Calls::AnsweredBy))
        .to_owned()
}
