//! Plain types shared by every crate. No I/O, no async runtime.
//!
//! - [`ids`]: identifiers (`TenantId`, `AgentId`, `CallSid`) built by fallible parsers at the edge.
//! - [`memory`]: a cascaded conversation's bounded memory (window + notes).
//! - [`phone`]: `E164` numbers, `CallerId` (a number or withheld), masking for logs and summaries.
//! - [`agent`]: the agent settings the platform reads (`llm_model`, `followup_sms` …).
//! - [`crm`]: the dealership CRM's vocabularies: job, appointment, campaign and target states,
//!   do-not-call sources, what a script collects.
//! - [`call`]: call direction, Twilio call status, who answered (AMD), outcome, transcript segments.
//! - [`campaign`]: outbound campaigns: target CSV import, zones from numbers, calling windows,
//!   retries, post-call analysis.
//! - [`directory`]: the receptionist's company directory: departments, employees, hours
//!   (DST-correct), fuzzy lookup of who a caller asked for, whom to ring.
//! - [`elevenlabs`]: ElevenLabs' post-call webhook: its `ElevenLabs-Signature` and payload.
//! - [`events`]: events sent to the tenant's webhook (`call.analyzed`): their envelope, types,
//!   delivery states, and the input of their delivery workflow.
//! - [`conversation`]: tools the model may call, user turns, chat messages for the LLM.
//! - [`message`]: who a taken message is for, its delivery channels and their states, the
//!   texts delivered, and the signature of the tenant's message webhook.
//! - [`platform`]: roles, permissions and their matrix; tenant/user/message status; the 18
//!   knowledge categories.
//! - [`secret`]: `Secret<T>`, a value whose `Debug` is redacted.
//! - [`transfer`]: warm transfer — its input, typed failure reasons, the person's decision.
//! - [`webhook_signature`]: `Switchboard-Signature` of the tenant's webhook (messages and
//!   events): `sign` and `verify`.
//! - [`when`]: spoken words to a local date and time ("tusday at ten thirty", "the 10th at half
//!   past two") against a given `today`, and back ("Tuesday December 8th at 10 am").
//! - `speech`: recognised speech as rules read it — words, and matching them through the
//!   recogniser's slips.
//! - [`workflow_io`]: inputs, signals and results of the call workflow and its activities.

pub mod agent;
pub mod call;
pub mod campaign;
pub mod conversation;
pub mod crm;
pub mod directory;
pub mod elevenlabs;
pub mod events;
pub mod ids;
pub mod memory;
pub mod message;
pub mod phone;
pub mod platform;
pub mod secret;
pub mod site;
mod speech;
pub mod transfer;
pub mod webhook_signature;
pub mod when;
pub mod workflow_io;

pub use agent::AgentSettings;
pub use call::{AnsweredBy, CallDirection, CallOutcome, CallStatus, Speaker, TranscriptSegment};
pub use ids::{AgentId, CallSid, IdError, TenantId};
pub use phone::{CallerId, E164, PhoneError};
pub use platform::{KnowledgeCategory, MessageStatus, Permission, Role, TenantStatus, UserStatus};
pub use secret::Secret;
