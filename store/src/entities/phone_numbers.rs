use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "phone_numbers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub agent_id: Option<Uuid>,
    /// Unique among numbers not released.
    pub e164: String,
    pub created_at: DateTimeUtc,
    /// Twilio's `PN…`; none for numbers seeded before numbers were bought through the API.
    pub twilio_sid: Option<String>,
    pub friendly_name: Option<String>,
    pub capabilities: Option<Json>,
    /// Released numbers keep their row for history and route nowhere.
    pub released_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
