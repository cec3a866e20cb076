//! The activities of `MessageDeliveryWorkflow`: plan the channels, deliver on each, record the
//! outcome. Each `deliver_*` marks its row `sending` (one more attempt) before the side effect
//! and `delivered` after; a row already `delivered` is never sent again.

use crate::{
    call::store_failure,
    email::{EmailSender, MessageEmail, email_message_id},
    sms::{SmsOnce, SmsSent, send_sms_once},
    webhook::{WebhookError, post_signed},
};
use domain::{
    E164,
    message::{
        ChannelOutcome, DeliveryChannel, DeliveryFailure, DeliveryPlan, DeliveryStatus,
        MessageDeliveryInput, MessageRecipient, sms_reference, sms_text,
    },
};
use std::sync::Arc;
use store::{DeliveryRecord, DeliveryUpdate, MessageRecord, Store};
use telephony::TwilioClient;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::message as defs;

#[derive(Debug)]
pub struct MessageActivitiesImpl {
    store: Store,
    twilio: TwilioClient,
    /// `None`: SMTP is not configured and email is skipped.
    email: Option<EmailSender>,
    http: reqwest::Client,
}

impl MessageActivitiesImpl {
    pub fn new(store: Store, twilio: TwilioClient, email: Option<EmailSender>) -> Self {
        Self {
            store,
            twilio,
            email,
            http: reqwest::Client::new(),
        }
    }
}

fn retryable(reason: impl Into<String>) -> ActivityError {
    ApplicationFailure::new(std::io::Error::other(reason.into())).into()
}

fn settled(channel: DeliveryChannel, row: &DeliveryRecord) -> ChannelOutcome {
    ChannelOutcome {
        channel,
        status: row.status,
        detail: row.last_error.clone(),
    }
}

/// Why `channel` does not apply to this message, if it does not.
fn skip_reason(
    channel: DeliveryChannel,
    recipient: Option<&MessageRecipient>,
    smtp_configured: bool,
    has_webhook: bool,
) -> Option<&'static str> {
    match channel {
        DeliveryChannel::Sms => match recipient {
            None => Some("the message has no recipient"),
            Some(r)
                if r.phone
                    .as_deref()
                    .and_then(|p| E164::parse(p).ok())
                    .is_none() =>
            {
                Some("the recipient has no phone number")
            }
            Some(_) => None,
        },
        DeliveryChannel::Email => match recipient {
            None => Some("the message has no recipient"),
            Some(r) if r.email.is_none() => Some("the recipient has no email address"),
            Some(_) if !smtp_configured => Some("SMTP is not configured"),
            Some(_) => None,
        },
        DeliveryChannel::Webhook => (!has_webhook).then_some("no webhook is configured"),
    }
}

/// Who the message is for, by name, for texts.
fn addressee(message: &MessageRecord) -> String {
    message
        .recipient
        .as_ref()
        .map(|r| r.name.clone())
        .or_else(|| message.for_whom.clone())
        .unwrap_or_else(|| "you".to_owned())
}

impl MessageActivitiesImpl {
    async fn delivered(
        &self,
        input: &MessageDeliveryInput,
        channel: DeliveryChannel,
        provider_ref: String,
    ) -> Result<ChannelOutcome, ActivityError> {
        let update = DeliveryUpdate {
            status: DeliveryStatus::Delivered,
            provider_ref: Some(provider_ref),
            last_error: None,
        };
        let row = self
            .store
            .record_delivery(input.tenant_id, input.message_id, channel, &update)
            .await
            .map_err(store_failure)?;
        Ok(settled(channel, &row))
    }

    /// Records `error` on the row; a permanent one settles the channel as `failed`.
    async fn attempt_failed(
        &self,
        input: &MessageDeliveryInput,
        channel: DeliveryChannel,
        error: String,
        permanent: bool,
    ) -> Result<ChannelOutcome, ActivityError> {
        let update = DeliveryUpdate {
            status: if permanent {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Sending
            },
            provider_ref: None,
            last_error: Some(error.clone()),
        };
        let row = self
            .store
            .record_delivery(input.tenant_id, input.message_id, channel, &update)
            .await
            .map_err(store_failure)?;
        tracing::warn!(message_id = %input.message_id, %channel, %error, permanent, "delivery attempt failed");
        if permanent {
            Ok(settled(channel, &row))
        } else {
            Err(retryable(error))
        }
    }

