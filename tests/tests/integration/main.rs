//! Integration tests against real Temporal, PostgreSQL (or SQLite) and Redis (or in-process
//! sessions). `scripts/test.sh` starts throwaway servers and runs this binary once per backend.
//! Twilio's REST API is a local fake that speaks its wire format (`helpers::FakeTwilio`).

#![allow(unreachable_pub)]

mod helpers;

mod agent_build;
mod api;
mod browser;
mod call_workflow;
mod campaign;
mod codec;
mod console;
mod conversations;
mod crm;
mod delivery;
mod directory;
mod events;
mod long_calls;
mod media;
mod numbers;
mod offline;
mod permissions;
mod platform;
mod postcall;
mod rate_limits;
mod recordings;
mod rls;
mod simulated;
mod transfer;
mod twilio_rest;
mod webhooks;
