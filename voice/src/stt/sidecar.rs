//! The offline speech-to-text sidecar: a supervised local process that speaks Deepgram's live
//! protocol (`stt-sidecar/switchboard_stt.py`, Whisper tiny.en run by faster-whisper), so
//! [`DeepgramStt`](super::DeepgramStt) works against it unchanged.
//!
//! [`SttSidecar::start`] spawns `python script --host 127.0.0.1 --port 0 [--model PATH]`, waits
//! for the `LISTENING <port>` line the script prints once the model is loaded, and keeps a
//! supervisor task that restarts the process (on the same port when it can) if it dies. Dropping
//! the [`SttSidecar`] stops the process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::{DeepgramConfig, SttError};

/// How long the sidecar may take to load its model and print `LISTENING <port>`.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Wait before restarting a sidecar that died, doubled on each failure in a row up to a minute.
const RESTART_BACKOFF: Duration = Duration::from_millis(500);
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A sidecar that ran this long before dying resets the backoff.
const HEALTHY_RUN: Duration = Duration::from_secs(30);

/// Where the sidecar lives in a checkout: `.venv/bin/python` and `stt-sidecar/switchboard_stt.py`.
pub fn find_default(repo_root: &Path) -> Option<(PathBuf, PathBuf)> {
    let python = repo_root.join(".venv").join("bin").join("python");
    let script = repo_root.join("stt-sidecar").join("switchboard_stt.py");
    (python.is_file() && script.is_file()).then_some((python, script))
}

#[derive(Debug, Clone)]
struct Spec {
    python: PathBuf,
    script: PathBuf,
    model: Option<PathBuf>,
}

#[derive(Debug)]
struct Shared {
    port: AtomicU16,
    pid: AtomicU32,
    restarts: AtomicU32,
    alive: AtomicBool,
}

/// A running, supervised offline STT sidecar. Stops the process when dropped.
#[derive(Debug)]
pub struct SttSidecar {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    supervisor: Option<tokio::task::JoinHandle<()>>,
}

impl SttSidecar {
    /// Spawns the sidecar and waits (up to [`START_TIMEOUT`]) until it listens.
    pub async fn start(
        python: &Path,
        script: &Path,
        model: Option<&Path>,
    ) -> Result<SttSidecar, SttError> {
        Self::start_with_timeout(python, script, model, START_TIMEOUT).await
    }

    /// [`SttSidecar::start`] with another start timeout.
    pub async fn start_with_timeout(
        python: &Path,
        script: &Path,
        model: Option<&Path>,
        timeout: Duration,
    ) -> Result<SttSidecar, SttError> {
        if !script.is_file() {
            return Err(SttError::NotConfigured(format!(
                "STT sidecar script {} not found",
                script.display()
            )));
        }
        let spec = Spec {
            python: python.to_owned(),
            script: script.to_owned(),
            model: model.map(Path::to_owned),
        };
        let (child, port) = spawn(&spec, 0, timeout).await?;
        let shared = Arc::new(Shared {
            port: AtomicU16::new(port),
            pid: AtomicU32::new(child.id().unwrap_or(0)),
            restarts: AtomicU32::new(0),
            alive: AtomicBool::new(true),
        });
        info!(port, "offline STT sidecar listening");
        let (stop, stop_rx) = watch::channel(false);
        let supervisor = tokio::spawn(supervise(spec, child, shared.clone(), stop_rx, timeout));
        Ok(SttSidecar {
            shared,
            stop,
            supervisor: Some(supervisor),
        })
    }

    /// The port it listens on (the same across restarts unless that port was taken).
    pub fn port(&self) -> u16 {
        self.shared.port.load(Ordering::SeqCst)
    }