    /// Loads the message and starts an attempt on `channel`: `Err(outcome)` when there is
    /// nothing to do (already delivered).
    async fn begin(
        &self,
        input: &MessageDeliveryInput,
        channel: DeliveryChannel,
    ) -> Result<Result<(MessageRecord, DeliveryRecord), ChannelOutcome>, ActivityError> {
        let message = self
            .store
            .message(input.tenant_id, input.message_id)
            .await
            .map_err(store_failure)?;
        let before = self
            .store
            .begin_delivery_attempt(input.tenant_id, input.message_id, channel)
            .await
            .map_err(store_failure)?;
        if before.status == DeliveryStatus::Delivered {
            return Ok(Err(settled(channel, &before)));
        }
        Ok(Ok((message, before)))
    }
}

#[activities]
impl MessageActivitiesImpl {
    #[activity(definition = defs::PlanMessageDelivery)]
    pub async fn plan_message_delivery(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: MessageDeliveryInput,
    ) -> Result<DeliveryPlan, ActivityError> {
        let (tenant, id) = (input.tenant_id, input.message_id);
        let message = self
            .store
            .message(tenant, id)
            .await
            .map_err(store_failure)?;
        let has_webhook = self
            .store
            .tenant_webhook(tenant)
            .await
            .map_err(store_failure)?
            .is_some();
        let mut plan = DeliveryPlan::default();
        for &channel in DeliveryChannel::ALL {
            let earlier = message.deliveries.iter().find(|d| d.channel == channel);
            if let Some(done) = earlier.filter(|d| d.status == DeliveryStatus::Delivered) {
                plan.settled.push(settled(channel, done));
                continue;
            }
            let reason = skip_reason(
                channel,
                message.recipient.as_ref(),
                self.email.is_some(),
                has_webhook,
            );
            let row = match reason {
                Some(reason) => self.store.skip_delivery(tenant, id, channel, reason).await,
                None => {
                    plan.deliver.push(channel);
                    let pending = DeliveryUpdate {
                        status: DeliveryStatus::Pending,
                        provider_ref: None,
                        last_error: None,
                    };
                    self.store
                        .record_delivery(tenant, id, channel, &pending)
                        .await
                }
            }
            .map_err(store_failure)?;
            if reason.is_some() {
                plan.settled.push(settled(channel, &row));
            }
        }
        Ok(plan)
    }

    /// Texts the recipient. An earlier attempt (this run's or an earlier run's) may have
    /// reached Twilio: then Twilio is asked first ([`crate::sms`]).
    #[activity(definition = defs::DeliverSms)]
    pub async fn deliver_sms(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: MessageDeliveryInput,
    ) -> Result<ChannelOutcome, ActivityError> {
        let channel = DeliveryChannel::Sms;
        let (message, before) = match self.begin(&input, channel).await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let to = message.recipient.as_ref().and_then(|r| r.phone.clone());
        let Some(to) = to else {
            return self
                .attempt_failed(&input, channel, "no phone number".into(), true)
                .await;
        };
        let from = self
            .store
            .sms_sender(input.tenant_id, message.call_sid.as_ref())
            .await
            .map_err(store_failure)?;
        let Some(from) = from else {
            return self
                .attempt_failed(
                    &input,
                    channel,
                    "the tenant has no number to send from".into(),
                    true,
                )
                .await;
        };
        let reference = sms_reference(message.id);
        let body = sms_text(
            &addressee(&message),
            &message.caller_name,
            message.callback_number.as_deref(),
            &message.body,
            &reference,
        );
        let sms = SmsOnce {
            to: &to,
            from: from.as_str(),
            body: &body,
            reference: &reference,
        };
        match send_sms_once(&self.twilio, &sms, before.attempts > 0).await {
            Ok(sent) => {
                if let SmsSent::Earlier(_) = sent {
                    tracing::info!(message_id = %message.id, "message SMS already sent by an earlier attempt");
                }
                self.delivered(&input, channel, sent.sid().to_owned()).await
            }
            Err(err) => {
                let permanent = !err.is_retryable();
                self.attempt_failed(&input, channel, short_twilio(&err), permanent)
                    .await
            }
        }
    }

