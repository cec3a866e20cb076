//! `switchboard`: the command-line entry point.
//!
//! - `dev`: everything in one process with embedded defaults (see [`dev`]).
//! - `api` / `worker`: the two production processes.
//! - `migrate up|down|status`: database migrations.
//! - `demo-call`: a signed test call against a running API.

use anyhow::Result;
use clap::{Parser, Subcommand};
use migrations::{Migrator, MigratorTrait};
use switchboard::{app, config::Settings, demo_call, dev, sim_cli};

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Durable voice-AI calls on Temporal"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole stack locally: Temporal dev server, SQLite, API and worker.
    Dev,
    /// Run the HTTP API (webhooks, REST, health, metrics).
    Api,
    /// Run the Temporal worker (workflows and activities).
    Worker,
    /// Database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Post a signed Twilio voice webhook to a running API.
    DemoCall(demo_call::DemoCallArgs),
    /// The Twilio simulator: serve it, call through it, load it.
    Sim {
        #[command(subcommand)]
        command: sim_cli::SimCommand,
    },
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the latest migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
}

fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,temporalio_sdk_core=warn")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if settings.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    init_tracing(&settings);
    match cli.command {
        Command::Dev => dev::run(settings).await,
        Command::Api => run_api(settings).await,
        Command::Worker => run_worker(settings).await,
        Command::Migrate { action } => migrate(settings, action).await,
        Command::DemoCall(args) => demo_call::run(settings, args).await,
        Command::Sim { command } => sim_cli::run(settings, command).await,
    }
}

async fn run_api(settings: Settings) -> Result<()> {
    let store = app::open_store(&settings).await?;
    let sessions = app::open_sessions(&settings).await?;
    let temporal = app::temporal_client(&settings).await?;
    let state = app::api_state(&settings, store, temporal, sessions).await?;
    tracing::info!(bind = %settings.api_bind, public_url = %settings.public_url, "API listening");
    app::serve_api(&settings, state, app::shutdown_signal()).await
}

async fn run_worker(settings: Settings) -> Result<()> {
    let store = app::open_store(&settings).await?;
    let sessions = app::open_sessions(&settings).await?;
    let temporal = app::temporal_client(&settings).await?;
    tracing::info!(task_queue = %settings.task_queue, "worker running");
    app::run_worker(&settings, store, temporal, sessions, app::shutdown_signal()).await
}

async fn migrate(settings: Settings, action: MigrateAction) -> Result<()> {
    if settings.database_url.expose().starts_with("sqlite") {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    let store = store::Store::connect(settings.migration_url().expose()).await?;
    let db = store.connection();
    match action {
        MigrateAction::Up => Migrator::up(db, None).await?,
        MigrateAction::Down => Migrator::down(db, Some(1)).await?,
        MigrateAction::Status => Migrator::status(db).await?,
    }
    Ok(())
}
