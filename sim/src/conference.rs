//! Conferences as the REST API lists them: created by the first `<Dial><Conference>` (or REST
//! participant add) naming them, each live one with its mixer task ([`crate::mixer::task`]).
//! Participants join (`connected`) and leave (`complete`); the conference is `in-progress`
//! once a `startConferenceOnEnter` participant is in and `completed` when nobody is left or an
//! `endConferenceOnExit` participant left. `beep` (`true`/`onEnter`/`onExit`) plays the beep
//! into the mix on join / leave. Conference status callbacks: `conference-start`,
//! `conference-end`, `participant-join`, `participant-leave`.

use domain::CallStatus;
use tokio::sync::mpsc;

use crate::mixer::task::JoinCmd;
use crate::mixer::{ConfOut, MixCmd, spawn_mixer};
use crate::state::{
    API_VERSION, CallCommand, CallEventKind, ConferenceRecord, ConferenceStatus, ParticipantRecord,
    ParticipantStatus, Shared, SimState, new_sid, rfc2822_now,
};
use crate::twiml::ConferenceSpec;
use crate::webhooks::{self, Webhook};

/// How a participant takes part (from `<Conference>` attributes or a REST participant add).
#[derive(Debug, Clone, Default)]
pub(crate) struct Joining {
    pub label: Option<String>,
    pub start_on_enter: bool,
    pub end_on_exit: bool,
    pub muted: bool,
}

/// Tells a conference's mixer about a participant's new state (REST update).
pub(crate) fn update(shared: &Shared, conf_sid: &str, p: &ParticipantRecord) {
    let mix = shared.lock().conference_mixers.get(conf_sid).cloned();
    if let Some(mix) = mix {
        let _ = mix.send(MixCmd::Update {
            call_sid: p.call_sid.clone(),
            muted: p.muted,
            hold: p.hold,
            coach: p.call_sid_to_coach.clone().filter(|_| p.coaching),
        });
    }
}

/// Whether the conference has started (a starter is in).
pub(crate) fn started(shared: &Shared, conf_sid: &str) -> bool {
    let state = shared.lock();
    state
        .conferences
        .iter()
        .find(|c| c.sid == conf_sid)
        .is_some_and(|c| c.status == ConferenceStatus::InProgress)
}

/// The live (not completed) conference named `name`, created if needed; returns its index.
fn live_conference(state: &mut SimState, account: &str, name: &str) -> usize {
    if let Some(i) = state
        .conferences
        .iter()
        .position(|c| c.friendly_name == name && c.status != ConferenceStatus::Completed)
    {
        return i;
    }
    let sid = new_sid("CF");
    let now = rfc2822_now();
    let base = format!("/{API_VERSION}/Accounts/{account}/Conferences/{sid}");
    state.conferences.push(ConferenceRecord {
        account_sid: account.to_owned(),
        date_created: now.clone(),
        date_updated: now,
        api_version: API_VERSION.into(),
        friendly_name: name.to_owned(),
        region: "us1".into(),
        sid: sid.clone(),
        status: ConferenceStatus::Init,
        uri: format!("{base}.json"),
        subresource_uris: serde_json::json!({
            "participants": format!("{base}/Participants.json"),
            "recordings": format!("{base}/Recordings.json"),
        }),
        reason_conference_ended: None,
        call_sid_ending_conference: None,
        participants: Vec::new(),
        status_callback: None,
    });
    let mix = spawn_mixer(&sid);
    state.conference_mixers.insert(sid, mix);
    state.conferences.len() - 1
}

