//! Custom search attributes (all Keyword). Never phone numbers or names: these are indexed
//! and stored unencrypted.

use temporalio_common::search_attributes::SearchAttributeKey;

pub const TENANT_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("TenantId");
pub const CALL_DIRECTION: SearchAttributeKey<String> = SearchAttributeKey::keyword("CallDirection");
pub const CAMPAIGN_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("CampaignId");
pub const AGENT_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("AgentId");
pub const CALL_OUTCOME: SearchAttributeKey<String> = SearchAttributeKey::keyword("CallOutcome");

/// Every custom attribute name; all are of type Keyword.
pub const ALL_KEYWORDS: [&str; 5] = [
    "TenantId",
    "CallDirection",
    "CampaignId",
    "AgentId",
    "CallOutcome",
];
