//! The `switchboard` command's building blocks, shared by the CLI and the bench binaries.
//!
//! - [`config`]: typed settings from the environment.
//! - [`app`]: store, sessions, Twilio and Temporal clients, the API server and the worker.
//! - [`dev`]: `switchboard dev` — the whole stack with embedded defaults.
//! - [`temporal_dev`]: supervising a local `temporal server start-dev`.
//! - [`demo_directory`]: the demo tenant's company directory and its employees' numbers.
//! - [`demo_call`]: posting correctly signed Twilio webhooks to a running API.

pub mod app;
pub mod config;
pub mod demo_call;
pub mod demo_directory;
pub mod dev;
pub mod sim_cli;
pub mod temporal_dev;