fn new_participant(
    account: &str,
    conf: &ConferenceRecord,
    call_sid: &str,
    joining: &Joining,
    status: ParticipantStatus,
) -> ParticipantRecord {
    let now = rfc2822_now();
    ParticipantRecord {
        account_sid: account.to_owned(),
        call_sid: call_sid.to_owned(),
        label: joining.label.clone(),
        call_sid_to_coach: None,
        coaching: false,
        conference_sid: conf.sid.clone(),
        date_created: now.clone(),
        date_updated: now,
        end_conference_on_exit: joining.end_on_exit,
        muted: joining.muted,
        hold: false,
        start_conference_on_enter: joining.start_on_enter,
        status,
        queue_time: None,
        uri: format!(
            "/{API_VERSION}/Accounts/{account}/Conferences/{}/Participants/{call_sid}.json",
            conf.sid
        ),
    }
}

/// A participant added over REST: listed at once (`queued`) while its call rings.
pub(crate) fn prepare_participant(
    shared: &Shared,
    name: &str,
    call_sid: &str,
    joining: &Joining,
    status_callback: Option<String>,
) -> ParticipantRecord {
    let account = shared.settings.account_sid.clone();
    let record = {
        let mut state = shared.lock();
        let i = live_conference(&mut state, &account, name);
        let conf = &mut state.conferences[i];
        if conf.status_callback.is_none() {
            conf.status_callback = status_callback;
        }
        let p = new_participant(&account, conf, call_sid, joining, ParticipantStatus::Queued);
        conf.participants.push(p.clone());
        p
    };
    shared.bump();
    record
}

/// A call in a conference: the conference, its mixer, what the call hears, its kick signal.
pub(crate) struct Joined {
    pub sid: String,
    pub mix: mpsc::UnboundedSender<MixCmd>,
    pub heard: mpsc::UnboundedReceiver<ConfOut>,
    pub kick: mpsc::UnboundedReceiver<()>,
}

/// The conference's side of a join, decided under the lock.
struct Entered {
    sid: String,
    mix: mpsc::UnboundedSender<MixCmd>,
    me: ParticipantRecord,
    started_now: bool,
    callback: Option<String>,
}

/// Joins the call to the conference (and its mixer).
pub(crate) fn join(shared: &Shared, spec: &ConferenceSpec, call_sid: &str) -> Joined {
    let (kick_tx, kick_rx) = mpsc::unbounded_channel();
    let (heard_tx, heard_rx) = mpsc::unbounded_channel();
    let entered = enter(
        &mut shared.lock(),
        &shared.settings.account_sid,
        spec,
        call_sid,
        kick_tx,
    );
    let Entered {
        sid,
        mix,
        me,
        started_now,
        callback,
    } = entered;
    let beep = spec.beep.to_ascii_lowercase();
    let _ = mix.send(MixCmd::Join(JoinCmd {
        call_sid: call_sid.to_owned(),
        out: heard_tx,
        muted: me.muted,
        hold: me.hold,
        coach: me.call_sid_to_coach.clone().filter(|_| me.coaching),
        beep_on_enter: beep == "true" || beep == "onenter",
        beep_on_exit: beep == "true" || beep == "onexit",
    }));
    if started_now || started(shared, &sid) {
        let _ = mix.send(MixCmd::Started);
    }
    shared.bump();
    shared.event(
        call_sid,
        CallEventKind::Bridge {
            event: "joined-conference".into(),
            detail: format!("{} ({sid})", spec.name),
        },
    );
    let events = if spec.status_callback_event.is_empty() {
        vec!["start".to_owned(), "end".to_owned()]
    } else {
        spec.status_callback_event.clone()
    };
    let cb = callback.as_deref();
    if events.iter().any(|e| e == "join") {
        send_callback(shared, &sid, cb, "participant-join", Some(call_sid));
    }
    if started_now && events.iter().any(|e| e == "start") {
        send_callback(shared, &sid, cb, "conference-start", None);
    }
    store_events(shared, &sid, events);
    Joined {
        sid,
        mix,
        heard: heard_rx,
        kick: kick_rx,
    }
}

