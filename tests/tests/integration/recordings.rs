//! Call recordings end to end: a call through the simulator is recorded by the media bridge as
//! stereo Ogg/Opus (caller left, agent right), stored, and served to the tenant by byte range;
//! an agent that does not record records nothing and says no disclosure; the purge keeps what
//! the tenant's retention still covers.

use crate::helpers::*;
use crate::permissions::send;
use domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use sim::person::PersonScript;
use std::time::{Duration, Instant};

const OUR_NUMBER: &str = "+15005550006";

fn simulated() -> AppOptions {
    AppOptions {
        sim: Some(sim::FaultConfig::default()),
        ..AppOptions::default()
    }
}

/// A caller who speaks for a moment, hears the (echo) agent say it back, and hangs up.
fn caller() -> PersonScript {
    PersonScript::human()
        .pause(300)
        .say("Hello, I would like an appointment next week please.")
        .wait_quiet_for(800, 15_000)
        .hang_up()
}

/// Places a call and waits for it to end and for its recording (or its absence) to settle.
async fn place_call(app: &TestApp) -> Value {
    let call = app
        .sim
        .as_ref()
        .unwrap()
        .place_inbound_call(CALLER, OUR_NUMBER, caller())
        .unwrap();
    call.wait_ended(Duration::from_secs(90)).await.unwrap();
    app.call_result(call.sid()).await;
    let row = app.wait_for_call_row(call.sid()).await;
    // The recording is written when the stream ends, beside the call's own ending.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, detail) = send(
            app,
            &Method::GET,
            &format!("/v1/calls/{}", row.id),
            Some(&app.api_key),
            None,
        )
        .await;
        assert_eq!(status, 200, "{detail}");
        if !detail["recording"].is_null() || Instant::now() > deadline {
            return detail;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get_bytes(
    app: &TestApp,
    path: &str,
    key: Option<&str>,
    range: Option<&str>,
) -> reqwest::Response {
    let mut request = app.http.get(format!("{}{path}", app.address));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

/// The Ogg pages' packets: (granule position of the page, packets ending on it).
fn ogg_packets(file: &[u8]) -> Vec<(i64, Vec<Vec<u8>>)> {
    let mut pages = Vec::new();
    let mut at = 0;
    let mut partial = Vec::new();
    while at < file.len() {
        assert_eq!(&file[at..at + 4], b"OggS", "a page starts at {at}");
        let granule = i64::from_le_bytes(file[at + 6..at + 14].try_into().unwrap());
        let segments = file[at + 26] as usize;
        let table = &file[at + 27..at + 27 + segments];
        let mut body = at + 27 + segments;
        let mut packets = Vec::new();
        for &lacing in table {
            partial.extend_from_slice(&file[body..body + lacing as usize]);
            body += lacing as usize;
            if lacing < 255 {
                packets.push(std::mem::take(&mut partial));
            }
        }
        pages.push((granule, packets));
        at = body;
    }
    pages
}

/// Root mean square of one channel of interleaved stereo.
fn rms(stereo: &[i16], channel: usize) -> f64 {
    let samples: Vec<f64> = stereo
        .iter()
        .skip(channel)
        .step_by(2)
        .map(|&s| f64::from(s))
        .collect();
    (samples.iter().map(|s| s * s).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

#[tokio::test]
async fn a_call_is_recorded_as_stereo_ogg_opus_and_served_by_byte_range_to_its_tenant_only() {
    let app = spawn_app_with(simulated()).await;
    let detail = place_call(&app).await;
    let recording = &detail["recording"];
    assert!(recording.is_object(), "the call was recorded: {detail}");
    assert_eq!(recording["channels"], 2);
    let url = recording["url"].as_str().unwrap();
    let size = recording["bytes"].as_u64().unwrap();
    let duration_ms = recording["duration_ms"].as_u64().unwrap();
    let call_secs = detail["duration_secs"].as_u64().unwrap_or(0);
    println!(
        "recording: {size} bytes for {duration_ms} ms: {:.0} KB per minute",
        size as f64 / 1024.0 / (duration_ms as f64 / 60_000.0)
    );

    let whole = get_bytes(&app, url, Some(&app.api_key), None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/ogg");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let file = whole.bytes().await.unwrap().to_vec();
    assert_eq!(file.len() as u64, size);

    // A valid Ogg/Opus stream: OpusHead (2 channels, 8 kHz input), OpusTags, then audio whose
    // last granule (48 kHz, less the pre-skip) is the recording's length.
    let pages = ogg_packets(&file);
    let head = &pages[0].1[0];
    assert_eq!(&head[..8], b"OpusHead");
    assert_eq!(head[9], 2, "stereo");
    let pre_skip = u16::from_le_bytes([head[10], head[11]]) as i64;
    assert_eq!(u32::from_le_bytes(head[12..16].try_into().unwrap()), 8_000);
    assert_eq!(&pages[1].1[0][..8], b"OpusTags");
    let last_granule = pages.last().unwrap().0;
    let length_ms = (last_granule - pre_skip) * 1000 / 48_000;
    assert!(
        (length_ms - duration_ms as i64).abs() <= 40,
        "granules say {length_ms} ms, the row {duration_ms} ms"
    );
    assert!(
        length_ms as u64 + 2_000 >= call_secs * 1000,
        "the recording ({length_ms} ms) covers the call ({call_secs} s)"
    );

    // Both sides are there: the caller spoke, and the echo agent said it back.
    let mut decoder = opus::Decoder::new(48_000, opus::Channels::Stereo).unwrap();
    let mut pcm = Vec::new();
    let mut frame = vec![0i16; 2 * 5760];
    for (_, packets) in &pages[2..] {
        for packet in packets {
            let n = decoder.decode(packet, &mut frame, false).unwrap();
            pcm.extend_from_slice(&frame[..2 * n]);
        }
    }
    assert!(
        rms(&pcm, 0) > 100.0,
        "the caller's channel has speech: {}",
        rms(&pcm, 0)
    );
    assert!(
        rms(&pcm, 1) > 100.0,
        "the agent's channel has speech: {}",
        rms(&pcm, 1)
    );

    // Byte ranges, as a player seeking asks for them.
    let part = get_bytes(&app, url, Some(&app.api_key), Some("bytes=100-199")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{size}").as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &file[100..200]);
    let tail = get_bytes(&app, url, Some(&app.api_key), Some("bytes=-10")).await;
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &file[file.len() - 10..]
    );
    let open = get_bytes(
        &app,
        url,
        Some(&app.api_key),
        Some(&format!("bytes={}-", size - 5)),
    )
    .await;
    assert_eq!(open.status(), 206);
    assert_eq!(open.bytes().await.unwrap().len(), 5);
    let beyond = get_bytes(
        &app,
        url,
        Some(&app.api_key),
        Some(&format!("bytes={size}-")),
    )
    .await;
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );

    // Nobody else: no key is 401, another tenant's key 404.
    assert_eq!(get_bytes(&app, url, None, None).await.status(), 401);
    let other = app.store.create_tenant("Someone Else").await.unwrap();
    let other_key = app
        .store
        .create_api_key_with_role(other.id, "owner", Role::Owner)
        .await
        .unwrap()
        .secret
        .into_inner();
    assert_eq!(
        get_bytes(&app, url, Some(&other_key), None).await.status(),
        404
    );
}

#[tokio::test]
async fn an_agent_that_does_not_record_keeps_no_recording() {
    let app = spawn_app_with(simulated()).await;
    let (_, agents) = send(&app, &Method::GET, "/v1/agents", Some(&app.api_key), None).await;
    let agent = agents["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, patched) = send(
        &app,
        &Method::PATCH,
        &format!("/v1/agents/{agent}"),
        Some(&app.api_key),
        Some(&json!({"record_calls": false})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["record_calls"], false);

    let detail = place_call(&app).await;
    assert!(detail["recording"].is_null(), "{detail}");
    let response = get_bytes(
        &app,
        &format!("/v1/calls/{}/recording", detail["id"].as_str().unwrap()),
        Some(&app.api_key),
        None,
    )
    .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_purge_deletes_what_the_tenants_retention_no_longer_covers() {
    let app = spawn_app_with(simulated()).await;
    let detail = place_call(&app).await;
    let url = detail["recording"]["url"]
        .as_str()
        .expect("recorded")
        .to_owned();
    let retention = |days: Option<u32>| {
        let app = &app;
        async move {
            let (status, body) = send(
                app,
                &Method::PATCH,
                "/v1/tenant",
                Some(&app.api_key),
                Some(&json!({"recording_retention_days": days})),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let objects = app.settings.recordings.open().unwrap();
    let in_two_days = chrono::Utc::now() + chrono::Duration::days(2);
    let purge =
        || activities::recordings::purge_expired_recordings(&app.store, &objects, in_two_days);

    // Two days on: kept forever, then for three days, then for one.
    retention(None).await;
    assert_eq!(purge().await.unwrap(), 0);
    retention(Some(3)).await;
    assert_eq!(purge().await.unwrap(), 0);
    assert_eq!(
        get_bytes(&app, &url, Some(&app.api_key), None)
            .await
            .status(),
        200
    );
    retention(Some(1)).await;
    assert_eq!(purge().await.unwrap(), 1);
    assert_eq!(
        get_bytes(&app, &url, Some(&app.api_key), None)
            .await
            .status(),
        404
    );
    assert_eq!(purge().await.unwrap(), 0, "a second purge finds nothing");

    // The worker's retention workflow runs the same purge: a recording made three days ago is
    // deleted by its first pass. Starting it again starts nothing.
    let detail = place_call(&app).await;
    let url = detail["recording"]["url"]
        .as_str()
        .expect("recorded")
        .to_owned();
    backdate_recordings(&app, chrono::Duration::days(3)).await;
    let schedule = workflows::retention::RetentionSchedule {
        every_secs: 3600,
        rounds_per_run: 2,
    };
    let queue = &app.settings.task_queue;
    assert!(
        worker::start_recording_retention(&app.temporal, queue, schedule)
            .await
            .unwrap()
    );
    assert!(
        !worker::start_recording_retention(&app.temporal, queue, schedule)
            .await
            .unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_bytes(&app, &url, Some(&app.api_key), None)
        .await
        .status()
        != 404
    {
        assert!(
            Instant::now() < deadline,
            "the retention workflow purged it"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let purged = app
        .temporal
        .get_workflow_handle::<workflows::RecordingRetentionWorkflow>(
            workflows::retention::workflow_id(queue),
        )
        .query(
            workflows::RecordingRetentionWorkflow::purged,
            (),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(purged, 1);
}

/// Every recording of the app's tenant, made `age` earlier than it was.
async fn backdate_recordings(app: &TestApp, age: chrono::Duration) {
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    use store::entities::recordings;
    let txn = app.store.scoped(app.tenant).await.unwrap();
    let rows = recordings::Entity::find()
        .filter(recordings::Column::TenantId.eq(app.tenant.as_uuid()))
        .all(&txn)
        .await
        .unwrap();
    for row in rows {
        recordings::Entity::update(recordings::ActiveModel {
            id: Set(row.id),
            created_at: Set(row.created_at - age),
            ..Default::default()
        })
        .exec(&txn)
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
}
