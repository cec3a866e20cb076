//! Customers and their vehicles.
//!
//! Deleting a customer anonymises it rather than removing the row: name, phone, email and notes
//! are blanked (the name becomes "Deleted customer"), `deleted_at` is set, and the row keeps its
//! id. Appointments, jobs and campaign targets that reference the customer stay intact and still
//! read; the customer itself is hidden from lists and is not found by id, and cannot be named
//! by a new appointment or vehicle. The customer's vehicles stay (a vehicle without its owner
//! identifies no one we can reach).

use super::{Reference, Resource, Stored, Target, stored_phone, stored_zone, tenant_columns};
use crate::{
    StoreError,
    entities::{customers, vehicles},
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::E164;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition,
    sea_query::{Expr, ExprTrait, Func, SimpleExpr},
};
use uuid::Uuid;

/// The name an anonymised customer keeps.
pub const DELETED_NAME: &str = "Deleted customer";

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFields {
    pub name: String,
    pub phone: Option<E164>,
    pub email: Option<String>,
    /// `None`: the branch's zone, else the tenant's.
    pub time_zone: Option<Tz>,
    pub branch_id: Option<Uuid>,
    pub consent_calls: bool,
    pub consent_sms: bool,
    pub consent_recorded_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
}

pub type Customer = Stored<CustomerFields>;

/// Which customers a list shows: `q` is contained in the name, email or phone.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub q: Option<String>,
    pub branch_id: Option<Uuid>,
}

pub struct Customers;

impl Resource for Customers {
    type Entity = customers::Entity;
    type Record = Customer;
    type New = CustomerFields;
    type Filter = CustomerFilter;
    const NAME: &'static str = "customer";
    tenant_columns!(customers);

    fn id(record: &Customer) -> Uuid {
        record.id
    }

    fn fields_of(record: &Customer) -> Self::New {
        record.fields.clone()
    }

    fn record(row: customers::Model) -> Result<Customer, StoreError> {
        Ok(Stored {
            id: row.id,
            fields: CustomerFields {
                name: row.name,
                phone: stored_phone("customers.phone", row.phone)?,
                email: row.email,
                time_zone: stored_zone("customers.time_zone", row.time_zone)?,
                branch_id: row.branch_id,
                consent_calls: row.consent_calls,
                consent_sms: row.consent_sms,
                consent_recorded_at: row.consent_recorded_at,
                notes: row.notes,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn fields(new: CustomerFields) -> customers::ActiveModel {
        customers::ActiveModel {
            name: Set(new.name),
            phone: Set(new.phone.map(|p| p.as_str().to_owned())),
            email: Set(new.email),
            time_zone: Set(new.time_zone.map(|z| z.name().to_owned())),
            branch_id: Set(new.branch_id),
            consent_calls: Set(new.consent_calls),
            consent_sms: Set(new.consent_sms),
            consent_recorded_at: Set(new.consent_recorded_at),
            notes: Set(new.notes),
            ..Default::default()
        }
    }

    fn references(new: &CustomerFields) -> Vec<Reference> {
        Reference::optional("branch_id", new.branch_id, Target::Branch)
            .into_iter()
            .collect()
    }

    fn filter(filter: &CustomerFilter) -> Condition {
        let mut condition = Condition::all();
        if let Some(q) = filter.q.as_deref() {
            condition = condition.add(
                Condition::any()
                    .add(contains_ci(customers::Column::Name, q))
                    .add(contains_ci(customers::Column::Email, q))
                    .add(contains_ci(customers::Column::Phone, q)),
            );
        }
        if let Some(branch) = filter.branch_id {
            condition = condition.add(customers::Column::BranchId.eq(branch));
        }
        condition
    }

    fn visible() -> Condition {
        Condition::all().add(customers::Column::DeletedAt.is_null())
    }

    fn tombstone() -> Option<customers::ActiveModel> {
        Some(customers::ActiveModel {
            name: Set(DELETED_NAME.to_owned()),
            phone: Set(None),
            email: Set(None),
            notes: Set(None),
            consent_calls: Set(false),
            consent_sms: Set(false),
            deleted_at: Set(Some(Utc::now())),
            ..Default::default()
        })
    }
}

/// `column` contains `q`, ignoring case on both backends (PostgreSQL's `LIKE` does not).
fn contains_ci(column: customers::Column, q: &str) -> SimpleExpr {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column)))
        .like(sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

#[derive(Debug, Clone, PartialEq)]
pub struct VehicleFields {
    pub customer_id: Uuid,
    pub make: String,
    pub model: String,
    pub year: Option<i32>,
    pub vin: Option<String>,
    pub mileage: Option<i32>,
    pub notes: Option<String>,
}

pub type Vehicle = Stored<VehicleFields>;

#[derive(Debug, Clone, Default)]
pub struct VehicleFilter {
    pub customer_id: Option<Uuid>,
}

pub struct Vehicles;

impl Resource for Vehicles {
    type Entity = vehicles::Entity;
    type Record = Vehicle;
    type New = VehicleFields;
    type Filter = VehicleFilter;
    const NAME: &'static str = "vehicle";
    tenant_columns!(vehicles);

    fn id(record: &Vehicle) -> Uuid {
        record.id
    }

    fn fields_of(record: &Vehicle) -> Self::New {
        record.fields.clone()
    }

    fn record(row: vehicles::Model) -> Result<Vehicle, StoreError> {
        Ok(Stored {
            id: row.id,
            fields: VehicleFields {
                customer_id: row.customer_id,
                make: row.make,
                model: row.model,
                year: row.year,
                vin: row.vin,
                mileage: row.mileage,
                notes: row.notes,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn fields(new: VehicleFields) -> vehicles::ActiveModel {
        vehicles::ActiveModel {
            customer_id: Set(new.customer_id),
            make: Set(new.make),
            model: Set(new.model),
            year: Set(new.year),
            vin: Set(new.vin),
            mileage: Set(new.mileage),
            notes: Set(new.notes),
            ..Default::default()
        }
    }

    fn references(new: &VehicleFields) -> Vec<Reference> {
        vec![Reference::to(
            "customer_id",
            Target::Customer(new.customer_id),
        )]
    }

    fn filter(filter: &VehicleFilter) -> Condition {
        match filter.customer_id {
            Some(customer) => Condition::all().add(vehicles::Column::CustomerId.eq(customer)),
            None => Condition::all(),
        }
    }
}
