//! The company directory the AI receptionist routes by: departments, employees, the company's
//! own details and hours, and the tenant's time zone — one snapshot, read once per question.
//!
//! - [`schedule`]: opening hours (weekly ranges, dated exceptions), evaluated DST-correctly.
//! - `search`: finding a person or department from imperfectly recognised speech.
//! - `phrase`: when something opens, in a caller's words.
//!
//! Whose hours apply: an employee's own, else their department's, else the company's business
//! hours, else always open. A department's own, else the company's. An employee who is away or
//! inactive is never available.

mod phrase;
pub mod schedule;
mod search;
#[cfg(test)]
mod tests;

use crate::platform::closed_enum;
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use phrase::opening_phrase;
pub use schedule::{
    DateException, Day, OPENING_HORIZON_DAYS, Schedule, ScheduleError, TimeRange, WeeklyHours,
};

closed_enum!(
    /// Whether an employee takes calls: `away` (on leave, out today) and `inactive` (left,
    /// kept for history) do not; `inactive` is not even found.
    EmployeeStatus {
        Active = "active",
        Away = "away",
        Inactive = "inactive",
    }
);

closed_enum!(
    /// What a caller can be put through to.
    TargetKind {
        Employee = "employee",
        Department = "department",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub hours: Option<Schedule>,
    /// Between departments that match a request equally well, the higher goes first.
    pub routing_priority: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    pub id: Uuid,
    pub name: String,
    /// E.164; personal data: never logged.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub department_id: Option<Uuid>,
    pub office: Option<String>,
    pub roles: Vec<String>,
    pub status: EmployeeStatus,
    pub hours: Option<Schedule>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompanyInfo {
    pub name: Option<String>,
    pub greeting: Option<String>,
    pub business_hours: Option<Schedule>,
    pub settings: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    /// The tenant's zone: every schedule is local time there.
    #[serde(with = "zone_name")]
    pub time_zone: Tz,
    pub company: CompanyInfo,
    pub departments: Vec<Department>,
    pub employees: Vec<Employee>,
}

/// One answer to "who did the caller ask for", with a score from 0 to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryMatch {
    pub kind: TargetKind,
    pub id: Uuid,
    pub name: String,
    /// An employee's department's name.
    pub department: Option<String>,
    pub roles: Vec<String>,
    pub score: f32,
}

/// Whether a target is reachable at a moment, and if not, when it next is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub open_now: bool,
    /// In the tenant's zone; `None` when open now, away, inactive, unknown, or closed for the
    /// next [`OPENING_HORIZON_DAYS`].
    pub next_opening: Option<DateTime<FixedOffset>>,
    /// "tomorrow at 9 am", relative to the moment asked about.
    pub next_opening_phrase: Option<String>,
}

impl Availability {
    const NEVER: Self = Self {
        open_now: false,
        next_opening: None,
        next_opening_phrase: None,
    };
}

/// Roles that answer a department's line first.
const FRONT_OF_HOUSE: &[&str] = &["reception", "front desk"];

impl Directory {
    /// Best first; only confident matches (empty when nothing fits). Inactive employees never
    /// match.
    pub fn find(&self, query: &str) -> Vec<DirectoryMatch> {
        search::find(self, query)
    }

    pub fn employee(&self, id: Uuid) -> Option<&Employee> {
        self.employees.iter().find(|e| e.id == id)
    }

    pub fn department(&self, id: Uuid) -> Option<&Department> {
        self.departments.iter().find(|d| d.id == id)
    }

    /// The hours that apply to a target (`None`: always open), or `None` outside when the target
    /// is unknown.
    fn schedule_of(&self, kind: TargetKind, id: Uuid) -> Option<Option<&Schedule>> {
        let company = self.company.business_hours.as_ref();
        match kind {
            TargetKind::Department => {
                let d = self.department(id)?;
                Some(d.hours.as_ref().or(company))
            }
            TargetKind::Employee => {
                let e = self.employee(id)?;
                let department = e.department_id.and_then(|d| self.department(d));
                Some(
                    e.hours
                        .as_ref()
                        .or(department.and_then(|d| d.hours.as_ref()))
                        .or(company),
                )
            }
        }
    }

    /// When is this employee/department reachable, evaluated in the tenant's zone at `now`.
    pub fn availability(&self, kind: TargetKind, id: Uuid, now: DateTime<Utc>) -> Availability {
        if kind == TargetKind::Employee
            && self
                .employee(id)
                .is_some_and(|e| e.status != EmployeeStatus::Active)
        {
            return Availability::NEVER;
        }
        let Some(schedule) = self.schedule_of(kind, id) else {
            return Availability::NEVER;
        };
        let Some(schedule) = schedule else {
            return Availability {
                open_now: true,
                ..Availability::NEVER
            };
        };
        let tz = self.time_zone;
        if schedule.is_open(tz, now) {
            return Availability {
                open_now: true,
                ..Availability::NEVER
            };
        }
        let next = schedule.next_opening(tz, now);
        Availability {
            open_now: false,
            next_opening: next.map(|t| t.with_timezone(&tz).fixed_offset()),
            next_opening_phrase: next.map(|t| opening_phrase(tz, now, t)),
        }
    }

    /// Whom to ring for a target at `now`: an employee, if active, with a phone and available;
    /// a department's such employees, reception and front desk first, then by name. Empty
    /// when nobody is.
    pub fn ring_list(&self, kind: TargetKind, id: Uuid, now: DateTime<Utc>) -> Vec<&Employee> {
        let reachable = |e: &&Employee| {
            e.status == EmployeeStatus::Active
                && e.phone.is_some()
                && self.availability(TargetKind::Employee, e.id, now).open_now
        };
        let mut list: Vec<&Employee> = match kind {
            TargetKind::Employee => self.employee(id).into_iter().filter(reachable).collect(),
            TargetKind::Department => self
                .employees
                .iter()
                .filter(|e| e.department_id == Some(id))
                .filter(reachable)
                .collect(),
        };
        list.sort_by(|a, b| {
            front_of_house(b)
                .cmp(&front_of_house(a))
                .then_with(|| a.name.cmp(&b.name))
        });
        list
    }
}

fn front_of_house(e: &Employee) -> bool {
    e.roles.iter().any(|role| {
        let role = role.to_lowercase();
        FRONT_OF_HOUSE.iter().any(|f| role.contains(f))
    })
}

/// A zone as its IANA name ("America/New_York").
mod zone_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse()
            .map_err(|_| D::Error::custom(format!("unknown time zone `{name}`")))
    }
}
