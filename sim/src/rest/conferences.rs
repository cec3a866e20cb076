//! `Conferences.json`, `Conferences/{Sid}.json` and their `Participants`.
//!
//! Conferences come into being when a call runs `<Dial><Conference>` (or a participant is
//! added by name); `crate::conference` keeps their participants. Adding a participant over REST places
//! an outbound call (`From`, `To`, status callbacks, `Timeout`, AMD) whose TwiML joins the
//! conference; it is listed at once with status `queued` → `connected` once it answers.
//! `Participants/{CallSid or Label}.json` can be fetched, updated (`Hold`, `HoldUrl`, `Muted`,
//! `Coaching`, `CallSidToCoach`, `Label`…) and deleted (the call leaves the conference and
//! continues after its `<Dial>`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse as _;

use super::{
    ApiError, ApiResult, Form, Query, Resource, account_path, created, list_page, method_param, ok,
    page, to_param, valid_url,
};
use crate::call::{self, DocSource, OutboundRequest};
use crate::conference::{self, Joining};
use crate::state::{
    CallEventKind, ConferenceRecord, ConferenceStatus, ParticipantRecord, ParticipantStatus,
    Shared, SimState, rfc2822_now,
};
use telephony::twiml::escape_xml as escape;

pub(crate) async fn list(State(shared): State<Shared>, uri: Uri) -> ApiResult {
    let query = Query::parse(uri.query());
    let (name, status) = (query.get("FriendlyName"), query.get("Status"));
    let conferences: Vec<ConferenceRecord> = shared
        .lock()
        .conferences
        .iter()
        .rev()
        .filter(|c| name.as_ref().is_none_or(|n| &c.friendly_name == n))
        .filter(|c| status.as_ref().is_none_or(|s| c.status.as_str() == s))
        .cloned()
        .collect();
    list_page(&shared, "conferences", "Conferences", &query, conferences)
}

/// A conference by SID, or (for adding participants) by friendly name.
fn find_conference<'a>(state: &'a SimState, id: &str) -> Option<&'a ConferenceRecord> {
    state
        .conferences
        .iter()
        .rev()
        .find(|c| c.sid == id)
        .or_else(|| {
            state
                .conferences
                .iter()
                .rev()
                .find(|c| c.friendly_name == id && c.status != ConferenceStatus::Completed)
        })
}

pub(crate) async fn fetch(State(shared): State<Shared>, conference: Resource) -> ApiResult {
    let state = shared.lock();
    conference.found(state.conferences.iter().find(|c| c.sid == conference.sid))
}

