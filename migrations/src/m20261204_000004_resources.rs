//! Agent fields, bought phone numbers, the 18 knowledge categories (checked), message status
//! (checked).
//!
//! - agents: `language` (`en-US` by default) and `archived_at` (calls keep referencing an
//!   archived agent). Voice, voicemail message, follow-up SMS and LLM model stay keys of
//!   `engine_settings`, which `domain::AgentSettings` reads.
//! - phone_numbers: Twilio's `twilio_sid`, `friendly_name`, `capabilities`, `released_at`,
//!   `updated_at`. A released number keeps its row for history, so `e164` is unique among the
//!   numbers not released only (SQLite cannot drop the old constraint: the table is rebuilt).
//! - knowledge_base: free-text categories mapped onto the 18.
//! - messages: `updated_at`.
//!
//! On PostgreSQL `category` and `status` get CHECK constraints; SQLite cannot add one to an
//! existing table, and there the store's typed values (`KnowledgeCategory`, `MessageStatus`)
//! are the check. The category mapping is not undone by `down`.

use crate::m20261122_000001_foundation::tenant_fk;
use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    Language,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum PhoneNumbers {
    Table,
    Id,
    TenantId,
    AgentId,
    E164,
    TwilioSid,
    FriendlyName,
    Capabilities,
    CreatedAt,
    UpdatedAt,
    ReleasedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    UpdatedAt,
}

/// The 18 knowledge categories, as `domain::KnowledgeCategory` spells them.
const CATEGORIES: &[&str] = &[
    "business_information",
    "products_services",
    "support_faq",
    "company_history",
    "policies",
    "processes_procedures",
    "events_news",
    "technical_specs",
    "pricing_billing",
    "inventory_stock",
    "legal_compliance",
    "partnerships",
    "marketing_promotions",
    "training_education",
    "quality_standards",
    "feedback_reviews",
    "emergency_contact",
    "custom_business_logic",
];

