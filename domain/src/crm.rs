//! The dealership CRM behind outbound campaigns (seed 004) and the owner's day (seed 003): the
//! closed vocabularies of jobs, appointments, the do-not-call list, campaigns and their targets,
//! and what a script asks the agent to collect. Each has one spelling, used on the wire, in the
//! database and in checks.

use crate::directory::schedule::resolve_local;
use crate::platform::closed_enum;
use serde::{Deserialize, Serialize};

closed_enum!(
    /// Where a service job stands; `scheduled` and `in_progress` are open.
    JobStatus {
        Scheduled = "scheduled",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
    }
);

impl JobStatus {
    /// Still to be done: what the owner's emergency view shows.
    pub fn is_open(self) -> bool {
        matches!(self, JobStatus::Scheduled | JobStatus::InProgress)
    }
}

closed_enum!(
    /// Where a booked appointment stands.
    AppointmentStatus {
        Booked = "booked",
        Confirmed = "confirmed",
        Cancelled = "cancelled",
        Completed = "completed",
        NoShow = "no_show",
    }
);

closed_enum!(
    /// Who booked an appointment: an agent during a call, or a person by hand.
    AppointmentSource {
        Call = "call",
        Manual = "manual",
    }
);

closed_enum!(
    /// How a number reached the do-not-call list.
    DncSource {
        Manual = "manual",
        /// The person asked during a call.
        Call = "call",
        Import = "import",
        Webhook = "webhook",
    }
);

closed_enum!(
    /// A campaign's lifecycle. Only `draft` is set through CRUD; the campaign workflow moves
    /// the others.
    CampaignStatus {
        Draft = "draft",
        Running = "running",
        Paused = "paused",
        Completed = "completed",
        Canceled = "canceled",
    }
);

closed_enum!(
    /// Where one campaign target stands. Also what the targets table stores.
    TargetState {
        /// Not attempted yet.
        Pending = "pending",
        /// Waiting for its calling window or its next attempt (`next_attempt_at`).
        Scheduled = "scheduled",
        /// An attempt is live.
        Dialing = "dialing",
        Completed = "completed",
        Failed = "failed",
        /// Every allowed attempt was busy, unanswered or a machine.
        Exhausted = "exhausted",
        /// The person asked not to be called, or the number was put on the list meanwhile.
        DoNotCall = "do_not_call",
        Canceled = "canceled",
        /// Not called: no consent to calls, or removed before its turn.
        Skipped = "skipped",
    }
);

impl TargetState {
    /// No further attempt will be made.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Scheduled | Self::Dialing)
    }
}

closed_enum!(
    /// What kind of answer a script's collected field expects.
    CollectKind {
        Text = "text",
        Number = "number",
        Date = "date",
        YesNo = "yes_no",
        Phone = "phone",
        Email = "email",
    }
);

/// One thing a script asks the agent to collect: `{"key": "mileage", "prompt": "Roughly how many
/// miles?", "type": "number"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectField {
    pub key: String,
    pub prompt: String,
    #[serde(rename = "type")]
    pub kind: CollectKind,
}

/// The instants `[start, end)` of the local day `offset` days after `now`'s in `zone`: today is
/// 0, tomorrow 1. Midnight that a DST change skips starts the day at the first instant after
/// (the directory's `resolve_local`, which schedules use too).
pub fn local_day(
    now: chrono::DateTime<chrono::Utc>,
    zone: chrono_tz::Tz,
    offset: u64,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let day = now.with_timezone(&zone).date_naive() + chrono::Days::new(offset);
    let start_of = |date| resolve_local(zone, date, chrono::NaiveTime::MIN);
    (start_of(day), start_of(day + chrono::Days::new(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tomorrow_in_the_tenants_zone_spans_its_local_midnights() {
        // 22:30 on Sat 7 Mar 2026 in New York; the clocks spring forward the next morning.
        let now = chrono::Utc.with_ymd_and_hms(2026, 3, 8, 3, 30, 0).unwrap();
        let zone = chrono_tz::America::New_York;
        let (start, end) = local_day(now, zone, 0);
        assert_eq!(
            start,
            chrono::Utc.with_ymd_and_hms(2026, 3, 7, 5, 0, 0).unwrap()
        );
        assert_eq!(
            end,
            chrono::Utc.with_ymd_and_hms(2026, 3, 8, 5, 0, 0).unwrap()
        );
        let (start, end) = local_day(now, zone, 1);
        assert_eq!(
            start,
            chrono::Utc.with_ymd_and_hms(2026, 3, 8, 5, 0, 0).unwrap()
        );
        assert_eq!(
            end,
            chrono::Utc.with_ymd_and_hms(2026, 3, 9, 4, 0, 0).unwrap(),
            "the day the clocks spring forward is 23 hours long"
        );
    }

    #[test]
    fn a_collected_field_reads_its_type() {
        let field: CollectField = serde_json::from_value(
            serde_json::json!({"key": "miles", "prompt": "How many?", "type": "number"}),
        )
        .unwrap();
        assert_eq!(field.kind, CollectKind::Number);
    }
}
