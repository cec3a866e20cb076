use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recordings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub call_id: Uuid,
    /// The media stream recorded: a transferred call back with the agent has a second one.
    pub stream_sid: String,
    /// Where the object is, relative to the recordings store's root.
    pub storage_key: String,
    pub content_type: String,
    pub bytes: i64,
    pub duration_ms: i64,
    pub channels: i16,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
