use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_base")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub category: String,
    pub question: String,
    pub answer: String,
    /// The agent the entry belongs to; `None`: every agent of the tenant.
    pub agent_id: Option<Uuid>,
    /// The page a site entry came from.
    pub source_url: Option<String>,
    /// `manual`, `site`, or `edited` (a site entry a person changed).
    pub origin: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
