//! sea-orm entities, one file per table. Rows stay inside `store`; callers get domain-shaped
//! records from the query modules.

pub mod agent_build_events;
pub mod agent_builds;
pub mod agents;
pub mod api_keys;
pub mod appointments;
pub mod audit_log;
pub mod branches;
pub mod call_metrics;
pub mod calls;
pub mod campaign_attempts;
pub mod campaign_targets;
pub mod campaigns;
pub mod company_info;
pub mod crawled_pages;
pub mod customers;
pub mod departments;
pub mod dnc_entries;
pub mod employees;
pub mod event_deliveries;
pub mod jobs;
pub mod knowledge_base;
pub mod live_transcript_segments;
pub mod message_deliveries;
pub mod messages;
pub mod phone_numbers;
pub mod qa_reviews;
pub mod refresh_tokens;
pub mod scripts;
pub mod tenant_integrations;
pub mod tenant_webhooks;
pub mod tenants;
pub mod transcript_segments;
pub mod transfers;
pub mod users;
pub mod vehicles;
