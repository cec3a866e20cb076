//! The person on a call as a task: it follows its [`PersonScript`], sending what it says and
//! presses into the call as [`Utterance`]s, and waits on its [`Ear`] for quiet.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::person::{Action, Answer, Ear, PersonScript, machine_greeting};
use crate::speech;
use crate::state::{CallEventKind, Shared};

/// What the person sends into the call.
#[derive(Debug, Clone)]
pub(crate) enum Utterance {
    Speech {
        text: Option<String>,
        audio: Vec<u8>,
    },
    Digit(char),
    HangUp,
}

/// A running person: their utterances and their ear.
pub(crate) struct Person {
    pub rx: mpsc::UnboundedReceiver<Utterance>,
    pub ear: Ear,
    task: JoinHandle<()>,
}

impl Drop for Person {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the person of `script` on call `call_sid`, hearing through `ear`.
pub(crate) fn spawn_person(
    shared: &Shared,
    call_sid: &str,
    script: &PersonScript,
    ear: Ear,
) -> Person {
    let (tx, rx) = mpsc::unbounded_channel();
    let mouth = Mouth {
        shared: shared.clone(),
        call_sid: call_sid.to_owned(),
        tx,
    };
    let task = tokio::spawn(run_person(mouth, script.clone(), ear.clone()));
    Person { rx, ear, task }
}

/// How the person's task speaks into the call and logs what it did.
struct Mouth {
    shared: Shared,
    call_sid: String,
    tx: mpsc::UnboundedSender<Utterance>,
}

impl Mouth {
    /// Says `audio` (logged as `said`) and waits while it is being said.
    async fn say(&self, said: String, text: Option<String>, audio: Vec<u8>) {
        let ms = audio.len() as u64 / 8;
        self.shared
            .event(&self.call_sid, CallEventKind::PersonSaid { text: said });
        let _ = self.tx.send(Utterance::Speech { text, audio });
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    async fn press(&self, digits: String) {
        let keys: Vec<char> = digits.chars().collect();
        self.shared
            .event(&self.call_sid, CallEventKind::PersonPressed { digits });
        for d in keys {
            let _ = self.tx.send(Utterance::Digit(d));
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
    }
}

async fn run_person(mouth: Mouth, script: PersonScript, ear: Ear) {
    if let Answer::Machine { greeting_ms } = script.answer {
        // The answering machine's greeting, then the beep.
        let audio = machine_greeting(greeting_ms);
        mouth
            .say("(voicemail greeting and beep)".into(), None, audio)
            .await;
    }
    for action in script.actions {
        if !act(&mouth, &ear, action).await {
            return;
        }
    }
    // Out of actions: stay on the line, silent, until the call ends.
    std::future::pending::<()>().await;
}

/// Does one action; `false` once the person has hung up.
async fn act(mouth: &Mouth, ear: &Ear, action: Action) -> bool {
    match action {
        Action::Say(text) => {
            let audio = speech::speak(&text).await;
            mouth.say(text.clone(), Some(text), audio).await;
        }
        Action::SayAudio { label, mulaw } => {
            let said = format!("({label}: {} ms of audio)", mulaw.len() as u64 / 8);
            mouth.say(said, None, mulaw).await;
        }
        Action::WaitForQuiet {
            quiet_ms,
            timeout_ms,
        } => wait_for_quiet(ear, quiet_ms, timeout_ms).await,
        Action::Digits(digits) => mouth.press(digits).await,
        Action::Pause(ms) => tokio::time::sleep(Duration::from_millis(u64::from(ms))).await,
        Action::HangUp => {
            let _ = mouth.tx.send(Utterance::HangUp);
            return false;
        }
    }
    true
}

/// Waits until the person has heard something since now and it has been quiet for
/// `quiet_ms`, or `timeout_ms` passes.
async fn wait_for_quiet(ear: &Ear, quiet_ms: u32, timeout_ms: u32) {
    let start = Instant::now();
    let deadline = start + Duration::from_millis(u64::from(timeout_ms));
    let quiet = Duration::from_millis(u64::from(quiet_ms));
    let sounds_at_start = ear.state().sounds;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let s = ear.state();
        let heard_something = s.sounds > sounds_at_start || s.busy_until > start;
        if heard_something && now >= s.busy_until + quiet {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_for_sound_then_quiet() {
        let ear = Ear::new();
        let waiter = {
            let ear = ear.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                wait_for_quiet(&ear, 500, 10_000).await;
                start.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(1000)).await;
        ear.hear(&[0x10; 8000]); // 1 s of sound from t = 1 s
        let waited = waiter.await.unwrap();
        // Quiet from t = 2 s; 500 ms of it ends the wait (checked every 20 ms).
        assert!(
            waited >= Duration::from_millis(2500) && waited < Duration::from_millis(2600),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_when_nothing_is_heard() {
        let ear = Ear::new();
        let start = Instant::now();
        wait_for_quiet(&ear, 500, 3000).await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(3000) && waited < Duration::from_millis(3100),
            "{waited:?}"
        );
    }
}
