//! Campaigns: an agent, a script and settings for calling a list of targets. Only their
//! definition lives here; the campaign workflow moves `status` (a new campaign is `draft`, the
//! column's default, and a replacement of the fields leaves it alone).

use super::{Reference, Resource, Stored, Target, stored_enum, tenant_columns};
use crate::{StoreError, entities::campaigns};
use domain::crm::CampaignStatus;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignFields {
    pub name: String,
    pub agent_id: Option<Uuid>,
    pub script_id: Option<Uuid>,
    /// Calling window, retry policy, concurrency, pacing, voicemail behaviour, default region:
    /// kept opaque here; the campaign engine owns their meaning.
    pub settings: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub stored: Stored<CampaignFields>,
    pub status: CampaignStatus,
}

#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    pub status: Option<CampaignStatus>,
}

pub struct Campaigns;

impl Resource for Campaigns {
    type Entity = campaigns::Entity;
    type Record = Campaign;
    type New = CampaignFields;
    type Filter = CampaignFilter;
    const NAME: &'static str = "campaign";
    tenant_columns!(campaigns);

    fn id(record: &Campaign) -> Uuid {
        record.stored.id
    }

    fn fields_of(record: &Campaign) -> CampaignFields {
        record.stored.fields.clone()
    }

    fn record(row: campaigns::Model) -> Result<Campaign, StoreError> {
        Ok(Campaign {
            status: stored_enum("campaigns.status", &row.status, CampaignStatus::parse)?,
            stored: Stored {
                id: row.id,
                fields: CampaignFields {
                    name: row.name,
                    agent_id: row.agent_id,
                    script_id: row.script_id,
                    settings: row.settings,
                },
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
        })
    }

    fn fields(new: CampaignFields) -> campaigns::ActiveModel {
        campaigns::ActiveModel {
            name: Set(new.name),
            agent_id: Set(new.agent_id),
            script_id: Set(new.script_id),
            settings: Set(new.settings),
            ..Default::default()
        }
    }

    fn references(new: &CampaignFields) -> Vec<Reference> {
        [
            Reference::optional("agent_id", new.agent_id, Target::Agent),
            Reference::optional("script_id", new.script_id, Target::Script),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn filter(filter: &CampaignFilter) -> Condition {
        Condition::all().add_option(
            filter
                .status
                .map(|s| campaigns::Column::Status.eq(s.as_str())),
        )
    }
}
