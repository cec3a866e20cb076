//! Database migrations (sea-orm-migration). The same migrations run on PostgreSQL and SQLite.
//!
//! - [`m20261122_000001_foundation`]: tenants, api keys, phone numbers, agents, calls,
//!   transcript segments, call metrics.
//! - [`m20261122_000002_knowledge_messages`]: knowledge base entries and caller messages.
//!
//! `switchboard migrate up|down|status` drives [`Migrator`].

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_knowledge_messages;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_knowledge_messages::Migration),
        ]
    }
}
