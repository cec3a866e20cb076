//! Branches: a dealership group's locations, each with its own number, zone and hours.

use super::{
    Resource, Stored, json_column, stored_json, stored_phone, stored_zone, tenant_columns,
};
use crate::{StoreError, entities::branches};
use chrono_tz::Tz;
use domain::{E164, directory::Schedule};
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct BranchFields {
    pub name: String,
    pub address: Option<String>,
    pub phone: Option<E164>,
    /// `None`: the tenant's zone.
    pub time_zone: Option<Tz>,
    pub hours: Option<Schedule>,
}

pub type Branch = Stored<BranchFields>;

pub struct Branches;

impl Resource for Branches {
    type Entity = branches::Entity;
    type Record = Branch;
    type New = BranchFields;
    type Filter = ();
    const NAME: &'static str = "branch";
    tenant_columns!(branches);

    fn id(record: &Branch) -> Uuid {
        record.id
    }

    fn fields_of(record: &Branch) -> Self::New {
        record.fields.clone()
    }

    fn record(row: branches::Model) -> Result<Branch, StoreError> {
        Ok(Stored {
            id: row.id,
            fields: BranchFields {
                name: row.name,
                address: row.address,
                phone: stored_phone("branches.phone", row.phone)?,
                time_zone: stored_zone("branches.time_zone", row.time_zone)?,
                hours: row
                    .hours
                    .map(|h| stored_json("branches.hours", h))
                    .transpose()?,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn fields(new: BranchFields) -> branches::ActiveModel {
        branches::ActiveModel {
            name: Set(new.name),
            address: Set(new.address),
            phone: Set(new.phone.map(|p| p.as_str().to_owned())),
            time_zone: Set(new.time_zone.map(|z| z.name().to_owned())),
            hours: Set(new.hours.as_ref().map(json_column)),
            ..Default::default()
        }
    }
}
