//! The agent builder: one row per build or re-sync of an agent from a website
//! (`agent_builds`), its step events in order (`agent_build_events`, what the progress stream
//! replays and follows), the pages its crawl fetched (`crawled_pages`, so a crawl resumed after
//! a worker's death does not fetch them again, and a re-sync can tell what changed), and on
//! `knowledge_base` whose agent an entry belongs to, the page it came from and whether it is
//! the site's or a person's (`origin`: `manual`, `site`, or `edited` — a site entry a person
//! changed, which a re-sync keeps).

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(Clone, Copy, DeriveIden)]
enum AgentBuilds {
    Table,
    Id,
    TenantId,
    AgentId,
    Kind,
    Url,
    Name,
    AreaCode,
    Engine,
    MaxPages,
    State,
    Step,
    Error,
    Extractor,
    Knowledge,
    ChosenNumber,
    NumberSid,
    PhoneNumberId,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum AgentBuildEvents {
    Table,
    Id,
    TenantId,
    BuildId,
    Step,
    Phase,
    Detail,
    At,
}

#[derive(Clone, Copy, DeriveIden)]
enum CrawledPages {
    Table,
    Id,
    TenantId,
    BuildId,
    Url,
    ContentHash,
    Page,
    CreatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum KnowledgeBase {
    Table,
    AgentId,
    SourceUrl,
    Origin,
}

fn agent_builds() -> TableCreateStatement {
    use AgentBuilds as B;
    Table::create()
        .table(B::Table)
        .col(pk_uuid(B::Id))
        .col(uuid(B::TenantId))
        .col(uuid(B::AgentId))
        .col(string(B::Kind))
        .col(string(B::Url))
        .col(string_null(B::Name))
        .col(string_null(B::AreaCode))
        .col(string_null(B::Engine))
        .col(integer(B::MaxPages))
        .col(string(B::State))
        .col(string_null(B::Step))
        .col(string_null(B::Error))
        .col(string_null(B::Extractor))
        .col(text_null(B::Knowledge))
        .col(string_null(B::ChosenNumber))
        .col(string_null(B::NumberSid))
        .col(uuid_null(B::PhoneNumberId))
        .col(timestamp_with_time_zone(B::CreatedAt))
        .col(timestamp_with_time_zone(B::UpdatedAt))
        .col(timestamp_with_time_zone_null(B::FinishedAt))
        .foreign_key(&mut tenant_fk(B::Table))
        .to_owned()
}

fn builds_by_agent() -> IndexCreateStatement {
    Index::create()
        .name("idx_agent_builds_tenant_agent")
        .table(AgentBuilds::Table)
        .col(AgentBuilds::TenantId)
        .col(AgentBuilds::AgentId)
        .to_owned()
}

fn agent_build_events() -> TableCreateStatement {
    use AgentBuildEvents as E;
    Table::create()
        .table(E::Table)
        .col(pk_uuid(E::Id))
        .col(uuid(E::TenantId))
        .col(uuid(E::BuildId))
        .col(string(E::Step))
        .col(string(E::Phase))
        .col(text_null(E::Detail))
        .col(timestamp_with_time_zone(E::At))
        .foreign_key(&mut tenant_fk(E::Table))
        .foreign_key(
            ForeignKey::create()
                .from(E::Table, E::BuildId)
                .to(AgentBuilds::Table, AgentBuilds::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn events_by_build() -> IndexCreateStatement {
    Index::create()
        .name("idx_agent_build_events_build_id")
        .table(AgentBuildEvents::Table)
        .col(AgentBuildEvents::BuildId)
        .col(AgentBuildEvents::Id)
        .to_owned()
}

fn crawled_pages() -> TableCreateStatement {
    use CrawledPages as P;
    Table::create()
        .table(P::Table)
        .col(pk_uuid(P::Id))
        .col(uuid(P::TenantId))
        .col(uuid(P::BuildId))
        .col(string(P::Url))
        .col(string(P::ContentHash))
        .col(text(P::Page))
        .col(timestamp_with_time_zone(P::CreatedAt))
        .foreign_key(&mut tenant_fk(P::Table))
        .foreign_key(
            ForeignKey::create()
                .from(P::Table, P::BuildId)
                .to(AgentBuilds::Table, AgentBuilds::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .index(
            Index::create()
                .name("idx_crawled_pages_build_url")
                .col(P::BuildId)
                .col(P::Url)
                .unique(),
        )
        .to_owned()
}

fn knowledge_columns() -> Vec<ColumnDef> {
    use KnowledgeBase as K;
    vec![
        uuid_null(K::AgentId),
        string_null(K::SourceUrl),
        string(K::Origin).default("manual").to_owned(),
    ]
}

fn knowledge_by_agent() -> IndexCreateStatement {
    Index::create()
        .name("idx_knowledge_base_tenant_agent")
        .table(KnowledgeBase::Table)
        .col(Alias::new("tenant_id"))
        .col(KnowledgeBase::AgentId)
        .to_owned()
}

const TABLES: [&str; 3] = ["agent_builds", "agent_build_events", "crawled_pages"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(agent_builds()).await?;
        manager.create_index(builds_by_agent()).await?;
        manager.create_table(agent_build_events()).await?;
        manager.create_index(events_by_build()).await?;
        manager.create_table(crawled_pages()).await?;
        for mut column in knowledge_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(KnowledgeBase::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager.create_index(knowledge_by_agent()).await?;
        isolate_new_tables(manager, &TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, &TABLES).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_knowledge_base_tenant_agent")
                    .table(KnowledgeBase::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            KnowledgeBase::Origin,
            KnowledgeBase::SourceUrl,
            KnowledgeBase::AgentId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(KnowledgeBase::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            CrawledPages::Table.into_iden(),
            AgentBuildEvents::Table.into_iden(),
            AgentBuilds::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
