//! The recordings purge: deletes each recording (object, then row) older than its tenant's
//! `recording_retention_days`. Deleting the object first means a failure half-way leaves a
//! row whose object is gone, which the next purge deletes (a missing object is not an
//! error), never an object no row points to.
//!
//! `workflows::RecordingRetentionWorkflow` runs it every hour as the activity
//! [`RetentionActivitiesImpl::purge_expired_recordings`].

use chrono::{DateTime, Utc};
use std::sync::Arc;
use store::{ObjectsError, RecordingObjects, Store, StoreError};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use workflows::activities::retention as defs;

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

/// The retention workflow's activity: one purge pass.
#[derive(Debug)]
pub struct RetentionActivitiesImpl {
    store: Store,
    objects: RecordingObjects,
}

impl RetentionActivitiesImpl {
    pub fn new(store: Store, objects: RecordingObjects) -> Self {
        Self { store, objects }
    }
}

#[activities]
impl RetentionActivitiesImpl {
    /// Deletes a batch of expired recordings; every failure is retryable (the database or the
    /// object store was unreachable, and each deletion is safe to repeat).
    #[activity(definition = defs::PurgeExpiredRecordings)]
    pub async fn purge_expired_recordings(
        self: Arc<Self>,
        _ctx: ActivityContext,
        _input: (),
    ) -> Result<u64, ActivityError> {
        purge_expired_recordings(&self.store, &self.objects, Utc::now())
            .await
            .map_err(|e| ApplicationFailure::new(e).into())
    }
}
