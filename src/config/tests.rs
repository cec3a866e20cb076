use super::*;

#[test]
fn debug_never_shows_secrets_or_credentials_in_urls() {
    let settings = Settings {
        data_dir: ".data".into(),
        database_url: Secret::new("postgres://app:pw-database@db/switchboard".into()),
        database_migration_url: None,
        redis_url: Some(Secret::new("redis://:pw-redis@cache:6379".into())),
        temporal_address: "127.0.0.1:7233".into(),
        temporal_namespace: "default".into(),
        task_queue: "calls".into(),
        temporal_cli_path: None,
        temporal_ui_port: 8233,
        temporal_ui_url: "http://127.0.0.1:8233".into(),
        api_bind: "127.0.0.1:8080".parse().unwrap(),
        public_url: Url::parse("https://voice.example.com").unwrap(),
        twilio_account_sid: DEV_TWILIO_ACCOUNT_SID.into(),
        twilio_auth_token: Secret::new("pw-auth-token".into()),
        twilio_api_key: Some(("SK0123".into(), Secret::new("pw-key-secret".into()))),
        twilio_api_base: TWILIO_API_BASE.into(),
        twilio_timeout: std::time::Duration::from_secs(15),
        log_json: false,
        jwt_signing_keys: Some("k1:c2VjcmV0LWtleS1zZWNyZXQta2V5LXNlY3JldC1rZXkh".into()),
        jwt_access_ttl: std::time::Duration::from_secs(900),
        refresh_token_ttl: std::time::Duration::from_secs(86_400),
        operator_token: Some("op_secret_operator".into()),
        payload_keys: PayloadKeys::Ring(codec::PayloadCrypto::new(
            codec::KeyRing::parse(&codec::KeyRing::format_entry("k1", &[b'A'; 32])).unwrap(),
        )),
        voice: VoiceSettings {
            openai_realtime: None,
            gemini_live: None,
            deepgram: None,
            tts: None,
            llm: activities::llm::LlmConfig::openai("pw-llm-key", "gpt-4o-mini"),
            offline: false,
            stt_sidecar: None,
        },
        cors_allowed_origins: vec!["https://app.example.com".into()],
        rate_limits: api::rate_limit::RateLimits::default(),
        smtp: None,
        recordings: RecordingsStorage::S3(store::S3Settings {
            bucket: "calls".into(),
            endpoint: Some("http://minio:9000".into()),
            region: "us-east-1".into(),
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some(Secret::new("pw-s3-secret".into())),
        }),
    };
    let shown = format!("{settings:?}");
    assert!(!shown.contains("pw-"), "{shown}");
    assert!(
        !shown.contains("op_secret") && !shown.contains("c2VjcmV0") && !shown.contains("QUFBQUFB"),
        "a key or token shows: {shown}"
    );
    assert!(
        shown.contains("voice.example.com") && shown.contains("SK0123"),
        "{shown}"
    );
}