    #[activity(definition = defs::DeliverEmail)]
    pub async fn deliver_email(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: MessageDeliveryInput,
    ) -> Result<ChannelOutcome, ActivityError> {
        let channel = DeliveryChannel::Email;
        let (message, _) = match self.begin(&input, channel).await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let (Some(sender), Some(to)) = (
            self.email.as_ref(),
            message.recipient.as_ref().and_then(|r| r.email.clone()),
        ) else {
            return self
                .attempt_failed(&input, channel, "SMTP or address missing".into(), true)
                .await;
        };
        let email = MessageEmail {
            message_id: message.id,
            to,
            subject: format!(
                "Message for {} from {}",
                addressee(&message),
                message.caller_name
            ),
            text: sms_text(
                &addressee(&message),
                &message.caller_name,
                message.callback_number.as_deref(),
                &message.body,
                "",
            )
            .trim_end()
            .to_owned(),
        };
        match sender.send(&email).await {
            Ok(reply) => {
                // Only the reply code: a server's text may echo addresses.
                let code = reply
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                tracing::info!(message_id = %message.id, %code, "message email accepted");
                self.delivered(&input, channel, email_message_id(message.id))
                    .await
            }
            Err(err) => {
                let permanent = !err.is_retryable();
                self.attempt_failed(&input, channel, err.to_string(), permanent)
                    .await
            }
        }
    }

    #[activity(definition = defs::DeliverWebhook)]
    pub async fn deliver_webhook(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: MessageDeliveryInput,
    ) -> Result<ChannelOutcome, ActivityError> {
        let channel = DeliveryChannel::Webhook;
        let (message, row) = match self.begin(&input, channel).await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let webhook = self
            .store
            .tenant_webhook(input.tenant_id)
            .await
            .map_err(store_failure)?;
        let Some(webhook) = webhook else {
            return self
                .attempt_failed(&input, channel, "the webhook was removed".into(), true)
                .await;
        };
        let delivery_id = row.id.to_string();
        let body = webhook_body(&message, &delivery_id);
        let now = chrono::Utc::now().timestamp();
        match post_signed(
            &self.http,
            &webhook.url,
            webhook.secret.expose(),
            &delivery_id,
            body,
            now,
        )
        .await
        {
            Ok(_) => self.delivered(&input, channel, delivery_id).await,
            Err(err @ WebhookError::Refused(_)) => {
                self.attempt_failed(&input, channel, err.to_string(), true)
                    .await
            }
            Err(err) => {
                self.attempt_failed(&input, channel, err.to_string(), false)
                    .await
            }
        }
    }

    #[activity(definition = defs::RecordDeliveryFailed)]
    pub async fn record_delivery_failed(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: DeliveryFailure,
    ) -> Result<(), ActivityError> {
        let update = DeliveryUpdate {
            status: DeliveryStatus::Failed,
            provider_ref: None,
            last_error: Some(input.detail),
        };
        self.store
            .record_delivery(input.tenant_id, input.message_id, input.channel, &update)
            .await
            .map_err(store_failure)?;
        Ok(())
    }
}

/// Twilio's error without its message text: the status and code.
fn short_twilio(err: &telephony::TwilioError) -> String {
    match err {
        telephony::TwilioError::Api { status, code, .. } => {
            format!("Twilio HTTP {status} ({code})")
        }
        _ => "Twilio unreachable".to_owned(),
    }
}

/// The `message.taken` event (field names are the webhook's contract).
fn webhook_body(message: &MessageRecord, delivery_id: &str) -> Vec<u8> {
    let event = serde_json::json!({
        "event": "message.taken",
        "delivery_id": delivery_id,
        "message": {
            "id": message.id,
            "for": message.recipient.as_ref().map(|r| serde_json::json!({
                "kind": r.kind, "id": r.id, "name": r.name,
            })).unwrap_or_else(|| serde_json::json!({"name": message.for_whom})),
            "caller_name": message.caller_name,
            "callback_number": message.callback_number,
            "body": message.body,
            "call_sid": message.call_sid.as_ref().map(|s| s.to_string()),
            "created_at": message.created_at,
        },
    });
    serde_json::to_vec(&event).unwrap_or_default()
}
