//! The campaign tools a model calls during a campaign's call; each acts at once and answers
//! the model in JSON (a refusal is an answer too, never an error the call breaks on).

use super::{CampaignActivitiesImpl, at_ms};
use crate::call::store_failure;
use chrono::NaiveDate;
use chrono_tz::Tz;
use dialog::campaign::LocalDateTime;
use domain::{conversation::ToolName, directory::schedule::resolve_local};
use serde_json::{Value, json};
use store::{crm::targets::CampaignTarget, post_call::CallBooking};
use temporalio_sdk::activities::ActivityError;
use workflows::activities::CampaignToolRequest;

/// A tool's arguments.
struct Args(Value);

impl Args {
    fn text(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }
}

impl CampaignActivitiesImpl {
    pub(super) async fn tool(&self, input: CampaignToolRequest) -> Result<Value, ActivityError> {
        let args = Args(serde_json::from_str(&input.arguments).unwrap_or(Value::Null));
        let Some(target) = self
            .store
            .campaign_target(input.tenant_id, input.campaign.target_id)
            .await
            .map_err(store_failure)?
        else {
            return Ok(
                json!({"ok": false, "reason": "the person called is no longer on the list"}),
            );
        };
        let zone: Tz = args
            .text("time_zone")
            .and_then(|z| z.parse().ok())
            .unwrap_or_else(|| target.target.zone());
        match input.tool {
            ToolName::DoNotCall => {
                self.store
                    .do_not_call_from_call(input.tenant_id, &target.target.phone, &input.call_sid)
                    .await
                    .map_err(store_failure)?;
                Ok(
                    json!({"ok": true, "next": "Apologise briefly, confirm they will not be called again, and end the call."}),
                )
            }
            ToolName::BookAppointment => self.book(&input, &target, &args, zone).await,
            ToolName::RequestCallback => self.callback(&input, &args, zone).await,
            other => Ok(
                json!({"ok": false, "error": format!("{} is not a campaign tool", other.as_str())}),
            ),
        }
    }

    /// `book_appointment`: the agreed local time in the recipient's zone, booked once per call.
    async fn book(
        &self,
        input: &CampaignToolRequest,
        target: &CampaignTarget,
        args: &Args,
        zone: Tz,
    ) -> Result<Value, ActivityError> {
        let Some(local) = args
            .text("starts_at_local")
            .and_then(|t| LocalDateTime::parse(&t).ok())
        else {
            return Ok(json!({"ok": false, "error": "starts_at_local must be YYYY-MM-DDTHH:MM"}));
        };
        let starts_at = resolve_local(zone, local.0.date(), local.0.time());
        if starts_at <= at_ms(input.now_ms) {
            return Ok(json!({"ok": false, "error": "that time has passed; offer a later one"}));
        }
        let booking = CallBooking {
            call_sid: input.call_sid.clone(),
            campaign_id: input.campaign.campaign_id,
            customer_id: input.campaign.customer_id,
            name: target
                .target
                .name
                .clone()
                .unwrap_or_else(|| "Unknown".into()),
            phone: target.target.phone.clone(),
            starts_at,
            time_zone: zone.name().to_owned(),
            notes: args.text("notes"),
        };
        let id = self
            .store
            .book_during_call(input.tenant_id, booking)
            .await
            .map_err(store_failure)?;
        Ok(
            json!({"ok": true, "appointment_id": id, "starts_at_local": local.to_string(), "time_zone": zone.name()}),
        )
    }

    /// `request_callback`: a time (or a day, at 10:00) to call again, in the recipient's zone.
    async fn callback(
        &self,
        input: &CampaignToolRequest,
        args: &Args,
        zone: Tz,
    ) -> Result<Value, ActivityError> {
        let when = args.text("when_local").and_then(|t| {
            LocalDateTime::parse(&t).ok().map(|l| l.0).or_else(|| {
                NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(10, 0, 0))
            })
        });
        let at = when.map(|w| resolve_local(zone, w.date(), w.time()));
        match (when, at.filter(|at| *at > at_ms(input.now_ms))) {
            (Some(when), Some(at)) => {
                self.store
                    .set_attempt_callback(input.tenant_id, input.campaign.attempt_id, at)
                    .await
                    .map_err(store_failure)?;
                Ok(
                    json!({"ok": true, "callback_at_local": when.format("%Y-%m-%dT%H:%M").to_string()}),
                )
            }
            _ => Ok(
                json!({"ok": true, "note": "No time given: the campaign calls back under its retry policy."}),
            ),
        }
    }
}
