//! The receptionist's company directory: departments, employees and the company's own details.
//!
//! Hours are JSON (`domain::directory::Schedule`), roles a JSON array of strings: both are read
//! whole, never queried inside. Deleting a department leaves its employees without one. All
//! three tables sit behind the tenant isolation policy on PostgreSQL.

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Hours,
    RoutingPriority,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Employees {
    Table,
    Id,
    TenantId,
    Name,
    Phone,
    Email,
    DepartmentId,
    Office,
    Roles,
    Status,
    Hours,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CompanyInfo {
    Table,
    TenantId,
    Name,
    Greeting,
    BusinessHours,
    Settings,
    UpdatedAt,
}

const TABLES: &[&str] = &["departments", "employees", "company_info"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Databases that have run this migration keep its SQL: a change is a new migration.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(departments()).await?;
        manager.create_table(employees()).await?;
        manager.create_index(employees_by_tenant()).await?;
        manager.create_table(company_info()).await?;
        isolate_new_tables(manager, TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, TABLES).await?;
        for table in [
            CompanyInfo::Table.into_iden(),
            Employees::Table.into_iden(),
            Departments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Departments, one name each per tenant.
fn departments() -> TableCreateStatement {
    Table::create()
        .table(Departments::Table)
        .col(pk_uuid(Departments::Id))
        .col(uuid(Departments::TenantId))
        .col(string(Departments::Name))
        .col(text_null(Departments::Description))
        .col(json_null(Departments::Hours))
        .col(integer(Departments::RoutingPriority).default(0))
        .col(timestamp_with_time_zone(Departments::CreatedAt))
        .col(timestamp_with_time_zone(Departments::UpdatedAt))
        .foreign_key(&mut tenant_fk(Departments::Table))
        .index(
            Index::create()
                .name("idx_departments_tenant_name")
                .col(Departments::TenantId)
                .col(Departments::Name)
                .unique(),
        )
        .to_owned()
}

/// Employees, each in at most one department.
fn employees() -> TableCreateStatement {
    Table::create()
        .table(Employees::Table)
        .col(pk_uuid(Employees::Id))
        .col(uuid(Employees::TenantId))
        .col(string(Employees::Name))
        .col(string_null(Employees::Phone))
        .col(string_null(Employees::Email))
        .col(uuid_null(Employees::DepartmentId))
        .col(string_null(Employees::Office))
        .col(json(Employees::Roles))
        .col(string(Employees::Status))
        .col(json_null(Employees::Hours))
        .col(timestamp_with_time_zone(Employees::CreatedAt))
        .col(timestamp_with_time_zone(Employees::UpdatedAt))
        .foreign_key(&mut tenant_fk(Employees::Table))
        .foreign_key(
            ForeignKey::create()
                .from(Employees::Table, Employees::DepartmentId)
                .to(Departments::Table, Departments::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned()
}

/// A tenant's employees, by department.
fn employees_by_tenant() -> IndexCreateStatement {
    Index::create()
        .name("idx_employees_tenant_department")
        .table(Employees::Table)
        .col(Employees::TenantId)
        .col(Employees::DepartmentId)
        .to_owned()
}

/// The company's name, greeting, business hours and free-form settings: one row per tenant.
fn company_info() -> TableCreateStatement {
    Table::create()
        .table(CompanyInfo::Table)
        .col(uuid(CompanyInfo::TenantId).primary_key())
        .col(string_null(CompanyInfo::Name))
        .col(text_null(CompanyInfo::Greeting))
        .col(json_null(CompanyInfo::BusinessHours))
        .col(json(CompanyInfo::Settings))
        .col(timestamp_with_time_zone(CompanyInfo::UpdatedAt))
        .foreign_key(&mut tenant_fk(CompanyInfo::Table))
        .to_owned()
}
