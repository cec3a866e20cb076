//! ElevenLabs' post-call webhook: its signature and the `post_call_transcription` payload.
//!
//! Each POST carries `ElevenLabs-Signature: t={unix seconds},v0={hex}` where `{hex}` is
//! HMAC-SHA256, keyed with the webhook's secret, over `"{t}.{raw body}"` — the scheme of our own
//! [`webhook_signature`](crate::webhook_signature), with ElevenLabs' `v0` and a
//! [`TOLERANCE_SECS`] window. Verify the bytes as received, before parsing the JSON.
//!
//! ElevenLabs adds fields to this payload over time (they announced `has_audio` and friends),
//! so every type here ignores fields it does not know and defaults the ones that may be absent.

use crate::call::{Speaker, TranscriptSegment};
use crate::webhook_signature::mac;
use hmac::Mac;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The header with the timestamp and signature.
pub const SIGNATURE_HEADER: &str = "ElevenLabs-Signature";
/// How far the signature's timestamp may be from our clock, either way: ElevenLabs' own
/// examples accept 30 minutes, and their retries are re-sent with the original timestamp.
pub const TOLERANCE_SECS: i64 = 30 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header has no `t=` timestamp")]
    MissingTimestamp,
    #[error("the signature header's timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("the signature header has no `v0=` signature")]
    MissingSignature,
    #[error("the signature is not hexadecimal")]
    BadSignatureEncoding,
    #[error("the signature is {age_secs} s away from now, beyond the {TOLERANCE_SECS} s tolerance")]
    OutsideTolerance { age_secs: i64 },
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks an `ElevenLabs-Signature` header against the raw `body` at `now` (Unix seconds).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.trim()),
            Some(("v0", v)) => signature = Some(v.trim()),
            _ => {}
        }
    }
    let timestamp: i64 = timestamp
        .ok_or(SignatureError::MissingTimestamp)?
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let signature = signature.ok_or(SignatureError::MissingSignature)?;
    let signature = hex::decode(signature).map_err(|_| SignatureError::BadSignatureEncoding)?;
    let age_secs = now.saturating_sub(timestamp);
    if age_secs.abs() > TOLERANCE_SECS {
        return Err(SignatureError::OutsideTolerance { age_secs });
    }
    // `verify_slice` compares in constant time.
    mac(secret, timestamp, body)
        .verify_slice(&signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `ElevenLabs-Signature` value ElevenLabs would send: for tests and the simulator.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v0={}", hex::encode(digest))
}

/// Any webhook ElevenLabs sends: `type` says which; only `post_call_transcription`'s `data` is
/// read here ([`WebhookEvent::post_call_transcription`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub event_timestamp: Option<i64>,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// The `type` of the post-call transcription webhook.
pub const POST_CALL_TRANSCRIPTION: &str = "post_call_transcription";

impl WebhookEvent {
    /// The payload, when this is a `post_call_transcription` event (`None` for other types).
    pub fn post_call_transcription(&self) -> Option<Result<PostCallTranscription, String>> {
        (self.kind == POST_CALL_TRANSCRIPTION)
            .then(|| PostCallTranscription::deserialize(&self.data).map_err(|e| e.to_string()))
    }
}

/// `data` of a `post_call_transcription` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostCallTranscription {
    pub conversation_id: String,
    #[serde(default)]
    pub agent_id: Option<String>,
    /// ElevenLabs' conversation status (`done`, `failed` …).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub transcript: Vec<TranscriptTurn>,
    #[serde(default)]
    pub metadata: ConversationMetadata,
    #[serde(default)]
    pub analysis: Option<ConversationAnalysis>,
}

/// One turn of ElevenLabs' transcript. `message` is null on turns that only call a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptTurn {
    /// `agent` or `user`.
    pub role: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub time_in_call_secs: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationMetadata {
    #[serde(default)]
    pub start_time_unix_secs: Option<i64>,
    #[serde(default)]
    pub call_duration_secs: Option<f64>,
    #[serde(default)]
    pub phone_call: Option<PhoneCall>,
}

/// Present when the conversation was a phone call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhoneCall {
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub agent_number: Option<String>,
    #[serde(default)]
    pub external_number: Option<String>,
    #[serde(default)]
    pub call_sid: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationAnalysis {
    /// `success`, `failure` or `unknown`.
    #[serde(default)]
    pub call_successful: Option<String>,
    #[serde(default)]
    pub transcript_summary: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub data_collection_results: BTreeMap<String, DataCollectionResult>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub evaluation_criteria_results: BTreeMap<String, serde_json::Value>,
}

/// One value the agent was configured to collect, with the model's reasoning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataCollectionResult {
    #[serde(default)]
    pub value: serde_json::Value,
    #[serde(default)]
    pub rationale: Option<String>,
}

/// `null` read as the empty collection (ElevenLabs sends both).
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl PostCallTranscription {
    /// The spoken turns as our transcript segments (what [`crate::campaign::analysis`] reads):
    /// `user` is the caller; tool-only turns are dropped; a turn ends where the next begins.
    pub fn segments(&self) -> Vec<TranscriptSegment> {
        let ms = |secs: f64| (secs.max(0.0) * 1000.0).round() as u64;
        let spoken: Vec<(&TranscriptTurn, &str)> = self
            .transcript
            .iter()
            .filter_map(|t| Some((t, t.message.as_deref()?.trim())))
            .filter(|(_, text)| !text.is_empty())
            .collect();
        let call_end = self.metadata.call_duration_secs.map(ms);
        spoken
            .iter()
            .enumerate()
            .map(|(i, (turn, text))| {
                let start_ms = ms(turn.time_in_call_secs);
                let next = spoken.get(i + 1).map(|(t, _)| ms(t.time_in_call_secs));
                TranscriptSegment {
                    speaker: if turn.role == "agent" {
                        Speaker::Agent
                    } else {
                        Speaker::Caller
                    },
                    text: (*text).to_owned(),
                    start_ms,
                    end_ms: next.or(call_end).unwrap_or(start_ms).max(start_ms),
                    interrupted: false,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
