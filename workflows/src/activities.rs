//! Declarations of the activities workflows call. Bodies are never run: the `activities`
//! crate implements each one with `#[activity(definition = …)]`, which checks the types match.
#![allow(clippy::unimplemented)]

use domain::workflow_io::{CallRef, FinishCallInput, OpenSessionInput, RecordCallInput};
use temporalio_common::ActivityError;
use temporalio_macros::activity_definitions;

pub struct CallActivities;

#[activity_definitions]
impl CallActivities {
    /// Insert the `calls` row (idempotent on the call SID).
    #[activity(name = "record_call")]
    pub fn record_call(_input: RecordCallInput) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Open the live session that API nodes read while the call's media stream runs.
    #[activity(name = "open_session")]
    pub fn open_session(_input: OpenSessionInput) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// End the call through the Twilio REST API (`Status=completed`).
    #[activity(name = "hang_up_call")]
    pub fn hang_up_call(_call: CallRef) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Persist the final status, transcript and metrics.
    #[activity(name = "finish_call")]
    pub fn finish_call(_input: FinishCallInput) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Drop the live session.
    #[activity(name = "close_session")]
    pub fn close_session(_call: CallRef) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// The generated definition types, named so implementations can bind to them.
pub mod call {
    pub use super::call_activities::{
        CloseSession, FinishCall, HangUpCall, OpenSession, RecordCall,
    };
}
