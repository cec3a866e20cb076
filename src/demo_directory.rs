//! The demo tenant's company directory, seeded by `switchboard dev` once: three departments of
//! the dental practice, five people the receptionist can put callers through to, and the
//! company's hours (those of its knowledge base: Mon–Fri 8–6, Sat 9–1).
//!
//! The five phone numbers are [`DEMO_EMPLOYEE_PHONES`]: the simulator can answer them as the
//! employees' handsets.

use anyhow::{Context, Result};
use domain::{
    E164, TenantId,
    directory::{CompanyInfo, EmployeeStatus, Schedule},
};
use serde_json::json;
use store::{NewDepartment, NewEmployee, Store, TenantUpdate};
use uuid::Uuid;

/// The demo employees' numbers, in the order of [`EMPLOYEES`]: Alice Smith, Ben Ortiz, Carla
/// Nguyen, David Park, Erin Walsh.
pub const DEMO_EMPLOYEE_PHONES: [&str; 5] = [
    "+14155550101",
    "+14155550102",
    "+14155550103",
    "+14155550104",
    "+14155550105",
];

/// Makes the simulator answer the demo employees' phones, each a different way, so a call to
/// the demo number shows every ending of a warm transfer: Alice Smith accepts (presses 1 and
/// greets the caller), Ben Ortiz declines (2), Carla Nguyen does not answer, David Park's
/// voicemail picks up; Erin Walsh is away and never rung.
pub fn register_demo_phones(sim: &sim::SimHandle) {
    use sim::person::PersonScript;
    let listen_then = |key: &str| {
        PersonScript::human()
            .answer_after(2000)
            .wait_quiet_for(1200, 40_000)
            .digits(key)
    };
    let scripts = [
        listen_then("1")
            .pause(400)
            .say("Hi, this is Doctor Smith. How can I help?")
            .pause(20_000)
            .hang_up(),
        listen_then("2").pause(3000),
        PersonScript::no_answer(),
        PersonScript::machine(2500).answer_after(3000),
        PersonScript::no_answer(),
    ];
    for (number, script) in DEMO_EMPLOYEE_PHONES.iter().zip(scripts) {
        sim.register_phone(number, script);
    }
}

/// The practice is in San Francisco: its hours are Pacific time.
const DEMO_TIME_ZONE: &str = "America/Los_Angeles";

/// Name, description, routing priority.
const DEPARTMENTS: [(&str, &str, i32); 3] = [
    (
        "Front Desk",
        "Appointments, check-in, directions and general questions",
        10,
    ),
    (
        "Billing",
        "Invoices, payments, insurance claims and accounts",
        5,
    ),
    (
        "Dental Care",
        "Check-ups, cleaning, fillings, crowns, root canals and emergency care",
        1,
    ),
];

struct DemoEmployee {
    name: &'static str,
    email: &'static str,
    /// An index into [`DEPARTMENTS`].
    department: usize,
    office: &'static str,
    roles: &'static [&'static str],
    status: EmployeeStatus,
    /// Own hours, when they differ from the department's.
    own_hours: Option<fn() -> serde_json::Value>,
}

const EMPLOYEES: [DemoEmployee; 5] = [
    DemoEmployee {
        name: "Dr. Alice Smith",
        email: "alice.smith@acmedental.example",
        department: 2,
        office: "Surgery 1",
        roles: &["dentist", "clinical lead"],
        status: EmployeeStatus::Active,
        own_hours: Some(
            || json!({"weekly": weekdays(&["mon", "tue", "wed", "thu"], "09:00", "16:00")}),
        ),
    },
    DemoEmployee {
        name: "Ben Ortiz",
        email: "ben.ortiz@acmedental.example",
        department: 1,
        office: "Back office",
        roles: &["billing specialist"],
        status: EmployeeStatus::Active,
        own_hours: None,
    },
    DemoEmployee {
        name: "Carla Nguyen",
        email: "carla.nguyen@acmedental.example",
        department: 0,
        office: "Reception",
        roles: &["receptionist"],
        status: EmployeeStatus::Active,
        own_hours: None,
    },
    DemoEmployee {
        name: "David Park",
        email: "david.park@acmedental.example",
        department: 0,
        office: "Back office",
        roles: &["office manager"],
        status: EmployeeStatus::Active,
        own_hours: None,
    },
    DemoEmployee {
        name: "Erin Walsh",
        email: "erin.walsh@acmedental.example",
        department: 2,
        office: "Surgery 2",
        roles: &["dental hygienist"],
        status: EmployeeStatus::Away,
        own_hours: None,
    },
];

