//! Sending an SMS at most once through Twilio, for every activity that texts someone.
//!
//! Twilio has no idempotency key for messages, and a request that timed out may still have
//! been sent. So each SMS body ends with a reference unique to what it is about (a call, a
//! message), and an attempt that may follow an earlier one first looks for a message ending
//! with that reference among those already sent from our number to the same phone; if one is
//! there, its SID is the result and nothing is sent again.

use telephony::{TwilioClient, TwilioError};

/// One SMS to send at most once.
#[derive(Debug, Clone)]
pub struct SmsOnce<'a> {
    pub to: &'a str,
    pub from: &'a str,
    /// The whole text, ending with `reference`.
    pub body: &'a str,
    pub reference: &'a str,
}

/// Whether the SMS was sent now or found sent by an earlier attempt, and its SID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsSent {
    Now(String),
    Earlier(String),
}

impl SmsSent {
    pub fn sid(&self) -> &str {
        match self {
            Self::Now(sid) | Self::Earlier(sid) => sid,
        }
    }
}

/// Sends `sms` unless `may_have_been_sent` and Twilio already has it.
pub async fn send_sms_once(
    twilio: &TwilioClient,
    sms: &SmsOnce<'_>,
    may_have_been_sent: bool,
) -> Result<SmsSent, TwilioError> {
    debug_assert!(sms.body.ends_with(sms.reference));
    if may_have_been_sent {
        let sent = twilio.list_messages(sms.to, sms.from).await?;
        if let Some(earlier) = sent.into_iter().find(|m| {
            m.body
                .as_deref()
                .is_some_and(|b| b.ends_with(sms.reference))
        }) {
            return Ok(SmsSent::Earlier(earlier.sid));
        }
    }
    let message = twilio.send_sms(sms.to, sms.from, sms.body, None).await?;
    Ok(SmsSent::Now(message.sid))
}
