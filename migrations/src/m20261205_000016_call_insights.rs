//! What the call page's timeline and the overview's latency need of a call: the tool calls the
//! agent made (`calls.tool_calls`, JSON saved with the call), and the voice-to-voice latency of
//! its replies as the media bridge measured them (`calls.reply_latencies_ms`, the samples as a
//! JSON array, and their median `calls.reply_latency_p50_ms` for the overview's aggregate).
//! One column per statement: SQLite alters a table one column at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(Clone, Copy, DeriveIden)]
#[allow(clippy::enum_variant_names)] // the columns' names
enum Calls {
    Table,
    ToolCalls,
    ReplyLatenciesMs,
    ReplyLatencyP50Ms,
}

fn columns() -> [ColumnDef; 3] {
    [
        text_null(Calls::ToolCalls),
        text_null(Calls::ReplyLatenciesMs),
        integer_null(Calls::ReplyLatencyP50Ms),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Calls::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Calls::ToolCalls,
            Calls::ReplyLatenciesMs,
            Calls::ReplyLatencyP50Ms,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Calls::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
