use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_targets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub campaign_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub time_zone: Option<String>,
    pub extra: Json,
    pub source_line: Option<i32>,
    pub state: String,
    pub attempts: i32,
    pub last_call_sid: Option<String>,
    pub last_outcome: Option<String>,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