/// `{"mon": [[start, end]], …}` for each of `days`.
fn weekdays(days: &[&str], start: &str, end: &str) -> serde_json::Value {
    days.iter()
        .map(|d| ((*d).to_owned(), json!([[start, end]])))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

const MON_FRI: &[&str] = &["mon", "tue", "wed", "thu", "fri"];

/// The hours of each of [`DEPARTMENTS`].
fn department_hours(index: usize) -> serde_json::Value {
    match index {
        0 => {
            let mut weekly = weekdays(MON_FRI, "08:00", "18:00");
            weekly["sat"] = json!([["09:00", "13:00"]]);
            json!({ "weekly": weekly })
        }
        1 => json!({"weekly": weekdays(MON_FRI, "09:00", "17:00")}),
        _ => json!({"weekly": weekdays(MON_FRI, "08:00", "17:00")}),
    }
}

fn schedule(json: serde_json::Value) -> Result<Schedule> {
    serde_json::from_value(json).context("a demo schedule")
}

/// Seeds the directory unless the tenant already has departments or employees (a later run, or
/// an operator who made their own); sets the tenant's zone to Pacific time if it is still UTC.
pub async fn seed(store: &Store, tenant: TenantId, company_name: &str) -> Result<()> {
    let existing = store.directory(tenant).await?;
    if !existing.departments.is_empty() || !existing.employees.is_empty() {
        return Ok(());
    }
    if existing.time_zone.name() == "UTC" {
        let zone = TenantUpdate {
            time_zone: Some(DEMO_TIME_ZONE.into()),
            ..TenantUpdate::default()
        };
        store.update_tenant(tenant, zone).await?;
    }
    let company = CompanyInfo {
        name: Some(company_name.into()),
        greeting: Some(format!(
            "Thanks for calling {company_name}, how can I help you today?"
        )),
        business_hours: Some(schedule(department_hours(0))?),
        settings: json!({}),
    };
    store.put_company_info(tenant, company).await?;
    let mut departments: Vec<Uuid> = Vec::new();
    for (index, (name, description, priority)) in DEPARTMENTS.into_iter().enumerate() {
        let new = NewDepartment {
            name: name.into(),
            description: Some(description.into()),
            hours: Some(schedule(department_hours(index))?),
            routing_priority: priority,
        };
        departments.push(store.create_department(tenant, new).await?.id);
    }
    for (person, phone) in EMPLOYEES.iter().zip(DEMO_EMPLOYEE_PHONES) {
        let new = NewEmployee {
            name: person.name.into(),
            phone: Some(E164::parse(phone)?),
            email: Some(person.email.into()),
            department_id: Some(departments[person.department]),
            office: Some(person.office.into()),
            roles: person.roles.iter().map(|r| (*r).to_owned()).collect(),
            status: person.status,
            hours: person.own_hours.map(|h| schedule(h())).transpose()?,
        };
        store.create_employee(tenant, new).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::directory::TargetKind;

    #[tokio::test]
    async fn the_demo_directory_is_seeded_once_and_answers_the_receptionists_questions() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate_up().await.unwrap();
        let tenant = store.create_tenant("Acme Dental").await.unwrap().id;
        seed(&store, tenant, "Acme Dental").await.unwrap();
        seed(&store, tenant, "Acme Dental").await.unwrap();
        let directory = store.directory(tenant).await.unwrap();
        assert_eq!(directory.time_zone.name(), DEMO_TIME_ZONE);
        assert_eq!(
            (directory.departments.len(), directory.employees.len()),
            (3, 5)
        );
        let alice = &directory.find("Dr. Smith")[0];
        assert_eq!(alice.name, "Dr. Alice Smith");
        assert_eq!(directory.find("someone in billing")[0].name, "Billing");
        assert_eq!(directory.find("the office manager")[0].name, "David Park");
        // Wednesday 2026-12-02 10:00 in San Francisco.
        let at = "2026-12-02T18:00:00Z".parse().unwrap();
        let front = directory.find("the front desk")[0].id;
        let ring: Vec<_> = directory
            .ring_list(TargetKind::Department, front, at)
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(ring, ["Carla Nguyen", "David Park"]);
    }
}
