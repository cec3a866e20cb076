//! Database migrations (sea-orm-migration). The same migrations run on PostgreSQL and SQLite.
//!
//! - [`m20261122_000001_foundation`]: tenants, api keys, phone numbers, agents, calls,
//!   transcript segments, call metrics.
//! - [`m20261122_000002_knowledge_messages`]: knowledge base entries and caller messages.
//! - [`m20261204_000003_platform`]: tenants' slug, time zone, status; users; refresh tokens;
//!   API key roles; the audit log.
//! - [`m20261204_000004_resources`]: agent fields, bought numbers, knowledge categories, message
//!   status.
//! - [`m20261204_000005_row_level_security`]: PostgreSQL row-level security.
//! - [`m20261204_000006_directory`]: the receptionist's directory: departments, employees,
//!   company info.
//! - [`m20261204_000007_message_delivery`]: message recipients, per-channel deliveries, the
//!   tenant's message webhook.
//! - [`m20261204_000008_transfers`]: warm transfers, and the call's transfer result.
//! - [`m20261205_000009_crm`]: the dealership CRM: branches, customers, vehicles, jobs, scripts,
//!   appointments, the do-not-call list, QA reviews, campaigns and their targets.
//! - [`m20261205_000010_post_call`]: post-call analysis and the review queue on `calls`, calls
//!   from other platforms (`source`, `external_id`), one booking per call, integration secrets.
//! - [`m20261205_000011_campaign_attempts`]: one row per campaign dial, the witness that
//!   makes each dial happen once, with what the call's webhooks need.
//! - [`m20261205_000012_event_deliveries`]: the delivery log of events sent to the tenant's
//!   webhook (`call.analyzed`), one row per event.
//! - [`m20261205_000013_agent_builds`]: agent builds from a website, their step events, the
//!   pages their crawls fetched; the agent and source page of a knowledge entry.
//! - [`m20261205_000015_recordings`]: call recordings, agents' `record_calls`, tenants'
//!   recording retention.
//! - [`m20261205_000014_live_transcript`]: the segments of calls in progress, for the console's
//!   live page.
//! - [`m20261205_000016_call_insights`]: a call's tool calls and its replies' voice-to-voice
//!   latency.
//!
//! `switchboard migrate up|down|status` drives [`Migrator`].

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_knowledge_messages;
mod m20261204_000003_platform;
mod m20261204_000004_resources;
mod m20261204_000005_row_level_security;
mod m20261204_000006_directory;
mod m20261204_000007_message_delivery;
mod m20261204_000008_transfers;
mod m20261205_000009_crm;
mod m20261205_000010_post_call;
mod m20261205_000011_campaign_attempts;
mod m20261205_000012_event_deliveries;
mod m20261205_000013_agent_builds;
mod m20261205_000014_live_transcript;
mod m20261205_000015_recordings;
mod m20261205_000016_call_insights;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_knowledge_messages::Migration),
            Box::new(m20261204_000003_platform::Migration),
            Box::new(m20261204_000004_resources::Migration),
            Box::new(m20261204_000005_row_level_security::Migration),
            Box::new(m20261204_000006_directory::Migration),
            Box::new(m20261204_000007_message_delivery::Migration),
            Box::new(m20261204_000008_transfers::Migration),
            Box::new(m20261205_000009_crm::Migration),
            Box::new(m20261205_000010_post_call::Migration),
            Box::new(m20261205_000011_campaign_attempts::Migration),
            Box::new(m20261205_000012_event_deliveries::Migration),
            Box::new(m20261205_000013_agent_builds::Migration),
            Box::new(m20261205_000014_live_transcript::Migration),
            Box::new(m20261205_000015_recordings::Migration),
            Box::new(m20261205_000016_call_insights::Migration),
        ]
    }
}
