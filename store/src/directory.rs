//! The receptionist's company directory: departments, employees and the company's own details,
//! stored per tenant and read back as `domain::directory` types.
//!
//! [`Store::directory`] is what a call routes by: one scoped transaction, four queries (the
//! tenant's zone, its company row, its departments, its employees). A directory is tens of
//! rows, not thousands, so it is read whole and searched in Rust.

use crate::{
    Page, Store, StoreError,
    agents::into_page,
    entities::{company_info, departments, employees, tenants},
};
use chrono::Utc;
use domain::{
    TenantId,
    directory::{CompanyInfo, Department, Directory, Employee, EmployeeStatus, Schedule},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

/// At most this many departments and employees each go into a [`Directory`] snapshot.
const MAX_DIRECTORY_ROWS: u64 = 5_000;

#[derive(Debug, Clone)]
pub struct NewDepartment {
    pub name: String,
    pub description: Option<String>,
    pub hours: Option<Schedule>,
    pub routing_priority: i32,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct DepartmentChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub hours: Option<Option<Schedule>>,
    pub routing_priority: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct NewEmployee {
    pub name: String,
    pub phone: Option<domain::E164>,
    pub email: Option<String>,
    /// Must be one of the tenant's departments, or the write fails with `NotFound` for
    /// `department`.
    pub department_id: Option<Uuid>,
    pub office: Option<String>,
    pub roles: Vec<String>,
    pub status: EmployeeStatus,
    pub hours: Option<Schedule>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct EmployeeChanges {
    pub name: Option<String>,
    pub phone: Option<Option<domain::E164>>,
    pub email: Option<Option<String>>,
    pub department_id: Option<Option<Uuid>>,
    pub office: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    pub status: Option<EmployeeStatus>,
    pub hours: Option<Option<Schedule>>,
}

/// Which employees a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmployeeFilter {
    pub department_id: Option<Uuid>,
    pub status: Option<EmployeeStatus>,
}

const NO_DEPARTMENT: StoreError = StoreError::NotFound {
    entity: "department",
};
const NO_EMPLOYEE: StoreError = StoreError::NotFound { entity: "employee" };

fn hours_from(
    column: &str,
    json: Option<serde_json::Value>,
) -> Result<Option<Schedule>, StoreError> {
    json.map(|j| {
        serde_json::from_value(j).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    })
    .transpose()
}

fn hours_json(hours: Option<&Schedule>) -> Option<serde_json::Value> {
    hours.map(|h| serde_json::to_value(h).expect("a schedule serializes"))
}

fn department_from(row: departments::Model) -> Result<Department, StoreError> {
    Ok(Department {
        hours: hours_from("departments.hours", row.hours)?,
        id: row.id,
        name: row.name,
        description: row.description,
        routing_priority: row.routing_priority,
    })
}

fn employee_from(row: employees::Model) -> Result<Employee, StoreError> {
    let status = EmployeeStatus::parse(&row.status)
        .ok_or_else(|| StoreError::Corrupt(format!("employees.status `{}`", row.status)))?;
    let roles = serde_json::from_value(row.roles)
        .map_err(|e| StoreError::Corrupt(format!("employees.roles: {e}")))?;
    Ok(Employee {
        hours: hours_from("employees.hours", row.hours)?,
        id: row.id,
        name: row.name,
        phone: row.phone,
        email: row.email,
        department_id: row.department_id,
        office: row.office,
        roles,
        status,
    })
}

fn company_from(row: company_info::Model) -> Result<CompanyInfo, StoreError> {
    Ok(CompanyInfo {
        business_hours: hours_from("company_info.business_hours", row.business_hours)?,
        name: row.name,
        greeting: row.greeting,
        settings: row.settings,
    })
}

async fn find_department(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<Department, StoreError> {
    departments::Entity::find_by_id(id)
        .filter(departments::Column::TenantId.eq(tenant.as_uuid()))
        .one(db)
        .await?
        .ok_or(NO_DEPARTMENT)
        .and_then(department_from)
}

async fn find_employee(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<Employee, StoreError> {
    employees::Entity::find_by_id(id)
        .filter(employees::Column::TenantId.eq(tenant.as_uuid()))
        .one(db)
        .await?
        .ok_or(NO_EMPLOYEE)
        .and_then(employee_from)
}

async fn find_company(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<CompanyInfo, StoreError> {
    let row = company_info::Entity::find_by_id(tenant.as_uuid())
        .one(db)
        .await?;
    match row {
        Some(row) => company_from(row),
        None => Ok(CompanyInfo {
            settings: serde_json::json!({}),
            ..CompanyInfo::default()
        }),
    }
}

/// `Ok` when `department` is absent or one of the tenant's.
async fn check_department(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    department: Option<Uuid>,
) -> Result<(), StoreError> {
    match department {
        Some(id) => find_department(db, tenant, id).await.map(|_| ()),
        None => Ok(()),
    }
}

fn set_or_keep<T: Into<sea_orm::Value>>(value: Option<T>) -> sea_orm::ActiveValue<T> {
    value.map_or(Default::default(), Set)
}

fn roles_json(roles: &[String]) -> serde_json::Value {
    serde_json::Value::from(roles.to_vec())
}

impl Store {
    pub async fn create_department(
        &self,
        tenant: TenantId,
        new: NewDepartment,
    ) -> Result<Department, StoreError> {
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.scoped(tenant).await?;
        departments::Entity::insert(departments::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.as_uuid()),
            name: Set(new.name),
            description: Set(new.description),
            hours: Set(hours_json(new.hours.as_ref())),
            routing_priority: Set(new.routing_priority),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(|e| crate::conflict_on_unique(e, "a department with this name"))?;
        let department = find_department(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(department)
    }

    pub async fn department(&self, tenant: TenantId, id: Uuid) -> Result<Department, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let department = find_department(&scope, tenant, id).await?;
        scope.commit().await?;
        Ok(department)
    }

    /// The tenant's departments, newest first, `before` the cursor if given.
    pub async fn list_departments(
        &self,
        tenant: TenantId,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<Department>, StoreError> {
        let mut query =
            departments::Entity::find().filter(departments::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(cursor) = before {
            query = query.filter(departments::Column::Id.lt(cursor));
        }
        let scope = self.scoped_one(tenant).await?;
        let rows = query
            .order_by_desc(departments::Column::Id)
            .limit(limit + 1)
            .all(&scope)
            .await?;
        scope.commit().await?;
        into_page(rows, limit, |r| r.id, department_from)
    }

    /// Applies `changes` to department `id`: (before, after).
    pub async fn update_department(
        &self,
        tenant: TenantId,
        id: Uuid,
        changes: DepartmentChanges,
    ) -> Result<(Department, Department), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = find_department(&txn, tenant, id).await?;
        departments::Entity::update_many()
            .set(departments::ActiveModel {
                name: set_or_keep(changes.name),
                description: set_or_keep(changes.description),
                hours: set_or_keep(changes.hours.map(|h| hours_json(h.as_ref()))),
                routing_priority: set_or_keep(changes.routing_priority),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(departments::Column::Id.eq(id))
            .filter(departments::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await
            .map_err(|e| crate::conflict_on_unique(e, "a department with this name"))?;
        let after = find_department(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok((before, after))
    }

    /// Deletes department `id`, returning it; its employees stay, in no department.
    pub async fn delete_department(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Department, StoreError> {
        let txn = self.scoped(tenant).await?;
        let department = find_department(&txn, tenant, id).await?;
        // The foreign key does this too; said here so it holds whatever the backend's rules.
        employees::Entity::update_many()
            .set(employees::ActiveModel {
                department_id: Set(None),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(employees::Column::DepartmentId.eq(id))
            .filter(employees::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        departments::Entity::delete_many()
            .filter(departments::Column::Id.eq(id))
            .filter(departments::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(department)
    }

    pub async fn create_employee(
        &self,
        tenant: TenantId,
        new: NewEmployee,
    ) -> Result<Employee, StoreError> {
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.scoped(tenant).await?;
        check_department(&txn, tenant, new.department_id).await?;
        employees::Entity::insert(employees::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.as_uuid()),
            name: Set(new.name),
            phone: Set(new.phone.map(|p| p.as_str().to_owned())),
            email: Set(new.email),
            department_id: Set(new.department_id),
            office: Set(new.office),
            roles: Set(roles_json(&new.roles)),
            status: Set(new.status.as_str().to_owned()),
            hours: Set(hours_json(new.hours.as_ref())),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        let employee = find_employee(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok(employee)
    }

    pub async fn employee(&self, tenant: TenantId, id: Uuid) -> Result<Employee, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let employee = find_employee(&scope, tenant, id).await?;
        scope.commit().await?;
        Ok(employee)
    }

    /// The tenant's employees matching `filter`, newest first, `before` the cursor if given.
    pub async fn list_employees(
        &self,
        tenant: TenantId,
        filter: EmployeeFilter,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Page<Employee>, StoreError> {
        let mut query =
            employees::Entity::find().filter(employees::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(department) = filter.department_id {
            query = query.filter(employees::Column::DepartmentId.eq(department));
        }
        if let Some(status) = filter.status {
            query = query.filter(employees::Column::Status.eq(status.as_str()));
        }
        if let Some(cursor) = before {
            query = query.filter(employees::Column::Id.lt(cursor));
        }
        let scope = self.scoped_one(tenant).await?;
        let rows = query
            .order_by_desc(employees::Column::Id)
            .limit(limit + 1)
            .all(&scope)
            .await?;
        scope.commit().await?;
        into_page(rows, limit, |r| r.id, employee_from)
    }

    /// Applies `changes` to employee `id`: (before, after).
    pub async fn update_employee(
        &self,
        tenant: TenantId,
        id: Uuid,
        changes: EmployeeChanges,
    ) -> Result<(Employee, Employee), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = find_employee(&txn, tenant, id).await?;
        if let Some(department) = changes.department_id {
            check_department(&txn, tenant, department).await?;
        }
        employees::Entity::update_many()
            .set(employees::ActiveModel {
                name: set_or_keep(changes.name),
                phone: set_or_keep(changes.phone.map(|p| p.map(|p| p.as_str().to_owned()))),
                email: set_or_keep(changes.email),
                department_id: set_or_keep(changes.department_id),
                office: set_or_keep(changes.office),
                roles: set_or_keep(changes.roles.as_deref().map(roles_json)),
                status: set_or_keep(changes.status.map(|s| s.as_str().to_owned())),
                hours: set_or_keep(changes.hours.map(|h| hours_json(h.as_ref()))),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(employees::Column::Id.eq(id))
            .filter(employees::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        let after = find_employee(&txn, tenant, id).await?;
        txn.commit().await?;
        Ok((before, after))
    }

    /// Deletes employee `id`, returning it.
    pub async fn delete_employee(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Employee, StoreError> {
        let txn = self.scoped(tenant).await?;
        let employee = find_employee(&txn, tenant, id).await?;
        employees::Entity::delete_many()
            .filter(employees::Column::Id.eq(id))
            .filter(employees::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(employee)
    }

    /// The tenant's company details; empty ones when none were ever written.
    pub async fn company_info(&self, tenant: TenantId) -> Result<CompanyInfo, StoreError> {
        let scope = self.scoped_one(tenant).await?;
        let company = find_company(&scope, tenant).await?;
        scope.commit().await?;
        Ok(company)
    }

    /// Replaces the tenant's company details: (before, after).
    pub async fn put_company_info(
        &self,
        tenant: TenantId,
        company: CompanyInfo,
    ) -> Result<(CompanyInfo, CompanyInfo), StoreError> {
        let txn = self.scoped(tenant).await?;
        let before = find_company(&txn, tenant).await?;
        let row = company_info::ActiveModel {
            tenant_id: Set(tenant.as_uuid()),
            name: Set(company.name),
            greeting: Set(company.greeting),
            business_hours: Set(hours_json(company.business_hours.as_ref())),
            settings: Set(company.settings),
            updated_at: Set(Utc::now()),
        };
        company_info::Entity::insert(row)
            .on_conflict(
                OnConflict::column(company_info::Column::TenantId)
                    .update_columns([
                        company_info::Column::Name,
                        company_info::Column::Greeting,
                        company_info::Column::BusinessHours,
                        company_info::Column::Settings,
                        company_info::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        let after = find_company(&txn, tenant).await?;
        txn.commit().await?;
        Ok((before, after))
    }

    /// The tenant's whole directory and time zone, as one consistent snapshot.
    pub async fn directory(&self, tenant: TenantId) -> Result<Directory, StoreError> {
        let txn = self.scoped(tenant).await?;
        let zone = tenants::Entity::find_by_id(tenant.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "tenant" })?
            .time_zone;
        let company = find_company(&txn, tenant).await?;
        let departments = departments::Entity::find()
            .filter(departments::Column::TenantId.eq(tenant.as_uuid()))
            .order_by_asc(departments::Column::Id)
            .limit(MAX_DIRECTORY_ROWS)
            .all(&txn)
            .await?;
        let employees = employees::Entity::find()
            .filter(employees::Column::TenantId.eq(tenant.as_uuid()))
            .order_by_asc(employees::Column::Id)
            .limit(MAX_DIRECTORY_ROWS)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(Directory {
            time_zone: zone
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("tenants.time_zone `{zone}`")))?,
            company,
            departments: departments
                .into_iter()
                .map(department_from)
                .collect::<Result<_, _>>()?,
            employees: employees
                .into_iter()
                .map(employee_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        store
    }

    fn person(name: &str, department: Option<Uuid>) -> NewEmployee {
        NewEmployee {
            name: name.into(),
            phone: Some(domain::E164::parse("+14155550101").unwrap()),
            email: None,
            department_id: department,
            office: None,
            roles: vec!["receptionist".into()],
            status: EmployeeStatus::Active,
            hours: None,
        }
    }

    #[tokio::test]
    async fn a_directory_snapshot_holds_the_zone_company_departments_and_people() {
        let store = store().await;
        let tenant = store.create_tenant("Acme").await.unwrap().id;
        let front = NewDepartment {
            name: "Front Desk".into(),
            description: None,
            hours: Some(
                serde_json::from_value(
                    serde_json::json!({"weekly": {"mon": [["09:00", "17:00"]]}}),
                )
                .unwrap(),
            ),
            routing_priority: 3,
        };
        let front = store.create_department(tenant, front).await.unwrap();
        let carla = store
            .create_employee(tenant, person("Carla", Some(front.id)))
            .await
            .unwrap();
        let company = CompanyInfo {
            name: Some("Acme".into()),
            settings: serde_json::json!({"parking": true}),
            ..CompanyInfo::default()
        };
        store
            .put_company_info(tenant, company.clone())
            .await
            .unwrap();
        let directory = store.directory(tenant).await.unwrap();
        assert_eq!(directory.time_zone, chrono_tz::UTC);
        assert_eq!(directory.company, company);
        assert_eq!(directory.departments, std::slice::from_ref(&front));
        assert_eq!(directory.employees, std::slice::from_ref(&carla));

        let other = store.create_tenant("Globex").await.unwrap().id;
        assert!(store.directory(other).await.unwrap().employees.is_empty());
        assert!(matches!(
            store
                .create_employee(other, person("Mole", Some(front.id)))
                .await,
            Err(StoreError::NotFound {
                entity: "department"
            })
        ));
        store.delete_department(tenant, front.id).await.unwrap();
        assert_eq!(
            store
                .employee(tenant, carla.id)
                .await
                .unwrap()
                .department_id,
            None
        );
    }

    #[tokio::test]
    async fn employees_list_by_department_and_status_a_page_at_a_time() {
        let store = store().await;
        let tenant = store.create_tenant("Acme").await.unwrap().id;
        for name in ["A", "B", "C"] {
            store
                .create_employee(tenant, person(name, None))
                .await
                .unwrap();
        }
        let changes = EmployeeChanges {
            status: Some(EmployeeStatus::Away),
            phone: Some(None),
            ..EmployeeChanges::default()
        };
        let first = store
            .list_employees(tenant, EmployeeFilter::default(), 2, None)
            .await
            .unwrap();
        assert_eq!(first.items.len(), 2);
        let (_, after) = store
            .update_employee(tenant, first.items[0].id, changes)
            .await
            .unwrap();
        assert_eq!(
            (after.status, after.phone.as_deref()),
            (EmployeeStatus::Away, None)
        );
        let rest = store
            .list_employees(tenant, EmployeeFilter::default(), 2, first.next_cursor)
            .await
            .unwrap();
        assert_eq!((rest.items.len(), rest.next_cursor), (1, None));
        let away = EmployeeFilter {
            status: Some(EmployeeStatus::Away),
            ..EmployeeFilter::default()
        };
        let away = store.list_employees(tenant, away, 10, None).await.unwrap();
        assert_eq!(away.items, [after]);
    }
}
