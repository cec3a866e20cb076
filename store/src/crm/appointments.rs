//! Appointments: service visits booked by an agent during a call or by a person, in the
//! customer's zone.

use super::{Reference, Resource, Stored, Target, stored_enum, stored_zone, tenant_columns};
use crate::{StoreError, entities::appointments};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::crm::{AppointmentSource, AppointmentStatus};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentFields {
    pub customer_id: Uuid,
    /// The call that booked it.
    pub call_sid: Option<domain::CallSid>,
    /// The campaign that booked it; no foreign key, so the appointment outlives it.
    pub campaign_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    /// The zone the appointment was agreed in, for reading `starts_at` back to the customer.
    pub time_zone: Tz,
    pub status: AppointmentStatus,
    pub notes: Option<String>,
    pub source: AppointmentSource,
}

pub type Appointment = Stored<AppointmentFields>;

/// Which appointments a list shows; `from` inclusive, `to` exclusive, on `starts_at`.
#[derive(Debug, Clone, Default)]
pub struct AppointmentFilter {
    pub customer_id: Option<Uuid>,
    pub status: Option<AppointmentStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub struct Appointments;

impl Resource for Appointments {
    type Entity = appointments::Entity;
    type Record = Appointment;
    type New = AppointmentFields;
    type Filter = AppointmentFilter;
    const NAME: &'static str = "appointment";
    tenant_columns!(appointments);

    fn id(record: &Appointment) -> Uuid {
        record.id
    }

    fn fields_of(record: &Appointment) -> Self::New {
        record.fields.clone()
    }

    fn record(row: appointments::Model) -> Result<Appointment, StoreError> {
        let call_sid = row
            .call_sid
            .map(|s| {
                domain::CallSid::parse(&s)
                    .map_err(|e| StoreError::Corrupt(format!("appointments.call_sid: {e}")))
            })
            .transpose()?;
        let zone = stored_zone("appointments.time_zone", Some(row.time_zone))?;
        Ok(Stored {
            id: row.id,
            fields: AppointmentFields {
                customer_id: row.customer_id,
                call_sid,
                campaign_id: row.campaign_id,
                branch_id: row.branch_id,
                vehicle_id: row.vehicle_id,
                starts_at: row.starts_at,
                time_zone: zone.unwrap_or(chrono_tz::UTC),
                status: stored_enum("appointments.status", &row.status, AppointmentStatus::parse)?,
                notes: row.notes,
                source: stored_enum("appointments.source", &row.source, AppointmentSource::parse)?,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn fields(new: AppointmentFields) -> appointments::ActiveModel {
        appointments::ActiveModel {
            customer_id: Set(new.customer_id),
            call_sid: Set(new.call_sid.map(|s| s.as_str().to_owned())),
            campaign_id: Set(new.campaign_id),
            branch_id: Set(new.branch_id),
            vehicle_id: Set(new.vehicle_id),
            starts_at: Set(new.starts_at),
            time_zone: Set(new.time_zone.name().to_owned()),
            status: Set(new.status.as_str().to_owned()),
            notes: Set(new.notes),
            source: Set(new.source.as_str().to_owned()),
            ..Default::default()
        }
    }

    fn references(new: &AppointmentFields) -> Vec<Reference> {
        [
            Some(Reference::to(
                "customer_id",
                Target::Customer(new.customer_id),
            )),
            Reference::optional("branch_id", new.branch_id, Target::Branch),
            Reference::optional("vehicle_id", new.vehicle_id, Target::Vehicle),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn filter(filter: &AppointmentFilter) -> Condition {
        use appointments::Column as C;
        Condition::all()
            .add_option(filter.customer_id.map(|c| C::CustomerId.eq(c)))
            .add_option(filter.status.map(|s| C::Status.eq(s.as_str())))
            .add_option(filter.from.map(|t| C::StartsAt.gte(t)))
            .add_option(filter.to.map(|t| C::StartsAt.lt(t)))
    }
}
