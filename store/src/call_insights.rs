//! What a call's page and the overview show beyond its status: the agent's tool calls (saved
//! with the call by the workflow) and the voice-to-voice latency of its replies, as the media
//! bridge measured them (from the caller's last voiced frame to the agent's first audio frame of
//! the reply). A call can have several media streams (the caller comes back from a transfer):
//! each adds its samples.

use crate::{Store, StoreError, entities::calls};
use domain::{CallSid, TenantId, workflow_io::ToolCallRecord};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

/// The most latency samples a call keeps.
pub const MAX_LATENCY_SAMPLES: usize = 500;

/// `calls.tool_calls` for `records`: `None` when there are none.
pub(crate) fn tool_calls_json(records: &[ToolCallRecord]) -> Option<String> {
    if records.is_empty() {
        return None;
    }
    serde_json::to_string(records).ok()
}

/// The tool calls stored as `raw`; unreadable JSON reads as none (it is a view, not a record
/// anything depends on).
pub(crate) fn tool_calls_from(raw: Option<&str>) -> Vec<ToolCallRecord> {
    raw.and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default()
}

/// The latency samples stored as `raw`.
pub(crate) fn latencies_from(raw: Option<&str>) -> Vec<u32> {
    raw.and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default()
}

/// The `pct` percentile (0–100, nearest rank) of `samples`; `None` when there are none.
pub fn percentile(samples: &[u32], pct: u32) -> Option<u32> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (sorted.len() * pct.min(100) as usize).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

impl Store {
    /// Adds one media stream's reply latencies (ms) to its call, keeping at most
    /// [`MAX_LATENCY_SAMPLES`], and their median for the overview.
    pub async fn record_reply_latencies(
        &self,
        tenant: TenantId,
        call_sid: &CallSid,
        samples: &[u32],
    ) -> Result<(), StoreError> {
        if samples.is_empty() {
            return Ok(());
        }
        let txn = self.scoped(tenant).await?;
        let call = calls::Entity::find()
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .filter(calls::Column::CallSid.eq(call_sid.as_str()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "call" })?;
        let mut all = latencies_from(call.reply_latencies_ms.as_deref());
        all.extend_from_slice(samples);
        all.truncate(MAX_LATENCY_SAMPLES);
        let median = percentile(&all, 50).and_then(|m| i32::try_from(m).ok());
        calls::Entity::update_many()
            .set(calls::ActiveModel {
                reply_latencies_ms: Set(serde_json::to_string(&all).ok()),
                reply_latency_p50_ms: Set(median),
                ..Default::default()
            })
            .filter(calls::Column::Id.eq(call.id))
            .filter(calls::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[700], 90), Some(700));
        let samples = [900, 100, 500, 300, 700];
        assert_eq!(percentile(&samples, 50), Some(500));
        assert_eq!(percentile(&samples, 90), Some(900));
        assert_eq!(percentile(&samples, 0), Some(100));
    }

    #[test]
    fn tool_calls_round_trip_and_garbage_reads_as_none() {
        let record = ToolCallRecord {
            name: "take_message".into(),
            at_ms: 1,
            duration_ms: 2,
            arguments: "{}".into(),
            result: "{\"ok\":true}".into(),
        };
        let json = tool_calls_json(std::slice::from_ref(&record));
        assert_eq!(tool_calls_from(json.as_deref()), vec![record]);
        assert_eq!(tool_calls_json(&[]), None);
        assert!(tool_calls_from(Some("not json")).is_empty());
    }
}
