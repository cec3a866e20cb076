use super::*;

const SECRET: &str = "wsec_elevenlabs_test";
const NOW: i64 = 1_796_000_000;

fn body() -> Vec<u8> {
    serde_json::json!({
        "type": "post_call_transcription",
        "event_timestamp": NOW,
        "data": {
            "agent_id": "agent_123",
            "conversation_id": "conv_456",
            "status": "done",
            "has_audio": true,
            "transcript": [
                {"role": "agent", "message": "Hi, this is Acme Motors. Could you come in Tuesday at 10?",
                 "time_in_call_secs": 0, "tool_calls": null},
                {"role": "agent", "message": null, "time_in_call_secs": 3,
                 "tool_calls": [{"tool_name": "check_slots"}]},
                {"role": "user", "message": "Tuesday at 10 works.", "time_in_call_secs": 5.5}
            ],
            "metadata": {
                "start_time_unix_secs": NOW - 60,
                "call_duration_secs": 42,
                "cost": 120,
                "phone_call": {"direction": "outbound", "external_number": "+14155550100",
                               "agent_number": "+12125550199", "call_sid": "CA123", "type": "twilio"}
            },
            "analysis": {
                "call_successful": "success",
                "transcript_summary": "Booked Tuesday at 10.",
                "data_collection_results": {
                    "appointment_time": {"data_collection_id": "appointment_time", "value": "10:00",
                                         "rationale": "The customer agreed."}
                },
                "evaluation_criteria_results": {}
            }
        }
    })
    .to_string()
    .into_bytes()
}

#[test]
fn a_signature_made_by_elevenlabs_verifies() {
    let body = body();
    let header = sign(SECRET, NOW, &body);
    assert!(header.starts_with(&format!("t={NOW},v0=")));
    assert_eq!(verify(SECRET, &header, &body, NOW + 5), Ok(()));
}

#[test]
fn a_tampered_body_or_the_wrong_secret_is_a_mismatch() {
    let body = body();
    let header = sign(SECRET, NOW, &body);
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        verify(SECRET, &header, &tampered, NOW),
        Err(SignatureError::Mismatch)
    );
    let other = sign("wsec_someone_else", NOW, &body);
    assert_eq!(
        verify(SECRET, &other, &body, NOW),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_signature_31_minutes_old_or_ahead_is_refused_and_30_minutes_is_accepted() {
    let body = body();
    let header = sign(SECRET, NOW, &body);
    assert_eq!(
        verify(SECRET, &header, &body, NOW + 31 * 60),
        Err(SignatureError::OutsideTolerance { age_secs: 31 * 60 })
    );
    assert_eq!(
        verify(SECRET, &header, &body, NOW - 31 * 60),
        Err(SignatureError::OutsideTolerance { age_secs: -31 * 60 })
    );
    assert_eq!(verify(SECRET, &header, &body, NOW + 30 * 60), Ok(()));
}

#[test]
fn malformed_headers_get_a_typed_error() {
    let body = body();
    let cases = [
        ("", SignatureError::MissingTimestamp),
        ("v0=abcd", SignatureError::MissingTimestamp),
        ("t=soon,v0=abcd", SignatureError::BadTimestamp),
        ("t=1796000000", SignatureError::MissingSignature),
        ("t=1796000000,v1=abcd", SignatureError::MissingSignature),
        ("t=1796000000,v0=xyz", SignatureError::BadSignatureEncoding),
    ];
    for (header, expected) in cases {
        assert_eq!(
            verify(SECRET, header, &body, NOW),
            Err(expected),
            "{header:?}"
        );
    }
}

#[test]
fn the_post_call_payload_reads_with_unknown_fields_and_becomes_segments() {
    let event: WebhookEvent = serde_json::from_slice(&body()).expect("parses");
    let data = event
        .post_call_transcription()
        .expect("is a transcription")
        .expect("valid");
    assert_eq!(data.conversation_id, "conv_456");
    assert_eq!(data.agent_id.as_deref(), Some("agent_123"));
    assert_eq!(data.transcript.len(), 3);
    let phone = data.metadata.phone_call.as_ref().expect("a phone call");
    assert_eq!(phone.call_sid.as_deref(), Some("CA123"));
    let analysis = data.analysis.as_ref().expect("analysis");
    assert_eq!(analysis.call_successful.as_deref(), Some("success"));
    assert_eq!(
        analysis.data_collection_results["appointment_time"].value,
        serde_json::json!("10:00")
    );
    let segments = data.segments();
    assert_eq!(segments.len(), 2, "the tool-only turn is dropped");
    assert_eq!(segments[0].speaker, Speaker::Agent);
    assert_eq!((segments[0].start_ms, segments[0].end_ms), (0, 5500));
    assert_eq!(segments[1].speaker, Speaker::Caller);
    assert_eq!((segments[1].start_ms, segments[1].end_ms), (5500, 42_000));
}

#[test]
fn a_minimal_payload_with_nulls_and_missing_fields_still_reads() {
    let minimal = serde_json::json!({
        "type": "post_call_transcription",
        "data": {"conversation_id": "conv_1", "transcript": null,
                 "analysis": {"data_collection_results": null}}
    });
    let event: WebhookEvent = serde_json::from_value(minimal).expect("parses");
    let data = event
        .post_call_transcription()
        .expect("is a transcription")
        .expect("valid");
    assert!(data.transcript.is_empty());
    assert_eq!(data.metadata, ConversationMetadata::default());
    let other: WebhookEvent =
        serde_json::from_value(serde_json::json!({"type": "voice_removed", "data": {}}))
            .expect("parses");
    assert!(other.post_call_transcription().is_none());
}
