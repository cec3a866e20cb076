//! Our Twilio-facing routes, as both sides need them: the API serves them, the worker hands
//! their URLs to Twilio.

use crate::{PublicUrl, TwiML, twiml::StreamParameter};

/// Paths of the transfer webhooks (the API serves them).
pub const ANSWER_PATH: &str = "/twilio/transfer/answer";
pub const DECISION_PATH: &str = "/twilio/transfer/decision";
pub const LEG_STATUS_PATH: &str = "/twilio/transfer/status";
pub const CONFERENCE_PATH: &str = "/twilio/transfer/conference";
pub const HOLD_MUSIC_PATH: &str = "/twilio/hold-music";
/// Twilio asks here what a campaign's answered call does.
pub const CAMPAIGN_ANSWER_PATH: &str = "/twilio/campaign/answer";
/// Status callbacks of a campaign's calls.
pub const CAMPAIGN_STATUS_PATH: &str = "/twilio/campaign/status";

/// A campaign call's webhook: `{path}?attempt={attempt_id}&tenant={tenant}`.
pub fn campaign_webhook(
    public: &PublicUrl,
    path: &str,
    attempt_id: uuid::Uuid,
    tenant: domain::TenantId,
) -> String {
    public.http(&format!("{path}?attempt={attempt_id}&tenant={tenant}"))
}

/// `…{path}?transfer={id}&tenant={tenant}`: a transfer webhook's URL.
pub fn transfer_webhook(
    public: &PublicUrl,
    path: &str,
    transfer_id: &str,
    tenant: domain::TenantId,
) -> String {
    public.http(&format!("{path}?transfer={transfer_id}&tenant={tenant}"))
}

/// The TwiML that connects a call to its conversation's media stream; `greeting` replaces the
/// agent's usual one (a caller back from a transfer hears why).
pub fn conversation_twiml(
    public: &PublicUrl,
    call_sid: &str,
    tenant: domain::TenantId,
    greeting: Option<&str>,
) -> TwiML {
    let mut parameters = vec![
        StreamParameter {
            name: "callSid".into(),
            value: call_sid.to_owned(),
        },
        StreamParameter {
            name: "tenantId".into(),
            value: tenant.to_string(),
        },
    ];
    if let Some(greeting) = greeting {
        parameters.push(StreamParameter {
            name: "greeting".into(),
            value: greeting.to_owned(),
        });
    }
    TwiML::new().connect_stream(&public.media_stream(), None, &parameters)
}