pub(crate) async fn list_participants(
    State(shared): State<Shared>,
    Path((_, sid)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let query = Query::parse(uri.query());
    let (muted, hold, coaching) = (query.get("Muted"), query.get("Hold"), query.get("Coaching"));
    let flag = |want: &Option<String>, have: bool| {
        want.as_ref()
            .is_none_or(|w| w.eq_ignore_ascii_case(if have { "true" } else { "false" }))
    };
    let participants: Vec<ParticipantRecord> = {
        let state = shared.lock();
        let conference = state
            .conferences
            .iter()
            .find(|c| c.sid == sid)
            .ok_or_else(|| ApiError::not_found(uri.path()))?;
        conference
            .participants
            .iter()
            .filter(|p| p.status != ParticipantStatus::Complete)
            .filter(|p| flag(&muted, p.muted) && flag(&hold, p.hold) && flag(&coaching, p.coaching))
            .cloned()
            .collect()
    };
    page("participants", uri.path(), &query, participants)
}

/// `POST Participants.json`: dial `To` from `From` into the conference.
pub(crate) async fn add_participant(
    State(shared): State<Shared>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let form = Form::parse(&body)?;
    let from = form
        .get("From")
        .ok_or_else(|| ApiError::bad(21603, "A 'From' phone number is required."))?;
    let to = to_param(
        &form,
        ApiError::bad(21604, "A 'To' phone number is required."),
    )?;
    let status_callback = form.status_callback()?;
    let joining = Joining {
        label: form.get("Label").map(str::to_owned),
        start_on_enter: form.bool("StartConferenceOnEnter")?.unwrap_or(true),
        end_on_exit: form.bool("EndConferenceOnExit")?.unwrap_or(false),
        muted: form.bool("Muted")?.unwrap_or(false),
    };
    let name = conference_name(&shared, &id)?;
    let mut events = form.list("StatusCallbackEvent", &[' ']);
    if events.is_empty() {
        events.push("completed".into());
    }
    let timeout_secs = form
        .get("Timeout")
        .and_then(|t| t.parse().ok())
        .unwrap_or(60u32)
        .clamp(5, 600);
    let request = OutboundRequest {
        to: to.to_owned(),
        from: from.to_owned(),
        doc: DocSource::Twiml(join_twiml(&form, &name, &joining)),
        status_callback,
        status_callback_method: method_param(&form, "StatusCallbackMethod")?,
        status_callback_events: events,
        machine_detection: form.get("MachineDetection").map(str::to_owned),
        async_amd: false,
        async_amd_callback: None,
        async_amd_callback_method: "POST".into(),
        timeout_secs,
        parent_call_sid: None,
        direction: "outbound-api".into(),
    };
    let call = call::spawn_outbound(&shared, request);
    let conference_cb = form.get("ConferenceStatusCallback").map(str::to_owned);
    let participant =
        conference::prepare_participant(&shared, &name, &call.sid, &joining, conference_cb);
    Ok(created(&participant))
}

/// The conference name: an existing conference's, or the path's when it is a name.
fn conference_name(shared: &Shared, id: &str) -> Result<String, ApiError> {
    let state = shared.lock();
    match find_conference(&state, id) {
        Some(c) => Ok(c.friendly_name.clone()),
        None if id.starts_with("CF") && id.len() == 34 => Err(ApiError::not_found(&format!(
            "{}/Conferences/{id}/Participants.json",
            account_path(&shared.settings.account_sid)
        ))),
        None => Ok(id.to_owned()),
    }
}

/// The TwiML that puts the participant's call into the conference.
fn join_twiml(form: &Form, name: &str, joining: &Joining) -> String {
    let beep = form.get("Beep").unwrap_or("true");
    let mut attrs = format!(
        " startConferenceOnEnter=\"{}\" endConferenceOnExit=\"{}\" muted=\"{}\" beep=\"{}\"",
        joining.start_on_enter,
        joining.end_on_exit,
        joining.muted,
        escape(beep)
    );
    if let Some(cb) = form.get("ConferenceStatusCallback") {
        attrs.push_str(&format!(" statusCallback=\"{}\"", escape(cb)));
        let events = form.all("ConferenceStatusCallbackEvent").join(" ");
        if !events.is_empty() {
            attrs.push_str(&format!(" statusCallbackEvent=\"{}\"", escape(&events)));
        }
    }
    if let Some(wait) = form.get("WaitUrl") {
        attrs.push_str(&format!(" waitUrl=\"{}\"", escape(wait)));
    }
    format!(
        "<Response><Dial><Conference{attrs}>{}</Conference></Dial></Response>",
        escape(name)
    )
}

/// Finds a participant by call SID or label; returns (conference index, participant index).
fn locate(state: &SimState, conference_sid: &str, id: &str) -> Option<(usize, usize)> {
    let ci = state
        .conferences
        .iter()
        .position(|c| c.sid == conference_sid)?;
    let pi = state.conferences[ci]
        .participants
        .iter()
        .position(|p| p.call_sid == id || p.label.as_deref() == Some(id))?;
    Some((ci, pi))
}

pub(crate) async fn fetch_participant(
    State(shared): State<Shared>,
    Path((_, sid, _)): Path<(String, String, String)>,
    participant: Resource,
) -> ApiResult {
    let id = participant.sid.as_str();
    let state = shared.lock();
    let (ci, pi) = locate(&state, &sid, id).ok_or_else(|| participant.not_found())?;
    Ok(ok(&state.conferences[ci].participants[pi]))
}

pub(crate) async fn update_participant(
    State(shared): State<Shared>,
    Path((_, sid, _)): Path<(String, String, String)>,
    participant: Resource,
    body: Bytes,
) -> ApiResult {
    let id = participant.sid.as_str();
    let form = Form::parse(&body)?;
    let change = ParticipantChange::of(&form)?;
    let participant = {
        let mut state = shared.lock();
        let (ci, pi) = locate(&state, &sid, id).ok_or_else(|| participant.not_found())?;
        if change.coaching == Some(true) {
            check_coachee(&state.conferences[ci], &form)?;
        }
        let p = &mut state.conferences[ci].participants[pi];
        change.apply(p, &form);
        p.clone()
    };
    shared.bump();
    conference::update(&shared, &participant.conference_sid, &participant);
    if participant.hold
        && let Some(url) = form.get("HoldUrl")
    {
        // The mixer plays its built-in hold music whatever the HoldUrl serves.
        shared.event(
            &participant.call_sid,
            CallEventKind::CallPlayed {
                what: format!("hold music ({url})"),
                ms: 0,
            },
        );
    }
    shared.event(
        &participant.call_sid,
        CallEventKind::Bridge {
            event: "participant-updated".into(),
            detail: format!(
                "hold={} muted={} coaching={}",
                participant.hold, participant.muted, participant.coaching
            ),
        },
    );
    Ok(ok(&participant))
}

/// What a participant update changes (validated before anything is).
struct ParticipantChange {
    hold: Option<bool>,
    muted: Option<bool>,
    coaching: Option<bool>,
    end_on_exit: Option<bool>,
}

impl ParticipantChange {
    fn of(form: &Form) -> Result<Self, ApiError> {
        let change = Self {
            hold: form.bool("Hold")?,
            muted: form.bool("Muted")?,
            coaching: form.bool("Coaching")?,
            end_on_exit: form.bool("EndConferenceOnExit")?,
        };
        if let Some(url) = form.get("HoldUrl")
            && !valid_url(url)
        {
            return Err(ApiError::bad(21205, format!("Invalid HoldUrl: {url}")));
        }
        Ok(change)
    }

    fn apply(&self, p: &mut ParticipantRecord, form: &Form) {
        if let Some(h) = self.hold {
            p.hold = h;
        }
        if let Some(m) = self.muted {
            p.muted = m;
        }
        if let Some(c) = self.coaching {
            p.coaching = c;
            p.call_sid_to_coach = if c {
                form.get("CallSidToCoach").map(str::to_owned)
            } else {
                None
            };
        }
        if let Some(label) = form.get("Label") {
            p.label = Some(label.to_owned());
        }
        if let Some(end) = self.end_on_exit {
            p.end_conference_on_exit = end;
        }
        p.date_updated = rfc2822_now();
    }
}

/// `Coaching=true` needs a `CallSidToCoach` who is in the conference.
fn check_coachee(conf: &ConferenceRecord, form: &Form) -> Result<(), ApiError> {
    let target = form
        .get("CallSidToCoach")
        .ok_or_else(|| ApiError::bad(21626, "CallSidToCoach is required when Coaching is true"))?;
    if !conf.participants.iter().any(|p| p.call_sid == target) {
        return Err(ApiError::bad(
            21626,
            format!("CallSidToCoach {target} is not a participant"),
        ));
    }
    Ok(())
}

pub(crate) async fn remove_participant(
    State(shared): State<Shared>,
    Path((_, sid, _)): Path<(String, String, String)>,
    participant: Resource,
) -> ApiResult {
    let id = participant.sid.as_str();
    let call_sid = {
        let state = shared.lock();
        let (ci, pi) = locate(&state, &sid, id).ok_or_else(|| participant.not_found())?;
        let p = &state.conferences[ci].participants[pi];
        if p.status == ParticipantStatus::Complete {
            return Err(participant.not_found());
        }
        p.call_sid.clone()
    };
    conference::kick(&shared, &sid, &call_sid);
    Ok(StatusCode::NO_CONTENT.into_response())
}
