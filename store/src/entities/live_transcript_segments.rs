use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "live_transcript_segments")]
pub struct Model {
    /// UUID v7: a call's segments sort by id in the order the bridge sent them.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub call_id: Uuid,
    pub speaker: String,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub interrupted: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
