//! `switchboard sim campaign`: an outbound campaign end to end against a running product and
//! simulator, with no API key for any model — the offline engine's rule dialog runs the
//! script.
//!
//! It registers a population of scripted recipients with the simulator (people who book
//! Tuesday at ten, ask not to be called again, or decline; a busy line, a phone nobody answers,
//! an answering machine), creates a script and a campaign for the first agent through the REST
//! API, uploads the recipients as CSV (in a time zone whose calling window is open now),
//! starts it, prints its progress, and ends with the targets by state, the appointments booked
//! and the do-not-call entries added.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use domain::campaign::CallingWindow;
use serde_json::{Value, json};
use sim::person::PersonScript;

use super::args::CampaignArgs;
use super::call::api_key_or_demo;
use super::client::Control;

/// What one kind of recipient does when called.
struct Kind {
    name: &'static str,
    phone: fn() -> PersonScript,
}

/// A person who answers, waits for the agent, and says `lines` one turn at a time.
fn person(lines: &[&str]) -> PersonScript {
    let mut script = PersonScript::human().answer_after(1_000);
    for line in lines {
        script = script.wait_quiet_for(800, 20_000).say(line);
    }
    script.wait_quiet_for(1_500, 20_000).hang_up()
}

const KINDS: [Kind; 6] = [
    Kind {
        name: "Booker",
        phone: || person(&["Yes, this is me.", "Tuesday at ten works for me."]),
    },
    Kind {
        name: "Stopper",
        phone: || person(&["Yes.", "Please stop calling me. Don't call me again."]),
    },
    Kind {
        name: "Decliner",
        phone: || person(&["Yes, speaking.", "No thanks, I'm not interested."]),
    },
    Kind {
        name: "Busy",
        phone: PersonScript::busy,
    },
    Kind {
        name: "Nobody",
        phone: PersonScript::no_answer,
    },
    Kind {
        name: "Machine",
        phone: || PersonScript::machine(2_000),
    },
];

/// The product's REST API with a bearer key.
pub struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    pub fn new(base: &str, key: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            key,
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("no Switchboard API answers at {}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {body}");
        }
        Ok(body)
    }
}

pub async fn campaign(args: CampaignArgs) -> Result<()> {
    let key = api_key_or_demo(args.api_key.as_deref())
        .context("pass --api-key (or run `switchboard dev`, which keeps a demo key)")?;
    let api = Api::new(&args.api, key);
    let sim = Control::new(&args.sim)?;
    let zone = CallingWindow::default()
        .a_zone_open_now(Utc::now(), chrono::Duration::minutes(30))
        .context("no zone is inside its calling window for the next half hour")?;
    let mut csv = String::from("Name,Phone,Time Zone\n");
    for (k, kind) in KINDS.iter().enumerate() {
        for i in 0..args.each {
            let number = format!("+1415555{:04}", 100 + k * 10 + i);
            sim.register(&number, &(kind.phone)()).await?;
            csv.push_str(&format!(
                "{} {},{number},{}\n",
                kind.name,
                i + 1,
                zone.name()
            ));
        }
    }
    let settings = json!({"concurrency": args.concurrency, "ring_timeout_secs": 10,
        "retry": {"max_attempts": 2, "busy_secs": 30, "no_answer_secs": 30}});
    let id = create(&api, settings, csv).await?;
    println!(
        "campaign {id}: {} recipients in {zone}",
        args.each * KINDS.len()
    );
    api.call(
        reqwest::Method::POST,
        &format!("/v1/campaigns/{id}/start"),
        None,
    )
    .await?;
    let done = follow(&api, &id, Duration::from_secs(args.timeout_secs)).await?;
    summarise(&api, &done).await
}

/// The script, the campaign (with `settings`) and its uploaded targets; the campaign's id.
pub async fn create(api: &Api, settings: Value, csv: String) -> Result<String> {
    let agents = api.call(reqwest::Method::GET, "/v1/agents", None).await?;
    let agent = agents["data"][0]["id"]
        .as_str()
        .context("the tenant has no agent")?
        .to_owned();
    let script = api
        .call(
            reqwest::Method::POST,
            "/v1/scripts",
            Some(json!({"name": "Service reminder", "goal": "It is time for your yearly check-up, and we would like to book it.",
                "opening": "Hi {name}, this is Acme Dental calling about your check-up.",
                "voicemail_message": "Hi {name}, Acme Dental here about your check-up. Please call us back."})),
        )
        .await?;
    let campaign = api
        .call(
            reqwest::Method::POST,
            "/v1/campaigns",
            Some(
                json!({"name": format!("Simulated campaign {}", Utc::now().format("%H:%M:%S")),
                "agent_id": agent, "script_id": script["id"], "settings": settings}),
            ),
        )
        .await?;
    let id = campaign["id"].as_str().context("a campaign id")?.to_owned();
    let report: Value = api
        .http
        .post(format!("{}/v1/campaigns/{id}/targets", api.base))
        .bearer_auth(&api.key)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?
        .json()
        .await?;
    println!(
        "targets: {} added, {} rejected",
        report["added"], report["rejected_total"]
    );
    Ok(id)
}

/// Prints progress until the campaign is completed or canceled; its last progress.
pub async fn follow(api: &Api, id: &str, timeout: Duration) -> Result<Value> {
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let progress = api
            .call(
                reqwest::Method::GET,
                &format!("/v1/campaigns/{id}/progress"),
                None,
            )
            .await?;
        let targets: BTreeMap<String, u64> =
            serde_json::from_value(progress["targets"].clone()).unwrap_or_default();
        let line = format!(
            "{:>5.0} s  {:<9} live {}  targets {}",
            started.elapsed().as_secs_f64(),
            progress["status"].as_str().unwrap_or("?"),
            progress["workflow"]["live"].as_u64().unwrap_or(0),
            targets
                .iter()
                .map(|(state, n)| format!("{state} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if line[8..] != *last.get(8..).unwrap_or("") {
            println!("{line}");
            last = line;
        }
        if matches!(progress["status"].as_str(), Some("completed" | "canceled")) {
            return Ok(progress);
        }
        if started.elapsed() > timeout {
            bail!("the campaign did not finish within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn summarise(api: &Api, done: &Value) -> Result<()> {
    let appointments = api
        .call(reqwest::Method::GET, "/v1/appointments?limit=100", None)
        .await?;
    let dnc = api
        .call(reqwest::Method::GET, "/v1/dnc?limit=100", None)
        .await?;
    println!();
    println!("campaign {}: {}", done["status"], done["targets"]);
    for a in appointments["data"].as_array().into_iter().flatten() {
        println!("  appointment {} ({})", a["starts_at"], a["time_zone"]);
    }
    let listed = dnc["data"].as_array().map_or(0, Vec::len);
    println!("  do-not-call entries: {listed}");
    Ok(())
}
