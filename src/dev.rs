//! `switchboard dev`: the whole stack in one process with embedded defaults — a Temporal dev
//! server (started if none answers), SQLite, in-process sessions, migrations, a demo tenant,
//! the API and the worker.

use crate::{
    app,
    config::{PayloadKeys, Settings},
    temporal_dev,
};
use anyhow::{Context, Result};
use codec::{KeyRing, PayloadCrypto};
use domain::{E164, KnowledgeCategory, Secret};
use store::{NewAgent, Store};
use tokio::sync::watch;

pub const DEMO_TENANT: &str = "Acme Dental";
/// The demo tenant's number: the one the simulated account owns.
pub use crate::sim_cli::DEMO_NUMBER;
/// Where `dev` keeps the payload key it made (when `PAYLOAD_CODEC_KEYS` is unset).
const PAYLOAD_KEY_FILE: &str = "payload-codec-keys";

pub async fn run(mut settings: Settings) -> Result<()> {
    use_dev_payload_key(&mut settings)?;
    allow_temporal_ui_origins(&mut settings);
    // Without a Twilio account, Twilio is the simulator, in this process.
    let simulator = if settings.twilio_api_base == crate::config::TWILIO_API_BASE
        && settings.twilio_auth_token.expose() == crate::config::DEV_TWILIO_AUTH_TOKEN
    {
        let bind = std::env::var("SIM_BIND")
            .unwrap_or_else(|_| crate::sim_cli::DEFAULT_SIM_BIND.to_owned())
            .parse()
            .context("SIM_BIND must be host:port")?;
        let config = crate::sim_cli::sim_config(
            &settings,
            bind,
            &[DEMO_NUMBER.to_owned()],
            sim::FaultConfig::default(),
        );
        let sim = sim::Sim::start(config)
            .await
            .context("starting the Twilio simulator")?;
        settings.twilio_api_base = sim.base_url().to_owned();
        crate::demo_directory::register_demo_phones(&sim);
        Some(sim)
    } else {
        None
    };
    let temporal_server = if temporal_dev::answers(&settings.temporal_address).await {
        tracing::info!(address = %settings.temporal_address, "using the Temporal server already running");
        None
    } else {
        Some(temporal_dev::start(&settings).await?)
    };
    let result = run_stack(&settings, simulator.is_some()).await;
    if let Some(sim) = simulator {
        sim.shutdown().await;
    }
    if let Some(server) = temporal_server {
        server.stop().await;
        tracing::info!("stopped the Temporal dev server");
    }
    result
}

async fn run_stack(settings: &Settings, simulated_twilio: bool) -> Result<()> {
    let store = app::open_store(settings).await?;
    let sessions = app::open_sessions(settings).await?;
    let temporal = app::temporal_client(settings).await?;
    let state = app::api_state(settings, store.clone(), temporal.clone(), sessions.clone()).await?;
    let engines = state.engines.names();
    let demo_key = seed_demo_tenant(&store, settings, &engines).await?;
    let demo = store
        .find_tenant_by_name(DEMO_TENANT)
        .await?
        .context("the demo tenant")?;
    crate::demo_directory::seed(&store, demo.id, DEMO_TENANT).await?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let api = app::serve_api(settings, state, stopped(stop_rx.clone()));
    let worker = app::run_worker(settings, store, temporal, sessions, stopped(stop_rx));
    print_banner(settings, demo_key.as_deref(), simulated_twilio, &engines);
    let signal = async {
        app::shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    };
    let (api, worker, ()) = tokio::join!(api, worker, signal);
    api.context("API")?;
    worker.context("worker")?;
    Ok(())
}

