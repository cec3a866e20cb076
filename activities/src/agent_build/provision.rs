//! The provision and deploy steps, and the undo of a build that did not succeed.
//!
//! A number is bought at most once per build: the first attempt picks one from Twilio's
//! inventory in the area code and writes it on the build (`chosen_number`) **before** asking
//! to buy it; every later attempt buys that same number, and adopts it when the account owns
//! it already (a purchase whose answer was lost). The number's calls and status callbacks
//! point at our public URL.

use super::AgentBuildActivitiesImpl;
use crate::call::{store_failure, twilio_failure};
use domain::E164;
use store::{NewPhoneNumber, agent_builds::BuildChange};
use telephony::{
    TwilioError,
    rest::{BuyNumber, NumberSearch},
};
use temporalio_common::error::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;
use workflows::activities::agent_build::{BuildRef, Provisioned, Undone};

/// Twilio has no number for sale in the area code.
#[derive(Debug, thiserror::Error)]
#[error("no number for sale in area code {0}")]
struct NoNumberForSale(String);

/// After deploy, the number must route to the build's agent.
#[derive(Debug, thiserror::Error)]
#[error("the number does not reach the new agent: {0}")]
struct NotRouted(String);

impl AgentBuildActivitiesImpl {
    pub(super) async fn provision(&self, input: BuildRef) -> Result<Provisioned, ActivityError> {
        let tenant = input.tenant_id;
        let build = self.load(input).await?;
        if let (Some(sid), Some(id)) = (&build.number_sid, build.phone_number_id) {
            let number = self
                .store
                .phone_number(tenant, id)
                .await
                .map_err(store_failure)?;
            return Ok(Provisioned {
                phone_number: number.e164.to_string(),
                number_sid: sid.clone(),
            });
        }
        let chosen = match &build.chosen_number {
            Some(n) => n.clone(),
            None => {
                let candidate = self.pick_number(build.area_code.as_deref()).await?;
                self.store
                    .choose_build_number(tenant, input.build_id, &candidate)
                    .await
                    .map_err(store_failure)?
            }
        };
        let e164 = E164::parse(&chosen).map_err(ApplicationFailure::non_retryable)?;
        let buy = BuyNumber {
            phone_number: chosen.clone(),
            voice_url: self.public.http("/twilio/voice"),
            status_callback: self.public.http("/twilio/status"),
            friendly_name: Some(format!("Agent build {}", input.build_id)),
        };
        let owned = self.twilio.own_or_buy(&buy).await.map_err(twilio_failure)?;
        let row = NewPhoneNumber {
            e164,
            twilio_sid: owned.sid.clone(),
            friendly_name: Some(owned.friendly_name),
            capabilities: Some(owned.capabilities),
            agent_id: Some(build.agent_id),
        };
        let number = self
            .store
            .add_phone_number(tenant, row)
            .await
            .map_err(store_failure)?;
        let change = BuildChange {
            number_sid: Some(owned.sid.clone()),
            phone_number_id: Some(number.id),
            ..BuildChange::default()
        };
        self.store
            .update_agent_build(tenant, input.build_id, change)
            .await
            .map_err(store_failure)?;
        Ok(Provisioned {
            phone_number: number.e164.to_string(),
            number_sid: owned.sid,
        })
    }

    /// The first number for sale in `area_code` (any US local number without one).
    async fn pick_number(&self, area_code: Option<&str>) -> Result<String, ActivityError> {
        let search = NumberSearch {
            country: "US".to_owned(),
            area_code: area_code.map(str::to_owned),
            contains: None,
            limit: 5,
        };
        let numbers = self
            .twilio
            .available_numbers(&search)
            .await
            .map_err(twilio_failure)?;
        numbers
            .into_iter()
            .map(|n| n.phone_number)
            .next()
            .ok_or_else(|| {
                ApplicationFailure::non_retryable(NoNumberForSale(
                    area_code.unwrap_or("(any)").to_owned(),
                ))
                .into()
            })
    }

    /// Checks that a call to the number reaches the agent: the number's route in our
    /// database, and Twilio's webhook URL for it. The number, for the event.
    pub(super) async fn deploy(&self, input: BuildRef) -> Result<String, ActivityError> {
        let build = self.load(input).await?;
        let id = build
            .phone_number_id
            .ok_or_else(|| ApplicationFailure::non_retryable(NotRouted("no number".into())))?;
        let number = self
            .store
            .phone_number(input.tenant_id, id)
            .await
            .map_err(store_failure)?;
        let route = self
            .store
            .route_inbound_number(&number.e164)
            .await
            .map_err(store_failure)?;
        if route.is_none_or(|r| r.agent.id != build.agent_id) {
            return Err(ApplicationFailure::new(NotRouted("not assigned yet".into())).into());
        }
        let twilio = self
            .twilio
            .incoming_numbers(number.e164.as_str())
            .await
            .map_err(twilio_failure)?;
        let voice = self.public.http("/twilio/voice");
        if !twilio
            .iter()
            .any(|n| n.voice_url.as_deref() == Some(voice.as_str()))
        {
            return Err(ApplicationFailure::new(NotRouted("Twilio's voice URL".into())).into());
        }
        Ok(number.e164.to_string())
    }

    /// Releases the build's number (if it bought one) and drops its draft agent with that
    /// agent's knowledge. Safe to repeat.
    pub(super) async fn undo(&self, input: BuildRef) -> Result<Undone, ActivityError> {
        let tenant = input.tenant_id;
        let build = self.load(input).await?;
        let mut undone = Undone::default();
        if let Some(sid) = &build.number_sid {
            match self.twilio.release_number(sid).await {
                Ok(()) | Err(TwilioError::Api { status: 404, .. }) => {}
                Err(e) => return Err(twilio_failure(e)),
            }
            if let Some(id) = build.phone_number_id {
                match self.store.release_phone_number(tenant, id).await {
                    Ok((_, after)) => undone.released_number = Some(after.e164.to_string()),
                    Err(store::StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(store_failure(e)),
                }
            }
        }
        match self.store.archive_agent(tenant, build.agent_id).await {
            Ok(_) => undone.agent_dropped = true,
            Err(store::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(store_failure(e)),
        }
        self.store
            .delete_agent_knowledge(tenant, build.agent_id)
            .await
            .map_err(store_failure)?;
        Ok(undone)
    }
}
