//! The recordings purge: deletes each recording (object, then row) older than its tenant's
//! `recording_retention_days`. Deleting the object first means a failure half-way leaves a
//! row whose object is gone, which the next purge deletes (a missing object is not an
//! error), never an object no row points to.
//!
//! Not yet a Temporal workflow: [`purge_expired_recordings`] is the body the purge activity
//! will run; the worker has no schedule for it yet.

use chrono::{DateTime, Utc};
use store::{ObjectsError, RecordingObjects, Store, StoreError};

/// How many recordings one pass deletes per tenant: a pass stays short; the next catches up.
pub const PURGE_BATCH: u64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Objects(#[from] ObjectsError),
}

/// Deletes the recordings made before `now` less their tenant's retention: how many went.
pub async fn purge_expired_recordings(
    store: &Store,
    objects: &RecordingObjects,
    now: DateTime<Utc>,
) -> Result<u64, PurgeError> {
    let mut purged = 0;
    for expired in store.expired_recordings(now, PURGE_BATCH).await? {
        for recording in expired.recordings {
            objects.delete(&recording.storage_key).await?;
            store.delete_recording(expired.tenant, recording.id).await?;
            purged += 1;
        }
    }
    if purged > 0 {
        tracing::info!(purged, "expired call recordings deleted");
    }
    Ok(purged)
}