/// The participant is `connected` (listed now if it was not yet); the conference starts if a
/// starter is in.
fn enter(
    state: &mut SimState,
    account: &str,
    spec: &ConferenceSpec,
    call_sid: &str,
    kick: mpsc::UnboundedSender<()>,
) -> Entered {
    let i = live_conference(state, account, &spec.name);
    let conf = &mut state.conferences[i];
    if conf.status_callback.is_none() {
        conf.status_callback = spec.status_callback.clone();
    }
    let me = connect_participant(account, conf, spec, call_sid);
    let starts = conf
        .participants
        .iter()
        .any(|p| p.status == ParticipantStatus::Connected && p.start_conference_on_enter);
    let started_now = starts && conf.status == ConferenceStatus::Init;
    if started_now {
        conf.status = ConferenceStatus::InProgress;
        conf.date_updated = rfc2822_now();
    }
    let sid = conf.sid.clone();
    let callback = conf.status_callback.clone();
    let mix = state
        .conference_mixers
        .entry(sid.clone())
        .or_insert_with(|| spawn_mixer(&sid))
        .clone();
    if let Some(slot) = state.call_mut(call_sid) {
        slot.conference_kick = Some(kick);
    }
    Entered {
        sid,
        mix,
        me,
        started_now,
        callback,
    }
}

fn connect_participant(
    account: &str,
    conf: &mut ConferenceRecord,
    spec: &ConferenceSpec,
    call_sid: &str,
) -> ParticipantRecord {
    if let Some(p) = conf
        .participants
        .iter_mut()
        .find(|p| p.call_sid == call_sid)
    {
        p.status = ParticipantStatus::Connected;
        p.date_updated = rfc2822_now();
        return p.clone();
    }
    let joining = Joining {
        label: None,
        start_on_enter: spec.start_conference_on_enter,
        end_on_exit: spec.end_conference_on_exit,
        muted: spec.muted,
    };
    let p = new_participant(
        account,
        conf,
        call_sid,
        &joining,
        ParticipantStatus::Connected,
    );
    conf.participants.push(p.clone());
    p
}

/// Remembers which conference events were asked for (first spec wins).
fn store_events(shared: &Shared, sid: &str, events: Vec<String>) {
    shared
        .lock()
        .conference_events
        .entry(sid.to_owned())
        .or_insert(events);
}

