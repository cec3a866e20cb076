//! The dealership CRM behind outbound campaigns (seed 004) and the owner's views (seed 003):
//! branches, customers, vehicles, jobs, call scripts, appointments, the do-not-call list, QA
//! reviews, campaigns and their targets.
//!
//! Customers are never deleted, only anonymised (`deleted_at` set, personal fields blanked), so
//! the appointments and campaign targets that name one keep a valid reference. Deleting a branch,
//! vehicle, script or agent leaves what referred to it without one (`SET NULL`); deleting a
//! campaign deletes its targets. `appointments.campaign_id` has no foreign key: appointments
//! outlive the campaign that booked them. JSON columns (`hours`, `questions`, `collect`,
//! `checklist`, `settings`, `extra`) are read whole, never queried inside. Every table sits
//! behind the tenant isolation policy on PostgreSQL.

use crate::m20261122_000001_foundation::tenant_fk;
use crate::m20261204_000005_row_level_security::{isolate_new_tables, release_new_tables};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(Clone, Copy, DeriveIden)]
enum Branches {
    Table,
    Id,
    TenantId,
    Name,
    Address,
    Phone,
    TimeZone,
    Hours,
}

#[derive(Clone, Copy, DeriveIden)]
enum Customers {
    Table,
    Id,
    TenantId,
    Name,
    Phone,
    Email,
    TimeZone,
    BranchId,
    ConsentCalls,
    ConsentSms,
    ConsentRecordedAt,
    Notes,
    DeletedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum Vehicles {
    Table,
    Id,
    TenantId,
    CustomerId,
    Make,
    Model,
    Year,
    Vin,
    Mileage,
    Notes,
}

#[derive(Clone, Copy, DeriveIden)]
enum Jobs {
    Table,
    Id,
    TenantId,
    BranchId,
    CustomerId,
    VehicleId,
    Code,
    Description,
    Status,
    ScheduledAt,
    Emergency,
}

#[derive(Clone, Copy, DeriveIden)]
enum Scripts {
    Table,
    Id,
    TenantId,
    Name,
    Goal,
    Opening,
    Questions,
    Collect,
    VoicemailMessage,
}

#[derive(Clone, Copy, DeriveIden)]
enum Appointments {
    Table,
    Id,
    TenantId,
    CustomerId,
    CallSid,
    CampaignId,
    BranchId,
    VehicleId,
    StartsAt,
    TimeZone,
    Status,
    Notes,
    Source,
}

#[derive(Clone, Copy, DeriveIden)]
enum DncEntries {
    Table,
    Id,
    TenantId,
    Phone,
    Reason,
    Source,
    CallSid,
}

#[derive(Clone, Copy, DeriveIden)]
enum QaReviews {
    Table,
    Id,
    TenantId,
    CallSid,
    ReviewerId,
    Score,
    Checklist,
    Notes,
}

#[derive(Clone, Copy, DeriveIden)]
enum Campaigns {
    Table,
    Id,
    TenantId,
    Name,
    AgentId,
    ScriptId,
    Status,
    Settings,
}

#[derive(Clone, Copy, DeriveIden)]
enum CampaignTargets {
    Table,
    Id,
    TenantId,
    CampaignId,
    CustomerId,
    Phone,
    Name,
    Email,
    TimeZone,
    Extra,
    SourceLine,
    State,
    Attempts,
    LastCallSid,
    LastOutcome,
    NextAttemptAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum Agents {
    Table,
    Id,
}

/// Every CRM table has these two, so the store's generic reads and writes can rely on them.
#[derive(Clone, Copy, DeriveIden)]
enum Stamps {
    CreatedAt,
    UpdatedAt,
}

const TABLES: &[&str] = &[
    "branches",
    "customers",
    "vehicles",
    "jobs",
    "scripts",
    "appointments",
    "dnc_entries",
    "qa_reviews",
    "campaigns",
    "campaign_targets",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Databases that have run this migration keep its SQL: a change is a new migration.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            branches(),
            customers(),
            vehicles(),
            jobs(),
            scripts(),
            appointments(),
            dnc_entries(),
            qa_reviews(),
            campaigns(),
            campaign_targets(),
        ] {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        isolate_new_tables(manager, TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        release_new_tables(manager, TABLES).await?;
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// `table` with its id, tenant and the two stamps; the caller adds the rest.
fn tenant_table<T: IntoIden + Copy + 'static>(table: T, id: T, tenant: T) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(pk_uuid(id))
        .col(uuid(tenant))
        .col(timestamp_with_time_zone(Stamps::CreatedAt))
        .col(timestamp_with_time_zone(Stamps::UpdatedAt))
        .foreign_key(&mut tenant_fk(table))
        .to_owned()
}

/// `from` → `to.id`, emptied when the row it names is deleted.
fn optional_ref<F, T>(table: F, from: F, to: T, to_id: T) -> ForeignKeyCreateStatement
where
    F: IntoIden + 'static,
    T: IntoIden + 'static,
{
    ForeignKey::create()
        .from(table, from)
        .to(to, to_id)
        .on_delete(ForeignKeyAction::SetNull)
        .to_owned()
}

fn branches() -> TableCreateStatement {
    use Branches as B;
    tenant_table(B::Table, B::Id, B::TenantId)
        .col(string(B::Name))
        .col(text_null(B::Address))
        .col(string_null(B::Phone))
        .col(string_null(B::TimeZone))
        .col(json_null(B::Hours))
        .to_owned()
}

/// Customers; an anonymised one keeps its id and `deleted_at`, nothing personal.
fn customers() -> TableCreateStatement {
    use Customers as C;
    tenant_table(C::Table, C::Id, C::TenantId)
        .col(string(C::Name))
        .col(string_null(C::Phone))
        .col(string_null(C::Email))
        .col(string_null(C::TimeZone))
        .col(uuid_null(C::BranchId))
        .col(boolean(C::ConsentCalls).default(false))
        .col(boolean(C::ConsentSms).default(false))
        .col(timestamp_with_time_zone_null(C::ConsentRecordedAt))
        .col(text_null(C::Notes))
        .col(timestamp_with_time_zone_null(C::DeletedAt))
        .foreign_key(&mut optional_ref(
            C::Table,
            C::BranchId,
            Branches::Table,
            Branches::Id,
        ))
        .to_owned()
}

fn vehicles() -> TableCreateStatement {
    use Vehicles as V;
    tenant_table(V::Table, V::Id, V::TenantId)
        .col(uuid(V::CustomerId))
        .col(string(V::Make))
        .col(string(V::Model))
        .col(integer_null(V::Year))
        .col(string_null(V::Vin))
        .col(integer_null(V::Mileage))
        .col(text_null(V::Notes))
        .foreign_key(
            ForeignKey::create()
                .from(V::Table, V::CustomerId)
                .to(Customers::Table, Customers::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn jobs() -> TableCreateStatement {
    use Jobs as J;
    tenant_table(J::Table, J::Id, J::TenantId)
        .col(uuid_null(J::BranchId))
        .col(uuid_null(J::CustomerId))
        .col(uuid_null(J::VehicleId))
        .col(string(J::Code))
        .col(text_null(J::Description))
        .col(string(J::Status))
        .col(timestamp_with_time_zone_null(J::ScheduledAt))
        .col(boolean(J::Emergency).default(false))
        .foreign_key(&mut optional_ref(
            J::Table,
            J::BranchId,
            Branches::Table,
            Branches::Id,
        ))
        .foreign_key(&mut optional_ref(
            J::Table,
            J::CustomerId,
            Customers::Table,
            Customers::Id,
        ))
        .foreign_key(&mut optional_ref(
            J::Table,
            J::VehicleId,
            Vehicles::Table,
            Vehicles::Id,
        ))
        .to_owned()
}

fn scripts() -> TableCreateStatement {
    use Scripts as S;
    tenant_table(S::Table, S::Id, S::TenantId)
        .col(string(S::Name))
        .col(text_null(S::Goal))
        .col(text_null(S::Opening))
        .col(json(S::Questions))
        .col(json(S::Collect))
        .col(text_null(S::VoicemailMessage))
        .to_owned()
}

fn appointments() -> TableCreateStatement {
    use Appointments as A;
    tenant_table(A::Table, A::Id, A::TenantId)
        .col(uuid(A::CustomerId))
        .col(string_null(A::CallSid))
        .col(uuid_null(A::CampaignId))
        .col(uuid_null(A::BranchId))
        .col(uuid_null(A::VehicleId))
        .col(timestamp_with_time_zone(A::StartsAt))
        .col(string(A::TimeZone))
        .col(string(A::Status))
        .col(text_null(A::Notes))
        .col(string(A::Source))
        .foreign_key(
            ForeignKey::create()
                .from(A::Table, A::CustomerId)
                .to(Customers::Table, Customers::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(&mut optional_ref(
            A::Table,
            A::BranchId,
            Branches::Table,
            Branches::Id,
        ))
        .foreign_key(&mut optional_ref(
            A::Table,
            A::VehicleId,
            Vehicles::Table,
            Vehicles::Id,
        ))
        .to_owned()
}

/// One entry per number per tenant: the campaign engine scrubs against it before every dial.
fn dnc_entries() -> TableCreateStatement {
    use DncEntries as D;
    tenant_table(D::Table, D::Id, D::TenantId)
        .col(string(D::Phone))
        .col(text_null(D::Reason))
        .col(string(D::Source))
        .col(string_null(D::CallSid))
        .index(
            Index::create()
                .name("idx_dnc_entries_tenant_phone")
                .col(D::TenantId)
                .col(D::Phone)
                .unique(),
        )
        .to_owned()
}

fn qa_reviews() -> TableCreateStatement {
    use QaReviews as Q;
    tenant_table(Q::Table, Q::Id, Q::TenantId)
        .col(string(Q::CallSid))
        .col(uuid_null(Q::ReviewerId))
        .col(integer(Q::Score))
        .col(json(Q::Checklist))
        .col(text_null(Q::Notes))
        .to_owned()
}

fn campaigns() -> TableCreateStatement {
    use Campaigns as C;
    tenant_table(C::Table, C::Id, C::TenantId)
        .col(string(C::Name))
        .col(uuid_null(C::AgentId))
        .col(uuid_null(C::ScriptId))
        .col(string(C::Status).default("draft"))
        .col(json(C::Settings))
        .foreign_key(&mut optional_ref(
            C::Table,
            C::AgentId,
            Agents::Table,
            Agents::Id,
        ))
        .foreign_key(&mut optional_ref(
            C::Table,
            C::ScriptId,
            Scripts::Table,
            Scripts::Id,
        ))
        .to_owned()
}

/// Who a campaign calls: one row per number per campaign (a re-uploaded list adds only the
/// new numbers), with the engine's bookkeeping.
fn campaign_targets() -> TableCreateStatement {
    use CampaignTargets as T;
    tenant_table(T::Table, T::Id, T::TenantId)
        .col(uuid(T::CampaignId))
        .col(uuid_null(T::CustomerId))
        .col(string(T::Phone))
        .col(string_null(T::Name))
        .col(string_null(T::Email))
        .col(string_null(T::TimeZone))
        .col(json(T::Extra))
        .col(integer_null(T::SourceLine))
        .col(string(T::State).default("pending"))
        .col(integer(T::Attempts).default(0))
        .col(string_null(T::LastCallSid))
        .col(string_null(T::LastOutcome))
        .col(timestamp_with_time_zone_null(T::NextAttemptAt))
        .foreign_key(
            ForeignKey::create()
                .from(T::Table, T::CampaignId)
                .to(Campaigns::Table, Campaigns::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(&mut optional_ref(
            T::Table,
            T::CustomerId,
            Customers::Table,
            Customers::Id,
        ))
        .index(
            Index::create()
                .name("idx_campaign_targets_campaign_phone")
                .col(T::CampaignId)
                .col(T::Phone)
                .unique(),
        )
        .to_owned()
}

/// The lists' filters: a schedule by time, a campaign's targets by state, reviews by call.
fn indexes() -> Vec<IndexCreateStatement> {
    let index = |name: &str, table: Alias, cols: &[&str]| {
        let mut index = Index::create();
        index.name(name).table(table);
        for col in cols {
            index.col(Alias::new(*col));
        }
        index.to_owned()
    };
    vec![
        index(
            "idx_customers_tenant_phone",
            Alias::new("customers"),
            &["tenant_id", "phone"],
        ),
        index(
            "idx_vehicles_tenant_customer",
            Alias::new("vehicles"),
            &["tenant_id", "customer_id"],
        ),
        index(
            "idx_jobs_tenant_scheduled",
            Alias::new("jobs"),
            &["tenant_id", "scheduled_at"],
        ),
        index(
            "idx_appointments_tenant_starts",
            Alias::new("appointments"),
            &["tenant_id", "starts_at"],
        ),
        index(
            "idx_qa_reviews_tenant_call",
            Alias::new("qa_reviews"),
            &["tenant_id", "call_sid"],
        ),
        index(
            "idx_campaign_targets_campaign_state",
            Alias::new("campaign_targets"),
            &["campaign_id", "state", "id"],
        ),
    ]
}