const MESSAGE_STATUSES: &[&str] = &["new", "read", "handled"];

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        manager
            .alter_table(add(
                Agents::Table,
                string(Agents::Language).default("en-US"),
            ))
            .await?;
        manager
            .alter_table(add(
                Agents::Table,
                timestamp_with_time_zone_null(Agents::ArchivedAt),
            ))
            .await?;
        if postgres {
            phone_numbers_postgres(manager).await?;
        } else {
            phone_numbers_sqlite(manager).await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_phone_numbers_live_e164 ON phone_numbers (e164) \
             WHERE released_at IS NULL",
        )
        .await?;
        db.execute_unprepared(&map_categories()).await?;
        manager
            .alter_table(add(
                Messages::Table,
                timestamp_with_time_zone_null(Messages::UpdatedAt),
            ))
            .await?;
        db.execute_unprepared("UPDATE messages SET updated_at = created_at")
            .await?;
        if postgres {
            check_message_statuses(manager).await?;
            db.execute_unprepared(&format!(
                "ALTER TABLE knowledge_base ADD CONSTRAINT knowledge_base_category_check \
                 CHECK (category IN ({}));
                 ALTER TABLE messages ADD CONSTRAINT messages_status_check \
                 CHECK (status IN ({}));
                 ALTER TABLE messages ALTER COLUMN updated_at SET NOT NULL;",
                quoted(CATEGORIES),
                quoted(MESSAGE_STATUSES)
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE messages DROP CONSTRAINT messages_status_check;
                 ALTER TABLE knowledge_base DROP CONSTRAINT knowledge_base_category_check;",
            )
            .await?;
        }
        db.execute_unprepared("DROP INDEX idx_phone_numbers_live_e164")
            .await?;
        db.execute_unprepared("DELETE FROM phone_numbers WHERE released_at IS NOT NULL")
            .await?;
        let drops: [(DynIden, DynIden); 8] = [
            (Messages::Table.into_iden(), Messages::UpdatedAt.into_iden()),
            (
                PhoneNumbers::Table.into_iden(),
                PhoneNumbers::UpdatedAt.into_iden(),
            ),
            (
                PhoneNumbers::Table.into_iden(),
                PhoneNumbers::ReleasedAt.into_iden(),
            ),
            (
                PhoneNumbers::Table.into_iden(),
                PhoneNumbers::Capabilities.into_iden(),
            ),
            (
                PhoneNumbers::Table.into_iden(),
                PhoneNumbers::FriendlyName.into_iden(),
            ),
            (
                PhoneNumbers::Table.into_iden(),
                PhoneNumbers::TwilioSid.into_iden(),
            ),
            (Agents::Table.into_iden(), Agents::ArchivedAt.into_iden()),
            (Agents::Table.into_iden(), Agents::Language.into_iden()),
        ];
        for (table, column) in drops {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        db.execute_unprepared("CREATE UNIQUE INDEX idx_phone_numbers_e164 ON phone_numbers (e164)")
            .await?;
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

/// PostgreSQL: the new columns, and `e164` no longer unique across released numbers (the
/// constraint of the first migration, or the index `down` puts back).
async fn phone_numbers_postgres(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(PhoneNumbers::Table)
                .add_column(string_null(PhoneNumbers::TwilioSid))
                .add_column(string_null(PhoneNumbers::FriendlyName))
                .add_column(json_null(PhoneNumbers::Capabilities))
                .add_column(timestamp_with_time_zone_null(PhoneNumbers::ReleasedAt))
                .add_column(timestamp_with_time_zone_null(PhoneNumbers::UpdatedAt))
                .to_owned(),
        )
        .await?;
    manager
        .get_connection()
        .execute_unprepared(
            "UPDATE phone_numbers SET updated_at = created_at;
             ALTER TABLE phone_numbers ALTER COLUMN updated_at SET NOT NULL;
             ALTER TABLE phone_numbers DROP CONSTRAINT IF EXISTS phone_numbers_e164_key;
             DROP INDEX IF EXISTS idx_phone_numbers_e164;",
        )
        .await?;
    Ok(())
}

/// SQLite cannot drop the inline `UNIQUE` of `e164`: the table is rebuilt with the new columns.
async fn phone_numbers_sqlite(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let rebuilt = Alias::new("phone_numbers_rebuilt");
    manager
        .create_table(
            Table::create()
                .table(rebuilt.clone())
                .col(pk_uuid(PhoneNumbers::Id))
                .col(uuid(PhoneNumbers::TenantId))
                .col(uuid_null(PhoneNumbers::AgentId))
                .col(string(PhoneNumbers::E164))
                .col(timestamp_with_time_zone(PhoneNumbers::CreatedAt))
                .col(string_null(PhoneNumbers::TwilioSid))
                .col(string_null(PhoneNumbers::FriendlyName))
                .col(json_null(PhoneNumbers::Capabilities))
                .col(timestamp_with_time_zone_null(PhoneNumbers::ReleasedAt))
                .col(timestamp_with_time_zone(PhoneNumbers::UpdatedAt))
                .foreign_key(&mut tenant_fk(rebuilt.clone()))
                .foreign_key(
                    ForeignKey::create()
                        .from(rebuilt.clone(), PhoneNumbers::AgentId)
                        .to(Agents::Table, Agents::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
    manager
        .get_connection()
        .execute_unprepared(
            "INSERT INTO phone_numbers_rebuilt (id, tenant_id, agent_id, e164, created_at, updated_at)
             SELECT id, tenant_id, agent_id, e164, created_at, created_at FROM phone_numbers;
             DROP TABLE phone_numbers;
             ALTER TABLE phone_numbers_rebuilt RENAME TO phone_numbers;",
        )
        .await?;
    Ok(())
}

/// Seed-era free-text categories onto the 18.
fn map_categories() -> String {
    format!(
        "UPDATE knowledge_base SET category = CASE
           WHEN category IN ({known}) THEN category
           WHEN category IN ('hours', 'location', 'contact') THEN 'business_information'
           WHEN category = 'services' THEN 'products_services'
           WHEN category IN ('insurance', 'prices') THEN 'pricing_billing'
           ELSE 'custom_business_logic' END",
        known = quoted(CATEGORIES)
    )
}

/// Refuses to add the status check over rows it would reject, naming them.
async fn check_message_statuses(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let row = manager
        .get_connection()
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT COUNT(*) AS n FROM messages WHERE status NOT IN ({})",
                quoted(MESSAGE_STATUSES)
            ),
        ))
        .await?;
    let bad: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
    if bad > 0 {
        return Err(DbErr::Migration(format!(
            "{bad} messages have a status other than new/read/handled; fix them first"
        )));
    }
    Ok(())
}
