use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_builds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub agent_id: Uuid,
    /// `build` or `resync`.
    pub kind: String,
    pub url: String,
    pub name: Option<String>,
    pub area_code: Option<String>,
    pub engine: Option<String>,
    pub max_pages: i32,
    pub state: String,
    pub step: Option<String>,
    pub error: Option<String>,
    pub extractor: Option<String>,
    /// `ExtractedKnowledge` as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub knowledge: Option<String>,
    pub chosen_number: Option<String>,
    pub number_sid: Option<String>,
    pub phone_number_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
