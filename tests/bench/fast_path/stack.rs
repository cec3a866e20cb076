//! The stack under measurement: zero-latency fake providers in this process, and
//! `switchboard dev` (a child process, the release binary beside this one unless
//! `SWITCHBOARD_BIN` says otherwise) pointed at them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use switchboard::config::Settings;
use testkit::deepgram::FakeDeepgram;
use testkit::openai_chat::{FakeOpenAiChat, ScriptedReply};
use testkit::openai_tts::FakeOpenAiTts;
use testkit::timing::ModelSpan;
use testkit::{FakeOpenAiRealtime, Script, Step};

/// What the fake models say and hear.
const GREETING: &str = "Thanks for calling Acme Dental.";
const CALLER_SAYS: &str = "I would like an appointment";
const AGENT_SAYS: &str = "Sure.";
/// Audio of each speech-to-speech reply.
const REPLY_MS: u32 = 300;

/// The zero-latency providers.
pub(crate) struct Fakes {
    pub(crate) realtime: FakeOpenAiRealtime,
    pub(crate) deepgram: FakeDeepgram,
    pub(crate) chat: FakeOpenAiChat,
    pub(crate) tts: FakeOpenAiTts,
}

impl Fakes {
    /// Enough script for `turns` caller turns per call and `calls` calls per engine.
    pub(crate) async fn start(calls: usize, turns: usize) -> Self {
        let mut steps = vec![Step::say(GREETING, REPLY_MS)];
        for _ in 0..turns {
            steps.push(Step::await_caller(CALLER_SAYS, 200));
            steps.push(Step::say(AGENT_SAYS, REPLY_MS));
        }
        let n = calls * (turns + 1) * 2;
        Self {
            realtime: FakeOpenAiRealtime::start_keyed(Vec::new(), Some(Script(steps))).await,
            deepgram: FakeDeepgram::start(vec![CALLER_SAYS.to_owned(); n]).await,
            // A new line each turn: the cascaded engine keeps what it has synthesized, and a
            // repeated reply would measure that memory rather than the text-to-speech.
            chat: FakeOpenAiChat::start(
                (0..n)
                    .map(|i| ScriptedReply::Text(format!("{AGENT_SAYS} {i}.")))
                    .collect(),
            )
            .await,
            tts: FakeOpenAiTts::start().await,
        }
    }

    /// Every span of the models' own work so far.
    pub(crate) fn spans(&self) -> Vec<ModelSpan> {
        let mut all = self.realtime.model_spans();
        all.extend(self.deepgram.model_spans());
        all.extend(self.chat.model_spans());
        all.extend(self.tts.model_spans());
        all
    }
}

/// `switchboard dev`, stopped (SIGTERM, so it stops what it started) when dropped.
pub(crate) struct Dev {
    child: Child,
    log: PathBuf,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dev {
    /// Starts `switchboard dev` with this process's settings and the fakes as its providers,
    /// and waits until it is ready.
    pub(crate) async fn start(settings: &Settings, fakes: &Fakes) -> Result<Dev> {
        let bin = match std::env::var_os("SWITCHBOARD_BIN") {
            Some(bin) => PathBuf::from(bin),
            None => std::env::current_exe()?
                .with_file_name("switchboard")
                .with_extension(std::env::consts::EXE_EXTENSION),
        };
        std::fs::create_dir_all(&settings.data_dir)?;
        let log = settings.data_dir.join("bench-dev.log");
        let out = std::fs::File::create(&log)?;
        let child = Command::new(&bin)
            .arg("dev")
            .env("OPENAI_API_KEY", "bench-key")
            .env("OPENAI_REALTIME_URL", fakes.realtime.url())
            .env("DEEPGRAM_API_KEY", "bench-key")
            .env("DEEPGRAM_URL", fakes.deepgram.url())
            .env("TTS_BASE_URL", fakes.tts.base_url())
            .env("LLM_BASE_URL", fakes.chat.base_url())
            .env("OFFLINE_ENGINE", "off")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {} dev", bin.display()))?;
        let mut dev = Dev { child, log };
        dev.wait_ready(settings).await?;
        Ok(dev)
    }

    async fn wait_ready(&mut self, settings: &Settings) -> Result<()> {
        let url = format!("http://{}/readyz", settings.api_bind);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!("switchboard dev exited ({status}): {}", self.log_tail());
            }
            if let Ok(response) = http.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "switchboard dev was not ready in 180 s: {}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "last lines of {}:\n{}",
            self.log.display(),
            lines[lines.len().saturating_sub(20)..].join("\n")
        )
    }
}

/// Sets the demo agent's engine through the REST API, with the demo tenant's API key.
pub(crate) async fn set_demo_engine(settings: &Settings, engine: &str) -> Result<()> {
    let key = std::fs::read_to_string(settings.data_dir.join("demo-api-key"))
        .context("the demo API key `switchboard dev` keeps in its data directory")?;
    let http = reqwest::Client::new();
    let base = format!("http://{}", settings.api_bind);
    let agents: serde_json::Value = http
        .get(format!("{base}/v1/agents"))
        .bearer_auth(key.trim())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = agents["data"][0]["id"]
        .as_str()
        .context("the demo agent in GET /v1/agents")?;
    http.patch(format!("{base}/v1/agents/{id}"))
        .bearer_auth(key.trim())
        .json(&serde_json::json!({ "engine": engine }))
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("PATCH the demo agent's engine to {engine}"))?;
    Ok(())
}
