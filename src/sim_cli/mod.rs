//! `switchboard sim …`: the Twilio simulator from the command line.
//!
//! - `serve`: run the simulator (Twilio's REST API, signed webhooks, TwiML, simulated phones).
//! - `call`: place a call from a simulated person through a running simulator and print the
//!   conversation as it happens; `--record` saves what the person heard.
//! - `load`: a bounded number of concurrent calls, with a progress bar and a summary.
//! - `campaign`: a population of scripted recipients and an outbound campaign that calls
//!   them, followed to the end (targets by state, appointments, do-not-call entries).
//!
//! `call` and `load` talk to the simulator's `/_sim/` control API ([`client`], with the wire
//! types of [`sim::control`]), so they work against the simulator `switchboard dev` runs
//! in-process as well as against `switchboard sim serve`.
//!
//! Modules: [`args`] (the command line), [`client`] (the control API client), [`call`],
//! [`load`] (the load generator), [`procstat`] (CPU and memory from `/proc`),
//! [`percentiles`].

pub mod args;
pub mod call;
pub mod campaign;
pub mod client;
pub mod load;
pub mod percentiles;
pub mod procstat;

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::Subcommand;
use sim::{FaultConfig, Sim, SimConfig};

use crate::config::Settings;
pub use args::{CallArgs, CampaignArgs, FaultArgs, LoadArgs, ServeArgs};

/// Where `switchboard dev` and `sim serve` listen unless told otherwise.
pub const DEFAULT_SIM_BIND: &str = "127.0.0.1:8089";
/// The number the simulated account owns by default (Twilio's magic "valid number" for test
/// credentials); `switchboard dev` gives it to its demo tenant.
pub const DEMO_NUMBER: &str = "+15005550006";

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Run the Twilio simulator.
    Serve(ServeArgs),
    /// Call a number through a running simulator and print the conversation.
    Call(CallArgs),
    /// Place many calls through a running simulator and summarise how they went.
    Load(LoadArgs),
    /// Run an outbound campaign against a population of scripted recipients.
    Campaign(CampaignArgs),
}

/// The simulator's configuration for this deployment: the account and auth token the product
/// uses (so its webhooks validate), and `numbers` routed to the product's webhooks.
pub fn sim_config(
    settings: &Settings,
    bind: SocketAddr,
    numbers: &[String],
    faults: FaultConfig,
) -> SimConfig {
    let public = settings.public_url.as_str().trim_end_matches('/');
    let voice_url = format!("{public}/twilio/voice");
    let status_url = format!("{public}/twilio/status");
    SimConfig {
        bind,
        account_sid: settings.twilio_account_sid.clone(),
        auth_token: settings.twilio_auth_token.clone(),
        api_keys: settings.twilio_api_key.clone().into_iter().collect(),
        numbers: numbers
            .iter()
            .map(|n| (n.clone(), voice_url.clone(), Some(status_url.clone())))
            .collect(),
        faults,
        public_base_url: None,
    }
}

pub async fn run(settings: Settings, command: SimCommand) -> Result<()> {
    match command {
        SimCommand::Serve(args) => serve(settings, args).await,
        SimCommand::Call(args) => call::call(args).await,
        SimCommand::Load(args) => load::load(args).await,
        SimCommand::Campaign(args) => campaign::campaign(args).await,
    }
}

async fn serve(settings: Settings, args: ServeArgs) -> Result<()> {
    let config = sim_config(&settings, args.bind, &args.numbers, args.faults.config());
    let sim = Sim::start(config).await.context("starting the simulator")?;
    println!();
    println!("  Twilio simulator  {}", sim.base_url());
    println!("  Numbers           {}", args.numbers.join(", "));
    println!(
        "  Point the product at it: TWILIO_API_BASE={}",
        sim.base_url()
    );
    println!();
    crate::app::shutdown_signal().await;
    sim.shutdown().await;
    Ok(())
}
