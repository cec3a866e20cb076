use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub call_sid: Option<String>,
    pub request_key: String,
    pub for_whom: Option<String>,
    pub caller_name: String,
    pub callback_number: Option<String>,
    pub body: String,
    pub status: String,
    pub recipient_kind: Option<String>,
    pub recipient_id: Option<Uuid>,
    pub recipient_name: Option<String>,
    pub recipient_phone: Option<String>,
    pub recipient_email: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