/// Without `PAYLOAD_CODEC_KEYS`, a key made on first run and kept in the data directory
/// (owner-only): the Temporal dev server's histories outlive a run, and a later run must still
/// decrypt them.
fn use_dev_payload_key(settings: &mut Settings) -> Result<()> {
    if !matches!(settings.payload_keys, PayloadKeys::Unset) {
        return Ok(());
    }
    let path = settings.data_dir.join(PAYLOAD_KEY_FILE);
    let entry = match std::fs::read_to_string(&path) {
        Ok(text) => Secret::new(text.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let entry = KeyRing::format_entry("dev", &KeyRing::generate_key());
            std::fs::create_dir_all(&settings.data_dir)?;
            write_owner_only(&path, &format!("{}\n", entry.expose()))?;
            entry
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let ring = KeyRing::parse(&entry).with_context(|| format!("in {}", path.display()))?;
    settings.payload_keys = PayloadKeys::Ring(PayloadCrypto::new(ring));
    Ok(())
}

/// Creates `path` readable by its owner only, from the first byte on.
fn write_owner_only(path: &std::path::Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// The dev Temporal UI calls the codec endpoint from the browser: its origins may.
fn allow_temporal_ui_origins(settings: &mut Settings) {
    for host in ["127.0.0.1", "localhost"] {
        let origin = format!("http://{host}:{}", settings.temporal_ui_port);
        if !settings.cors_allowed_origins.contains(&origin) {
            settings.cors_allowed_origins.push(origin);
        }
    }
}

/// What the demo receptionist knows.
const DEMO_KNOWLEDGE: &[(KnowledgeCategory, &str, &str)] = &[
    (
        KnowledgeCategory::BusinessInformation,
        "What are your opening hours?",
        "Monday to Friday 8 am to 6 pm, Saturday 9 am to 1 pm, closed on Sunday.",
    ),
    (
        KnowledgeCategory::BusinessInformation,
        "Where are you located?",
        "123 Market Street, San Francisco, second floor. Parking is behind the building.",
    ),
    (
        KnowledgeCategory::ProductsServices,
        "Which services do you offer?",
        "Check-ups and cleaning, fillings, crowns, root canals, teeth whitening and emergency care.",
    ),
    (
        KnowledgeCategory::PricingBilling,
        "Which insurance do you accept?",
        "Most PPO plans, including Delta Dental, Cigna and Aetna. We do not take HMO plans.",
    ),
];

/// The engine the demo agent gets: a configured cloud engine first, then the offline engine,
/// else the echo engine (a line check that says back what it hears).
fn preferred_engine(available: &[&str]) -> &'static str {
    ["openai_realtime", "gemini_live", "cascaded", "offline"]
        .into_iter()
        .find(|e| available.contains(e))
        .unwrap_or("echo")
}

/// Creates the demo tenant, its receptionist agent and number on first run. The API key is
/// shown once and kept in the data directory (owner-only) for later runs to point at.
async fn seed_demo_tenant(
    store: &Store,
    settings: &Settings,
    engines: &[&str],
) -> Result<Option<String>> {
    if store.find_tenant_by_name(DEMO_TENANT).await?.is_some() {
        return Ok(None);
    }
    let tenant = store.create_tenant(DEMO_TENANT).await?;
    let agent = store
        .create_agent(
            tenant.id,
            NewAgent {
                name: "Acme Dental Receptionist".into(),
                greeting: "Thanks for calling Acme Dental, how can I help you today?".into(),
                instructions: "You are the friendly receptionist of Acme Dental.".into(),
                engine: preferred_engine(engines).into(),
                engine_settings: serde_json::json!({}),
                max_call_duration_secs: None,
                language: None,
                record_calls: None,
            },
        )
        .await?;
    store
        .assign_phone_number(tenant.id, &E164::parse(DEMO_NUMBER)?, agent.id)
        .await?;
    for (category, question, answer) in DEMO_KNOWLEDGE {
        store
            .add_knowledge(
                tenant.id,
                store::NewKnowledge {
                    category: *category,
                    question: (*question).into(),
                    answer: (*answer).into(),
                    agent_id: None,
                },
            )
            .await?;
    }
    let key = store.create_api_key(tenant.id, "demo").await?;
    write_secret(&settings.data_dir.join("demo-api-key"), key.secret.expose())?;
    seed_console_owner(store, settings, tenant.id).await?;
    Ok(Some(key.secret.into_inner()))
}

/// The console's sign-in for the demo tenant: [`DEMO_OWNER_EMAIL`] with a random password
/// kept, like the API key, owner-only in the data directory.
async fn seed_console_owner(
    store: &Store,
    settings: &Settings,
    tenant: domain::TenantId,
) -> Result<()> {
    let password = format!("demo-{}", api::routes::demo::random_hex(8));
    let owner = store::NewUser {
        email: DEMO_OWNER_EMAIL.into(),
        name: "Demo Owner".into(),
        password_hash: api::auth::password::hash(password.clone()).await?,
        role: domain::Role::Owner,
    };
    store.create_user(tenant, owner).await?;
    write_secret(&settings.data_dir.join("demo-console-password"), &password)
}

/// Writes `secret` to `path`, readable by its owner only.
fn write_secret(path: &std::path::Path, secret: &str) -> Result<()> {
    std::fs::write(path, format!("{secret}\n"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The demo tenant's owner, who signs in to the console.
pub const DEMO_OWNER_EMAIL: &str = "owner@acme-dental.example.com";

fn print_banner(
    settings: &Settings,
    new_demo_key: Option<&str>,
    simulated_twilio: bool,
    engines: &[&str],
) {
    let api = settings.public_url.as_str().trim_end_matches('/');
    let key_file = settings.data_dir.join("demo-api-key");
    println!();
    println!("  Switchboard is running");
    println!("  API            {api}");
    println!(
        "  Console        {api}/   (sign in as {DEMO_OWNER_EMAIL}, password in {})",
        settings.data_dir.join("demo-console-password").display()
    );
    println!("  API docs       {api}/docs");
    println!("  Metrics        {api}/metrics");
    println!(
        "  Temporal UI    http://127.0.0.1:{}/namespaces/{}/workflows",
        settings.temporal_ui_port, settings.temporal_namespace
    );
    println!("  Temporal gRPC  {}", settings.temporal_address);
    println!("  Demo tenant    {DEMO_TENANT}, number {DEMO_NUMBER}");
    if simulated_twilio {
        println!(
            "  Twilio         simulated at {}   (call it: switchboard sim call --say \"Hello\")",
            settings.twilio_api_base
        );
    } else {
        println!("  Twilio         {}", settings.twilio_api_base);
    }
    println!("  Voice engines  {}", engines.join(", "));
    print_codec_lines(settings, api);
    match new_demo_key {
        Some(key) => println!(
            "  Demo API key   {key}   (shown once; also in {})",
            key_file.display()
        ),
        None => println!("  Demo API key   in {}", key_file.display()),
    }
    println!();
    println!("  Place a signed test call:  switchboard demo-call --hangup-after 5");
    println!();
}

/// The payload codec's lines: which key encrypts, and how to read call data in the clear. The
/// dev Temporal UI has no sign-in, so it cannot send the bearer token the codec endpoint needs;
/// the CLI can.
fn print_codec_lines(settings: &Settings, api: &str) {
    let PayloadKeys::Ring(crypto) = &settings.payload_keys else {
        println!("  Payload codec  off: call data is stored in Temporal in clear");
        return;
    };
    let key_note = match std::env::var("PAYLOAD_CODEC_KEYS") {
        Ok(_) => "from PAYLOAD_CODEC_KEYS".to_owned(),
        Err(_) => format!("in {}", settings.data_dir.join(PAYLOAD_KEY_FILE).display()),
    };
    println!(
        "  Payload codec  AES-256-GCM, key `{}` ({key_note})",
        crypto.ring().active_key_id()
    );
    println!(
        "  Codec server   {api}/codec   (bearer token with payloads:decode; the UI sends none)"
    );
    println!(
        "                 temporal workflow show -w call-CA… --codec-endpoint {api}/codec \\\n                   --codec-auth \"Bearer $(cat {})\"",
        settings.data_dir.join("demo-api-key").display()
    );
}
