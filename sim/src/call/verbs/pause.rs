//! `<Pause>`: silence for `length` seconds.

use std::time::Duration;

use tokio::time::Instant;

use crate::call::person::Utterance;
use crate::call::{CallRun, Step};
use crate::twiml::Pause;

pub(crate) async fn run(
    call: &mut CallRun,
    pause: &Pause,
    barge_in: bool,
) -> Step<Option<Utterance>> {
    let deadline = Instant::now() + Duration::from_secs(u64::from(pause.length_secs));
    call.listen_until(deadline, barge_in).await
}
