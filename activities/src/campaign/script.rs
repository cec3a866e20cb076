//! The campaign's script filled in for one recipient at the moment of the dial: the goal and
//! opening, the slots to offer (the next days at set local times), who the recipient is, and
//! what a machine hears.

use super::CampaignActivitiesImpl;
use crate::call::store_failure;
use chrono::{Datelike, Duration as Days, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use dialog::campaign::{CampaignScript, LocalDateTime, Recipient};
use domain::campaign::MachinePolicy;
use serde_json::Value;
use std::collections::BTreeMap;
use store::crm::{
    campaigns::Campaigns,
    engine::AttemptScript,
    scripts::{ScriptFields, Scripts},
    targets::CampaignTarget,
};
use temporalio_common::error::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;
use workflows::activities::CampaignRef;

/// Slots offered to a recipient: the next days (not Sundays) at these local times.
const SLOT_TIMES: [(u32, u32); 2] = [(10, 0), (14, 30)];
const SLOT_DAYS: usize = 3;

impl CampaignActivitiesImpl {
    /// The script of this dial, and what its attempt row keeps of it.
    pub(super) async fn script_for(
        &self,
        campaign: &CampaignRef,
        target: &CampaignTarget,
        agent_name: &str,
        machine: MachinePolicy,
    ) -> Result<(CampaignScript, AttemptScript), ActivityError> {
        let tenant = campaign.tenant_id;
        let row = self
            .store
            .resource::<Campaigns>(tenant, campaign.campaign_id)
            .await
            .map_err(store_failure)?;
        let fields = match row.stored.fields.script_id {
            Some(id) => Some(
                self.store
                    .resource::<Scripts>(tenant, id)
                    .await
                    .map_err(store_failure)?
                    .fields,
            ),
            None => None,
        };
        let script = fill(fields.as_ref(), target, agent_name);
        let instruction_line = script
            .to_instruction_line()
            .map_err(ApplicationFailure::non_retryable)?;
        let attempt = AttemptScript {
            instruction_line,
            opening: script.opening_line(),
            voicemail: match machine {
                MachinePolicy::Voicemail => Some(script.voicemail_line()),
                MachinePolicy::HangUp => None,
            },
        };
        Ok((script, attempt))
    }
}

/// The stored script (or a plain appointment offer) for `target`, now in their zone.
fn fill(
    script: Option<&ScriptFields>,
    target: &CampaignTarget,
    agent_name: &str,
) -> CampaignScript {
    let zone = target.target.zone();
    let now_local = Utc::now().with_timezone(&zone).naive_local();
    CampaignScript {
        goal: script
            .and_then(|s| s.goal.clone())
            .unwrap_or_else(|| "Offer the recipient an appointment.".into()),
        opening: script
            .and_then(|s| s.opening.clone())
            .unwrap_or_else(|| format!("Hello, this is {agent_name}.")),
        questions: script.map(|s| s.questions.clone()).unwrap_or_default(),
        collect: script
            .map(|s| s.collect.iter().map(|c| c.key.clone()).collect())
            .unwrap_or_default(),
        voicemail_message: script
            .and_then(|s| s.voicemail_message.clone())
            .unwrap_or_default(),
        offer_slots: offer_slots(now_local.date()),
        recipient: recipient(target, zone),
        now_local: LocalDateTime(now_local),
    }
}

/// Who is called: their name, vehicle and the list's other text columns.
fn recipient(target: &CampaignTarget, zone: Tz) -> Recipient {
    let mut fields = BTreeMap::new();
    if let Value::Object(extra) = &target.target.extra {
        for (key, value) in extra {
            if let Some(text) = value.as_str().filter(|t| !t.trim().is_empty()) {
                fields.insert(key.clone(), text.to_owned());
            }
        }
    }
    let vehicle = fields.remove("vehicle");
    let name = target.target.name.clone().unwrap_or_default();
    Recipient {
        name: if name.trim().is_empty() {
            "there".into()
        } else {
            name
        },
        vehicle,
        time_zone: zone.name().to_owned(),
        fields,
    }
}

/// The next `SLOT_DAYS` days after `today` (Sundays skipped) at each of `SLOT_TIMES`.
fn offer_slots(today: NaiveDate) -> Vec<LocalDateTime> {
    (1..)
        .map(|d| today + Days::days(d))
        .filter(|day| day.weekday() != Weekday::Sun)
        .take(SLOT_DAYS)
        .flat_map(|day| {
            SLOT_TIMES.iter().filter_map(move |&(h, m)| {
                NaiveTime::from_hms_opt(h, m, 0).map(|t| LocalDateTime(day.and_time(t)))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_the_next_three_days_but_sunday_at_ten_and_half_past_two() {
        let friday = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let slots: Vec<String> = offer_slots(friday).iter().map(|s| s.to_string()).collect();
        assert_eq!(
            slots,
            [
                "2026-12-05T10:00",
                "2026-12-05T14:30",
                "2026-12-07T10:00",
                "2026-12-07T14:30",
                "2026-12-08T10:00",
                "2026-12-08T14:30"
            ]
        );
    }
}
