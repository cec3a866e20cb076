use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub agent_id: Option<Uuid>,
    #[sea_orm(unique)]
    pub call_sid: String,
    pub direction: String,
    pub from_number: String,
    pub to_number: String,
    pub status: String,
    pub outcome: Option<String>,
    pub started_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub duration_secs: Option<i32>,
    pub answered_by: Option<String>,
    pub workflow_id: String,
    pub transfer_result: Option<String>,
    /// `PostCallAnalysis` as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub analysis: Option<String>,
    pub outcome_class: Option<String>,
    pub needs_attention: bool,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub source: String,
    /// The agent's tool calls (`ToolCallRecord`s) as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub tool_calls: Option<String>,
    /// The bridge's voice-to-voice samples (ms) as a JSON array, and their median.
    #[sea_orm(column_type = "Text", nullable)]
    pub reply_latencies_ms: Option<String>,
    pub reply_latency_p50_ms: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
