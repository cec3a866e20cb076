use super::*;
use domain::Secret;

fn json_payload(text: &str) -> Payload {
    Payload {
        metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
        data: format!("{{\"from\":\"+14155550123\",\"said\":\"{text}\"}}").into_bytes(),
        ..Default::default()
    }
}

fn ring(keys: &[(&str, u8)]) -> KeyRing {
    KeyRing::new(
        keys.iter()
            .map(|(kid, byte)| ((*kid).to_owned(), [*byte; KEY_LEN]))
            .collect(),
    )
    .unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_payload_round_trips_and_nothing_of_it_shows_encrypted() {
    let crypto = PayloadCrypto::new(ring(&[("k1", 1)]));
    let original = json_payload("purple elephant");
    let sealed = crypto.encrypt(&original).unwrap();
    assert!(is_encrypted(&sealed));
    assert_eq!(sealed.metadata[KEY_ID_METADATA], b"k1");
    assert!(!sealed.metadata.contains_key("json/plain"));
    assert!(!contains(&sealed.data, "purple elephant"));
    assert!(!contains(&sealed.data, "4155550123"));
    assert!(!contains(&sealed.data, "json/plain"));
    assert_eq!(crypto.decrypt(sealed).unwrap(), original);
}

#[test]
fn each_encryption_uses_a_fresh_nonce() {
    let crypto = PayloadCrypto::new(ring(&[("k1", 1)]));
    let payload = json_payload("same");
    assert_ne!(
        crypto.encrypt(&payload).unwrap().data,
        crypto.encrypt(&payload).unwrap().data
    );
}

#[test]
fn after_rotation_old_payloads_decrypt_and_new_ones_use_the_new_key() {
    let old = PayloadCrypto::new(ring(&[("k1", 1)]));
    let sealed_before = old.encrypt(&json_payload("before")).unwrap();
    let rotated = PayloadCrypto::new(ring(&[("k2", 2), ("k1", 1)]));
    assert_eq!(
        rotated.decrypt(sealed_before).unwrap(),
        json_payload("before")
    );
    let sealed_after = rotated.encrypt(&json_payload("after")).unwrap();
    assert_eq!(sealed_after.metadata[KEY_ID_METADATA], b"k2");
    assert!(matches!(
        old.decrypt(sealed_after),
        Err(CodecError::UnknownKey(kid)) if kid == "k2"
    ));
}

#[test]
fn a_tampered_payload_is_refused() {
    let crypto = PayloadCrypto::new(ring(&[("k1", 1)]));
    let mut sealed = crypto.encrypt(&json_payload("x")).unwrap();
    let last = sealed.data.len() - 1;
    sealed.data[last] ^= 1;
    assert!(matches!(
        crypto.decrypt(sealed),
        Err(CodecError::Decrypt(_))
    ));

    let mut truncated = crypto.encrypt(&json_payload("x")).unwrap();
    truncated.data.truncate(5);
    assert!(matches!(
        crypto.decrypt(truncated),
        Err(CodecError::Decrypt(_))
    ));
}

#[test]
fn a_payload_claiming_another_key_is_refused() {
    let crypto = PayloadCrypto::new(ring(&[("k1", 1), ("k0", 0)]));
    let mut sealed = crypto.encrypt(&json_payload("x")).unwrap();
    sealed
        .metadata
        .insert(KEY_ID_METADATA.into(), b"k0".to_vec());
    assert!(matches!(
        crypto.decrypt(sealed.clone()),
        Err(CodecError::Decrypt(_))
    ));
    sealed.metadata.remove(KEY_ID_METADATA);
    assert!(matches!(
        crypto.decrypt(sealed),
        Err(CodecError::MissingKeyId)
    ));
}

#[test]
fn unencrypted_payloads_pass_through_decoding() {
    let crypto = PayloadCrypto::new(ring(&[("k1", 1)]));
    let plain = json_payload("from before encryption");
    assert_eq!(crypto.decrypt(plain.clone()).unwrap(), plain);
    let empty = Payload::default();
    assert_eq!(crypto.decrypt(empty.clone()).unwrap(), empty);
}

#[test]
fn the_setting_parses_newest_key_first() {
    let k2 = KeyRing::format_entry("k2", &[2; KEY_LEN]);
    let k1 = KeyRing::format_entry("k1", &[1; KEY_LEN]);
    let setting = Secret::new(format!(" {} , {}", k2.expose(), k1.expose()));
    let parsed = KeyRing::parse(&setting).unwrap();
    assert_eq!(parsed.active_key_id(), "k2");
    assert_eq!(parsed.key_ids().collect::<Vec<_>>(), ["k2", "k1"]);
    // Same keys as built directly: what one encrypts, the other decrypts.
    let sealed = PayloadCrypto::new(parsed)
        .encrypt(&json_payload("x"))
        .unwrap();
    let direct = PayloadCrypto::new(ring(&[("k1", 1), ("k2", 2)]));
    assert_eq!(direct.decrypt(sealed).unwrap(), json_payload("x"));
}

#[test]
fn bad_settings_are_refused_without_echoing_the_key() {
    let short = "k1:c2hvcnQ="; // "short"
    for bad in ["", "k1", short, "k1:!!!", ":AAAA", "k 1:AAAA"] {
        let err = KeyRing::parse(&Secret::new(bad.to_owned())).unwrap_err();
        assert!(matches!(err, CodecError::InvalidKeys(_)), "{bad}: {err}");
        assert!(!err.to_string().contains("c2hvcnQ"), "{err}");
    }
    let twice = KeyRing::format_entry("k1", &[1; KEY_LEN]);
    let setting = Secret::new(format!("{0},{0}", twice.expose()));
    assert!(KeyRing::parse(&setting).is_err());
}

#[test]
fn debug_shows_key_ids_not_keys() {
    let entry = KeyRing::format_entry("k1", &[7; KEY_LEN]);
    let key_b64 = entry.expose().split_once(':').unwrap().1.to_owned();
    let crypto = PayloadCrypto::new(KeyRing::parse(&entry).unwrap());
    let shown = format!("{crypto:?} {:?}", crypto.data_converter());
    assert!(shown.contains("k1"), "{shown}");
    assert!(!shown.contains(&key_b64), "{shown}");
    assert!(!shown.contains("7, 7, 7"), "{shown}");
}

#[test]
fn generated_keys_differ() {
    assert_ne!(KeyRing::generate_key(), KeyRing::generate_key());
}

#[tokio::test]
async fn the_sdk_codec_hook_encrypts_and_decrypts() {
    let crypto = PayloadCrypto::new(ring(&[("k1", 1)]));
    let converter = crypto.data_converter();
    let context = SerializationContextData::None;
    let sealed = converter
        .to_payload(&context, &"a caller at +14155550123".to_owned())
        .await
        .unwrap();
    assert!(is_encrypted(&sealed));
    let back: String = converter.from_payload(&context, sealed).await.unwrap();
    assert_eq!(back, "a caller at +14155550123");
}

#[tokio::test]
async fn a_failure_message_is_encrypted_and_reads_back() {
    use temporalio_common::error::{ApplicationFailure, OutgoingActivityError, OutgoingError};
    let crypto = PayloadCrypto::new(ring(&[("k1", 1)]));
    let converter = crypto.data_converter();
    let context = SerializationContextData::None;
    let failure = ApplicationFailure::new(std::io::Error::other("cannot text +14155550123"));
    let error = OutgoingError::Activity(OutgoingActivityError::Application(Box::new(failure)));
    let mut failure = converter.to_failure(&context, error);
    assert!(
        !failure.message.contains("4155550123"),
        "{}",
        failure.message
    );
    // What the worker does before the failure leaves for the server.
    let encoded = failure.encoded_attributes.take().unwrap();
    let sealed = crypto.encrypt(&encoded).unwrap();
    assert!(!contains(&sealed.data, "4155550123"));
    failure.encoded_attributes = Some(sealed);
    assert_eq!(
        failure_message(&converter, &failure).await,
        "cannot text +14155550123"
    );
}