    /// `ws://127.0.0.1:<port>/v1/listen`
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/v1/listen", self.port())
    }

    /// A [`DeepgramConfig`] pointing at the sidecar (it accepts any API key).
    pub fn deepgram_config(&self) -> DeepgramConfig {
        DeepgramConfig {
            url: self.url(),
            model: "whisper-tiny.en".into(),
            language: Some("en".into()),
            ..DeepgramConfig::new("offline")
        }
    }

    /// The current process id, if one is running.
    pub fn pid(&self) -> Option<u32> {
        match self.shared.pid.load(Ordering::SeqCst) {
            0 => None,
            pid => Some(pid),
        }
    }

    /// How many times the process was restarted after dying.
    pub fn restarts(&self) -> u32 {
        self.shared.restarts.load(Ordering::SeqCst)
    }

    /// Whether a process is up and listening right now (false while restarting).
    pub fn is_alive(&self) -> bool {
        self.shared.alive.load(Ordering::SeqCst)
    }

    /// Stops the process and waits until it is gone.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(supervisor) = self.supervisor.take() {
            let _ = supervisor.await;
        }
    }
}

impl Drop for SttSidecar {
    fn drop(&mut self) {
        // The supervisor kills the process; if the runtime is gone, kill_on_drop does.
        let _ = self.stop.send(true);
    }
}

/// Starts the process and reads its `LISTENING <port>` line.
async fn spawn(spec: &Spec, port: u16, timeout: Duration) -> Result<(Child, u16), SttError> {
    let mut child = start_process(spec, port)?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let port = match read_listening_port(&mut child, &mut lines, timeout).await {
        Ok(port) => port,
        Err(e) => {
            let _ = child.kill().await;
            return Err(e);
        }
    };
    // Keep draining stdout so the process never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, port))
}

/// Runs the sidecar script on `port` (0: any), its stderr going to the debug log.
fn start_process(spec: &Spec, port: u16) -> Result<Child, SttError> {
    let mut cmd = Command::new(&spec.python);
    cmd.arg(&spec.script)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()]);
    if let Some(model) = &spec.model {
        cmd.arg("--model").arg(model);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| {
        SttError::NotConfigured(format!(
            "cannot run the STT sidecar ({} {}): {e}",
            spec.python.display(),
            spec.script.display()
        ))
    })?;
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                debug!(target: "stt_sidecar", "{line}");
            }
        });
    }
    Ok(child)
}

/// The port of the sidecar's first line, `LISTENING <port>`, read within `timeout`.
async fn read_listening_port(
    child: &mut Child,
    lines: &mut Lines<BufReader<ChildStdout>>,
    timeout: Duration,
) -> Result<u16, SttError> {
    match tokio::time::timeout(timeout, lines.next_line()).await {
        Ok(Ok(Some(line))) => line
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse::<u16>().ok())
            .ok_or_else(|| {
                SttError::Connect(format!(
                    "STT sidecar said {line:?} instead of LISTENING <port>"
                ))
            }),
        Ok(Ok(None)) | Ok(Err(_)) => {
            let status = child.wait().await.ok();
            Err(SttError::Connect(format!(
                "STT sidecar exited before listening ({}); is its venv installed? \
                 (scripts/stt.sh: ensure_offline_stt)",
                status.map_or("unknown status".into(), |s| s.to_string())
            )))
        }
        Err(_) => Err(SttError::Connect(format!(
            "STT sidecar did not listen within {timeout:?}"
        ))),
    }
}

async fn supervise(
    spec: Spec,
    mut child: Child,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    timeout: Duration,
) {
    let mut backoff = RESTART_BACKOFF;
    let mut started = tokio::time::Instant::now();
    loop {
        tokio::select! {
            status = child.wait() => {
                shared.alive.store(false, Ordering::SeqCst);
                shared.pid.store(0, Ordering::SeqCst);
                if *stop.borrow() {
                    return;
                }
                warn!(status = ?status.ok(), "offline STT sidecar died; restarting");
                if started.elapsed() >= HEALTHY_RUN {
                    backoff = RESTART_BACKOFF;
                }
                let Some(restarted) = restart(&spec, &shared, &mut stop, timeout, &mut backoff).await else {
                    return;
                };
                child = restarted;
                started = tokio::time::Instant::now();
            }
            _ = stop.changed() => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                shared.alive.store(false, Ordering::SeqCst);
                shared.pid.store(0, Ordering::SeqCst);
                debug!("offline STT sidecar stopped");
                return;
            }
        }
    }
}

