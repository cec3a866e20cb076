//! A client of the simulator's `/_sim/` control API ([`sim::control`]).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use sim::control::{self, EventPage, EventsQuery, PlaceCall, Placed};
use sim::person::PersonScript;
use sim::{CallEvent, CallStatus};

/// The simulator's control API.
pub struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    pub fn new(base: &str) -> Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(70))
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// A simulated person at `from` calls `to`; returns the call's SID.
    pub async fn place(&self, from: &str, to: &str, person: &PersonScript) -> Result<String> {
        let body = PlaceCall {
            from: from.to_owned(),
            to: to.to_owned(),
            person: person.clone(),
        };
        let response = self.post(control::CALLS_PATH, &body, "call").await?;
        Ok(response.json::<Placed>().await?.sid)
    }

    /// Registers the phone at `number`: outbound calls to it are answered (or not) as
    /// `person` says.
    pub async fn register(&self, number: &str, person: &PersonScript) -> Result<()> {
        let body = control::RegisterPhone {
            number: number.to_owned(),
            person: person.clone(),
        };
        self.post(control::PHONES_PATH, &body, "phone").await?;
        Ok(())
    }

    /// POSTs `body` to the control API; a refusal is an error naming `what` was refused.
    async fn post(
        &self,
        path: &str,
        body: &impl serde::Serialize,
        what: &str,
    ) -> Result<reqwest::Response> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .with_context(|| format!("no simulator answers at {}", self.base))?;
        if !response.status().is_success() {
            bail!(
                "the simulator refused the {what}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response)
    }

    /// Events after `after`, waiting up to `wait` for new ones.
    pub async fn events(&self, sid: &str, after: usize, wait: Duration) -> Result<EventPage> {
        let query = EventsQuery {
            after,
            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        };
        Ok(self
            .http
            .get(format!("{}{}", self.base, control::events_path(sid)))
            .query(&query)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// What the person on `sid` heard, as a WAV file.
    pub async fn heard_wav(&self, sid: &str) -> Result<Vec<u8>> {
        Ok(self
            .http
            .get(format!("{}{}", self.base, control::heard_wav_path(sid)))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?
            .to_vec())
    }

    /// Follows the call to its end, handing each event to `each`; returns the final status
    /// and every event.
    pub async fn follow(
        &self,
        sid: &str,
        timeout: Duration,
        mut each: impl FnMut(&CallEvent),
    ) -> Result<(CallStatus, Vec<CallEvent>)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut after = 0;
        let mut all = Vec::new();
        loop {
            let page = self.events(sid, after, Duration::from_secs(5)).await?;
            for event in &page.events {
                each(event);
            }
            after = page.next;
            all.extend(page.events);
            if page.ended {
                return Ok((page.status, all));
            }
            if tokio::time::Instant::now() > deadline {
                bail!("call {sid} still not over after {timeout:?}");
            }
        }
    }
}
