//! Saving a call's recording when its media stream ends: the Ogg/Opus object first, then the
//! row that finds it. Both are keyed by the stream, so a retried or repeated save of the same
//! stream writes the same object and keeps one row; a call back from a transfer has a second
//! stream and so a second recording.

use crate::AppState;
use domain::{CallSid, TenantId};
use store::{NewRecording, recording_key};
use voice::recording::{OGG_OPUS_CONTENT_TYPE, Recording};

/// Whose recording a stream makes.
#[derive(Debug, Clone)]
pub struct RecordingTarget {
    pub tenant: TenantId,
    pub call_sid: CallSid,
}

/// Stores `recording` of stream `stream_sid`. A failure is logged: the call itself is over.
pub async fn save(
    state: &AppState,
    target: &RecordingTarget,
    stream_sid: &str,
    recording: Recording,
) {
    if let Err(e) = try_save(state, target, stream_sid, recording).await {
        tracing::error!(error = %e, "the call's recording was not saved");
    }
}

async fn try_save(
    state: &AppState,
    target: &RecordingTarget,
    stream_sid: &str,
    recording: Recording,
) -> anyhow::Result<()> {
    let Some(call_id) = state
        .store
        .call_id_by_sid(target.tenant, &target.call_sid)
        .await?
    else {
        anyhow::bail!("the recorded call has no row");
    };
    let key = recording_key(target.tenant, call_id, stream_sid);
    let bytes = recording.ogg.len() as u64;
    state.recordings.put(&key, recording.ogg).await?;
    let new = NewRecording {
        stream_sid: stream_sid.to_owned(),
        storage_key: key,
        content_type: OGG_OPUS_CONTENT_TYPE.to_owned(),
        bytes,
        duration_ms: recording.duration_ms,
        channels: recording.channels,
    };
    let saved = state
        .store
        .save_recording(target.tenant, call_id, new)
        .await?;
    tracing::info!(
        recording_id = %saved.id,
        bytes = saved.bytes,
        duration_ms = saved.duration_ms,
        "call recording saved"
    );
    Ok(())
}
