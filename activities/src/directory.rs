//! The directory tools: `find_person_or_department`, `check_availability`, and whom a
//! `transfer_call` rings. Each reads one snapshot of the tenant's directory and evaluates
//! hours at the workflow's time in the tenant's zone. Answers are JSON for the model, with a
//! `say` sentence the rule dialog speaks as is.

use crate::call::store_failure;
use chrono::{DateTime, TimeZone, Utc};
use domain::{
    CallDirection,
    directory::{Availability, Directory, DirectoryMatch, TargetKind},
    transfer::TransferTarget,
};
use serde_json::{Value, json};
use std::sync::Arc;
use store::Store;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::{DirectoryQuery, TransferPlan, directory as defs};

#[derive(Debug)]
pub struct DirectoryActivitiesImpl {
    store: Store,
}

impl DirectoryActivitiesImpl {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    async fn snapshot(
        &self,
        input: &DirectoryQuery,
    ) -> Result<(Directory, DateTime<Utc>), ActivityError> {
        let directory = self
            .store
            .directory(input.tenant_id)
            .await
            .map_err(store_failure)?;
        let now = Utc
            .timestamp_millis_opt(input.now_ms)
            .single()
            .unwrap_or_else(Utc::now);
        Ok((directory, now))
    }
}

/// "available now", or "back tomorrow at 9 am", or "not available at the moment".
fn when(availability: &Availability) -> String {
    if availability.open_now {
        "available now".to_owned()
    } else {
        match &availability.next_opening_phrase {
            Some(phrase) => format!("next available {phrase}"),
            None => "not available at the moment".to_owned(),
        }
    }
}

/// How the agent names a match: "Dr. Alice Smith in Dental Care", "the Billing department".
fn described(m: &DirectoryMatch) -> String {
    match (m.kind, &m.department) {
        (TargetKind::Employee, Some(d)) => format!("{} in {d}", m.name),
        (TargetKind::Employee, None) => m.name.clone(),
        (TargetKind::Department, _) => format!("the {} department", m.name),
    }
}

fn not_found(query: &str) -> Value {
    json!({"ok": false, "reason": "not_found", "target": query,
        "say": format!("I'm sorry, I couldn't find {query} in our directory. Who would you like to speak to? Or I can take a message.")})
}

#[activities]
impl DirectoryActivitiesImpl {
    #[activity(definition = defs::FindInDirectory)]
    pub async fn find_in_directory(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: DirectoryQuery,
    ) -> Result<Value, ActivityError> {
        let (directory, now) = self.snapshot(&input).await?;
        let matches = directory.find(&input.query);
        let Some(best) = matches.first() else {
            return Ok(not_found(&input.query));
        };
        let listed: Vec<Value> = matches
            .iter()
            .take(3)
            .map(|m| {
                let availability = directory.availability(m.kind, m.id, now);
                json!({"kind": m.kind, "name": m.name, "department": m.department,
                    "roles": m.roles, "available_now": availability.open_now,
                    "next_available": availability.next_opening_phrase})
            })
            .collect();
        let availability = directory.availability(best.kind, best.id, now);
        let say = if availability.open_now {
            format!(
                "I found {}, who is available now. Shall I put you through?",
                described(best)
            )
        } else {
            format!(
                "I found {}, who is {}. Would you like to leave a message?",
                described(best),
                when(&availability)
            )
        };
        Ok(json!({"matches": listed, "say": say}))
    }

    #[activity(definition = defs::CheckAvailability)]
    pub async fn check_availability(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: DirectoryQuery,
    ) -> Result<Value, ActivityError> {
        let (directory, now) = self.snapshot(&input).await?;
        let Some(best) = directory.find(&input.query).into_iter().next() else {
            return Ok(not_found(&input.query));
        };
        let availability = directory.availability(best.kind, best.id, now);
        let say = format!("{} is {}.", best.name, when(&availability));
        Ok(json!({"target": best.name, "kind": best.kind,
            "available_now": availability.open_now,
            "next_available": availability.next_opening_phrase,
            "time_zone": directory.time_zone.name(), "say": say}))
    }

    /// Whom to ring: the best match, if it is open now and someone there has a phone.
    /// Nobody is an answer with the reason (`not_found`, `outside_hours`, `unavailable`) and
    /// when they are next available, so the agent offers a message.
    #[activity(definition = defs::PlanTransfer)]
    pub async fn plan_transfer(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: DirectoryQuery,
    ) -> Result<TransferPlan, ActivityError> {
        let (directory, now) = self.snapshot(&input).await?;
        let Some(best) = directory.find(&input.query).into_iter().next() else {
            return Ok(TransferPlan::Refused(not_found(&input.query)));
        };
        let availability = directory.availability(best.kind, best.id, now);
        if !availability.open_now {
            let say = format!(
                "I'm sorry, {} isn't available right now; they're {}. Would you like to leave a message for them?",
                best.name,
                when(&availability)
            );
            return Ok(TransferPlan::Refused(
                json!({"ok": false, "reason": "outside_hours",
                "target": best.name, "next_available": availability.next_opening_phrase, "say": say}),
            ));
        }
        let Some(person) = directory
            .ring_list(best.kind, best.id, now)
            .into_iter()
            .next()
        else {
            let say = format!(
                "I'm sorry, there's nobody I can put you through to for {} right now. Would you like to leave a message for them?",
                best.name
            );
            return Ok(TransferPlan::Refused(
                json!({"ok": false, "reason": "unavailable",
                "target": best.name, "say": say}),
            ));
        };
        let call = self
            .store
            .call_by_sid(input.tenant_id, &input.call_sid)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| store_failure(store::StoreError::NotFound { entity: "call" }))?;
        let business_number = match call.direction {
            CallDirection::Inbound => call.to_number.to_string(),
            CallDirection::Outbound => call
                .from_number
                .number()
                .map_or_else(|| call.to_number.to_string(), ToString::to_string),
        };
        Ok(TransferPlan::Ring {
            target: TransferTarget {
                employee_id: person.id,
                name: person.name.clone(),
                phone: person.phone.clone().unwrap_or_default(),
                asked_for: best.name,
            },
            business_number,
        })
    }
}