fn send_callback(
    shared: &Shared,
    conf_sid: &str,
    url: Option<&str>,
    event: &str,
    call_sid: Option<&str>,
) {
    let Some(url) = url else { return };
    let (name, seq, p) = {
        let mut state = shared.lock();
        let seq = {
            let n = state.conference_seq.entry(conf_sid.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        let Some(conf) = state.conferences.iter().find(|c| c.sid == conf_sid) else {
            return;
        };
        let p = call_sid.and_then(|c| conf.participants.iter().find(|p| p.call_sid == c).cloned());
        (conf.friendly_name.clone(), seq, p)
    };
    let mut params = vec![
        ("AccountSid".to_owned(), shared.settings.account_sid.clone()),
        ("ConferenceSid".into(), conf_sid.to_owned()),
        ("FriendlyName".into(), name),
        ("StatusCallbackEvent".into(), event.to_owned()),
        ("SequenceNumber".into(), seq.to_string()),
        ("Timestamp".into(), rfc2822_now()),
    ];
    if let Some(p) = p {
        params.extend(participant_params(p));
    }
    let hook = Webhook::post(url, params, &format!("conference:{event}"));
    webhooks::spawn_callback(shared, hook, call_sid);
}

fn participant_params(p: ParticipantRecord) -> Vec<(String, String)> {
    let mut params = vec![
        ("CallSid".to_owned(), p.call_sid),
        ("Muted".into(), p.muted.to_string()),
        ("Hold".into(), p.hold.to_string()),
        ("Coaching".into(), p.coaching.to_string()),
        (
            "EndConferenceOnExit".into(),
            p.end_conference_on_exit.to_string(),
        ),
        (
            "StartConferenceOnEnter".into(),
            p.start_conference_on_enter.to_string(),
        ),
    ];
    if let Some(label) = p.label {
        params.push(("ParticipantLabel".into(), label));
    }
    params
}

/// The conference's side of a leave, decided under the lock.
struct Departed {
    ended: bool,
    callback: Option<String>,
    events: Vec<String>,
    mix: Option<mpsc::UnboundedSender<MixCmd>>,
}

/// The call leaves; the conference ends when nobody is left or an
/// `endConferenceOnExit` participant left.
pub(crate) fn leave(shared: &Shared, conf_sid: &str, call_sid: &str) {
    let Some(departed) = depart(&mut shared.lock(), conf_sid, call_sid) else {
        return;
    };
    let Departed {
        ended,
        callback,
        events,
        mix,
    } = departed;
    if let Some(mix) = &mix {
        let _ = mix.send(MixCmd::Leave {
            call_sid: call_sid.to_owned(),
        });
    }
    shared.bump();
    shared.event(
        call_sid,
        CallEventKind::Bridge {
            event: "left-conference".into(),
            detail: conf_sid.to_owned(),
        },
    );
    let cb = callback.as_deref();
    if events.iter().any(|e| e == "leave") {
        send_callback(shared, conf_sid, cb, "participant-leave", Some(call_sid));
    }
    if ended {
        if let Some(mix) = mix {
            let _ = mix.send(MixCmd::End);
        }
        if events.iter().any(|e| e == "end") {
            send_callback(shared, conf_sid, cb, "conference-end", None);
        }
    }
}

/// The participant is `complete`; `None` when it had already left (or there is no such
/// conference).
fn depart(state: &mut SimState, conf_sid: &str, call_sid: &str) -> Option<Departed> {
    let events = state
        .conference_events
        .get(conf_sid)
        .cloned()
        .unwrap_or_default();
    let mix = state.conference_mixers.get(conf_sid).cloned();
    let conf = state.conferences.iter_mut().find(|c| c.sid == conf_sid)?;
    let mut ends_it = false;
    if let Some(p) = conf
        .participants
        .iter_mut()
        .find(|p| p.call_sid == call_sid)
    {
        if p.status == ParticipantStatus::Complete {
            return None;
        }
        p.status = ParticipantStatus::Complete;
        p.date_updated = rfc2822_now();
        ends_it = p.end_conference_on_exit;
    }
    let remaining = conf
        .participants
        .iter()
        .filter(|p| p.status == ParticipantStatus::Connected)
        .count();
    let ended = conf.status != ConferenceStatus::Completed && (ends_it || remaining == 0);
    if ended {
        end_conference(conf, call_sid, ends_it);
    }
    let callback = conf.status_callback.clone();
    if let Some(slot) = state.call_mut(call_sid) {
        slot.conference_kick = None;
    }
    if ended {
        state.conference_mixers.remove(conf_sid);
    }
    Some(Departed {
        ended,
        callback,
        events,
        mix,
    })
}

fn end_conference(conf: &mut ConferenceRecord, call_sid: &str, by_end_on_exit: bool) {
    conf.status = ConferenceStatus::Completed;
    conf.date_updated = rfc2822_now();
    conf.reason_conference_ended = Some(if by_end_on_exit {
        "participant-with-end-conference-on-exit-left".into()
    } else {
        "last-participant-left".into()
    });
    conf.call_sid_ending_conference = Some(call_sid.to_owned());
}

/// Removes a participant (REST `DELETE`): its call leaves and continues after `<Dial>`.
pub(crate) fn kick(shared: &Shared, conf_sid: &str, call_sid: &str) {
    let kick = shared
        .lock()
        .call(call_sid)
        .and_then(|c| c.conference_kick.clone());
    match kick {
        Some(tx) => {
            let _ = tx.send(());
        }
        None => {
            // Not in the conference yet (still ringing): cancel the call.
            let commands = shared
                .lock()
                .call(call_sid)
                .and_then(|c| c.commands.clone());
            if let Some(tx) = commands {
                let _ = tx.send(CallCommand::Hangup(CallStatus::Canceled));
            }
            leave(shared, conf_sid, call_sid);
        }
    }
}