/// Restarts the sidecar after `backoff` (doubled per attempt) until it works, or `None` once
/// we are told to stop.
async fn restart(
    spec: &Spec,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
    timeout: Duration,
    backoff: &mut Duration,
) -> Option<Child> {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(*backoff) => {}
            _ = stop.changed() => return None,
        }
        *backoff = (*backoff * 2).min(RESTART_BACKOFF_MAX);
        let port = shared.port.load(Ordering::SeqCst);
        let attempt = match spawn(spec, port, timeout).await {
            Ok(ok) => Ok(ok),
            // The old port may be taken by now: take any.
            Err(_) => spawn(spec, 0, timeout).await,
        };
        match attempt {
            Ok((child, new_port)) => {
                if new_port != port {
                    warn!(
                        old = port,
                        new = new_port,
                        "offline STT sidecar moved to another port"
                    );
                }
                shared.port.store(new_port, Ordering::SeqCst);
                shared.pid.store(child.id().unwrap_or(0), Ordering::SeqCst);
                shared.restarts.fetch_add(1, Ordering::SeqCst);
                shared.alive.store(true, Ordering::SeqCst);
                info!(port = new_port, "offline STT sidecar restarted");
                return Some(child);
            }
            Err(e) => warn!(error = %e, "offline STT sidecar restart failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in sidecar: prints LISTENING with the port it was given (or 40000) and sleeps.
    fn fake_script(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("fake_stt.py");
        std::fs::write(&path, body).unwrap();
        path
    }

    const FAKE: &str = r#"
import sys, time
args = sys.argv[1:]
port = int(args[args.index("--port") + 1]) or 40000
print(f"LISTENING {port}", flush=True)
time.sleep(3600)
"#;

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sb-stt-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn python() -> PathBuf {
        PathBuf::from("python3")
    }

    fn process_exists(pid: u32) -> bool {
        // A reaped or killed child: /proc/<pid> is gone or a zombie.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    }

    #[tokio::test]
    async fn starts_reports_url_restarts_and_stops() {
        let dir = tempdir("restart");
        let script = fake_script(&dir, FAKE);
        let sidecar = SttSidecar::start(&python(), &script, None).await.unwrap();
        assert_eq!(sidecar.url(), "ws://127.0.0.1:40000/v1/listen");
        assert_eq!(sidecar.deepgram_config().url, sidecar.url());
        assert!(!sidecar.deepgram_config().api_key.is_empty());
        let pid = sidecar.pid().unwrap();
        assert!(sidecar.is_alive());

        // Kill it behind the supervisor's back: it comes back on the same port.
        std::process::Command::new("kill")
            .arg(pid.to_string())
            .status()
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while sidecar.restarts() == 0 {
            assert!(tokio::time::Instant::now() < deadline, "no restart");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let new_pid = sidecar.pid().unwrap();
        assert_ne!(new_pid, pid);
        assert_eq!(sidecar.port(), 40000);

        sidecar.shutdown().await;
        assert!(!process_exists(new_pid));
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn drop_stops_the_process() {
        let dir = tempdir("drop");
        let script = fake_script(&dir, FAKE);
        let sidecar = SttSidecar::start(&python(), &script, None).await.unwrap();
        let pid = sidecar.pid().unwrap();
        drop(sidecar);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while process_exists(pid) {
            assert!(tokio::time::Instant::now() < deadline, "still running");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn a_sidecar_that_exits_or_hangs_is_an_error() {
        let dir = tempdir("fail");
        let script = fake_script(&dir, "import sys; sys.exit(3)\n");
        let err = SttSidecar::start(&python(), &script, None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("exited before listening"), "{err}");

        let script = fake_script(&dir, "import time; time.sleep(60)\n");
        let err =
            SttSidecar::start_with_timeout(&python(), &script, None, Duration::from_millis(300))
                .await
                .unwrap_err();
        assert!(err.to_string().contains("did not listen"), "{err}");

        let err = SttSidecar::start(&python(), &dir.join("missing.py"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, SttError::NotConfigured(_)), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn find_default_needs_the_venv_and_the_script() {
        let dir = tempdir("find");
        assert!(find_default(&dir).is_none());
        std::fs::create_dir_all(dir.join(".venv/bin")).unwrap();
        std::fs::create_dir_all(dir.join("stt-sidecar")).unwrap();
        std::fs::write(dir.join(".venv/bin/python"), "").unwrap();
        assert!(find_default(&dir).is_none());
        std::fs::write(dir.join("stt-sidecar/switchboard_stt.py"), "").unwrap();
        let (python, script) = find_default(&dir).unwrap();
        assert!(python.ends_with(".venv/bin/python"));
        assert!(script.ends_with("stt-sidecar/switchboard_stt.py"));
        std::fs::remove_dir_all(dir).ok();
    }

    /// The real sidecar (when `.venv` has it and flite is installed) with the unchanged
    /// Deepgram client: a spoken sentence comes back as one end-of-turn transcript.
    #[tokio::test]
    async fn real_sidecar_transcribes_through_the_deepgram_client() {
        use crate::stt::{DeepgramStt, SttEvent, SttOptions, SttProvider};
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let Some((python, script)) = find_default(root) else {
            eprintln!("skipped: no .venv/bin/python with the STT sidecar (scripts/stt.sh)");
            return;
        };
        let dir = tempdir("real");
        let wav = dir.join("say.wav");
        let said = std::process::Command::new("flite")
            .args([
                "-voice",
                "slt",
                "-t",
                "What are your opening hours on Saturday?",
                "-o",
            ])
            .arg(&wav)
            .status();
        if !said.is_ok_and(|s| s.success()) {
            eprintln!("skipped: flite is not installed");
            return;
        }
        let (rate, samples) = crate::wav::read_wav(&wav).unwrap();
        let mut resampler = crate::resample::Resampler::new(rate, 8000).unwrap();
        let mut pcm = Vec::new();
        resampler.process(&samples, &mut pcm);
        resampler.flush(&mut pcm);
        pcm.extend(std::iter::repeat_n(0i16, 8000)); // 1 s of silence ends the turn
        let mut ulaw = Vec::new();
        crate::mulaw::encode(&pcm, &mut ulaw);

        let sidecar = SttSidecar::start(&python, &script, None).await.unwrap();
        let stt = DeepgramStt::new(sidecar.deepgram_config());
        let mut session = stt.start(SttOptions::default()).await.unwrap();
        for frame in ulaw.chunks(160) {
            session.audio.send(frame.to_vec()).await.unwrap();
        }
        let mut events = Vec::new();
        let turn = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(event) = session.events.recv().await {
                events.push(event.clone());
                if let SttEvent::Final {
                    text,
                    end_of_turn: true,
                } = event
                {
                    return text;
                }
            }
            String::new()
        })
        .await
        .expect("no transcript within 30 s");
        assert_eq!(events.first(), Some(&SttEvent::SpeechStarted), "{events:?}");
        let norm = turn.to_lowercase();
        assert!(
            norm.contains("opening hours") && norm.contains("saturday"),
            "{turn:?}"
        );
        drop(session.audio);
        while session.events.recv().await.is_some() {}
        sidecar.shutdown().await;
        std::fs::remove_dir_all(dir).ok();
    }
}
