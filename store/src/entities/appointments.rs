use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub customer_id: Uuid,
    pub call_sid: Option<String>,
    pub campaign_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub starts_at: DateTimeUtc,
    pub time_zone: String,
    pub status: String,
    pub notes: Option<String>,
    pub source: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
