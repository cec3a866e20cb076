use super::*;
use telephony::twiml::{StreamParameter, TwiML};

fn one(xml: &str) -> Verb {
    let mut verbs = parse(xml).expect("valid TwiML");
    assert_eq!(verbs.len(), 1, "{verbs:?}");
    verbs.remove(0)
}

fn resp(body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{body}</Response>")
}

#[test]
fn empty_response_is_no_verbs() {
    assert_eq!(parse("<Response/>").unwrap(), vec![]);
    assert_eq!(parse(&resp("\n  <!-- nothing -->\n")).unwrap(), vec![]);
}

#[test]
fn say_defaults_and_attributes() {
    assert_eq!(
        one(&resp("<Say>Hello there</Say>")),
        Verb::Say(Say {
            text: "Hello there".into(),
            voice: None,
            language: None,
            loop_count: 1
        })
    );
    assert_eq!(
        one(&resp(
            r#"<Say voice="Polly.Joanna" language="en-US" loop="0">Hi</Say>"#
        )),
        Verb::Say(Say {
            text: "Hi".into(),
            voice: Some("Polly.Joanna".into()),
            language: Some("en-US".into()),
            loop_count: 0
        })
    );
}

#[test]
fn say_resolves_entities_cdata_and_ssml_text() {
    let v = one(&resp(
        "<Say>Tom &amp; Jerry&apos;s <![CDATA[<shop> & more]]></Say>",
    ));
    assert!(matches!(v, Verb::Say(Say { ref text, .. }) if text == "Tom & Jerry's <shop> & more"));
    let v = one(&resp(
        r#"<Say>Hello <break time="1s"/><prosody rate="slow">world</prosody></Say>"#,
    ));
    assert!(matches!(v, Verb::Say(Say { ref text, .. }) if text == "Hello world"));
}

#[test]
fn play_url_digits_and_loop() {
    assert_eq!(
        one(&resp("<Play loop=\"3\">https://example.com/a.mp3</Play>")),
        Verb::Play(Play {
            url: Some("https://example.com/a.mp3".into()),
            loop_count: 3,
            digits: None
        })
    );
    assert_eq!(
        one(&resp(r#"<Play digits="ww1234#"/>"#)),
        Verb::Play(Play {
            url: None,
            loop_count: 1,
            digits: Some("ww1234#".into())
        })
    );
    assert_eq!(parse(&resp("<Play/>")).unwrap_err().code(), 12200);
    assert_eq!(
        parse(&resp(r#"<Play digits="12x"/>"#)).unwrap_err().code(),
        12200
    );
}

#[test]
fn pause_default_and_length() {
    assert_eq!(
        one(&resp("<Pause/>")),
        Verb::Pause(Pause { length_secs: 1 })
    );
    assert_eq!(
        one(&resp(r#"<Pause length="7"/>"#)),
        Verb::Pause(Pause { length_secs: 7 })
    );
}

#[test]
fn gather_defaults() {
    assert_eq!(
        one(&resp("<Gather/>")),
        Verb::Gather(Gather {
            input: vec![GatherInput::Dtmf],
            timeout_secs: 5,
            num_digits: None,
            finish_on_key: "#".into(),
            action: None,
            method: "POST".into(),
            speech_timeout: None,
            action_on_empty_result: false,
            nested: vec![],
        })
    );
}

#[test]
fn gather_with_nested_prompts_and_attributes() {
    let v = one(&resp(
        r#"<Gather input="speech dtmf" timeout="3" numDigits="1" finishOnKey=""
             action="/menu?x=1&amp;y=2" method="get" speechTimeout="auto"
             actionOnEmptyResult="true">
             <Say>Press one</Say><Pause length="2"/><Play>https://e.com/b.wav</Play>
           </Gather>"#,
    ));
    let Verb::Gather(Gather {
        input,
        timeout_secs,
        num_digits,
        finish_on_key,
        action,
        method,
        speech_timeout,
        action_on_empty_result,
        nested,
    }) = v
    else {
        panic!("not a gather: {v:?}");
    };
    assert_eq!(input, vec![GatherInput::Speech, GatherInput::Dtmf]);
    assert_eq!(timeout_secs, 3);
    assert_eq!(num_digits, Some(1));
    assert_eq!(finish_on_key, "");
    assert_eq!(action.as_deref(), Some("/menu?x=1&y=2"));
    assert_eq!(method, "GET");
    assert_eq!(speech_timeout.as_deref(), Some("auto"));
    assert!(action_on_empty_result);
    assert_eq!(
        nested.iter().map(Verb::name).collect::<Vec<_>>(),
        ["Say", "Pause", "Play"]
    );
}

#[test]
fn gather_refuses_other_nested_verbs_and_bad_input() {
    let e = parse(&resp("<Gather><Dial>+15551234567</Dial></Gather>")).unwrap_err();
    assert_eq!(e.code(), 12200);
    assert!(e.message().contains("Gather"), "{e}");
    let e = parse(&resp("<Gather><Gather/></Gather>")).unwrap_err();
    assert_eq!(e.code(), 12200);
    let e = parse(&resp(r#"<Gather input="telepathy"/>"#)).unwrap_err();
    assert_eq!(e.code(), 12200);
}

#[test]
fn dial_bare_number_with_defaults() {
    assert_eq!(
        one(&resp("<Dial> +15551234567 </Dial>")),
        Verb::Dial(Dial {
            target: DialTarget::Number(vec![DialNumber {
                number: "+15551234567".into(),
                url: None,
                status_callback: None,
                status_callback_event: vec![],
            }]),
            action: None,
            method: "POST".into(),
            timeout_secs: 30,
            caller_id: None,
            record: None,
            time_limit_secs: None,
            hangup_on_star: false,
        })
    );
}

#[test]
fn dial_numbers_with_attributes() {
    let v = one(&resp(
        r#"<Dial action="/dialed" method="GET" timeout="20" callerId="+15550000000"
              record="record-from-answer" timeLimit="600" hangupOnStar="true">
             <Number url="/whisper" statusCallback="/st"
                     statusCallbackEvent="initiated ringing answered completed">+15551111111</Number>
             <Number>+15552222222</Number>
           </Dial>"#,
    ));
    let Verb::Dial(Dial {
        target: DialTarget::Number(numbers),
        action,
        method,
        timeout_secs,
        caller_id,
        record,
        time_limit_secs,
        hangup_on_star,
    }) = v
    else {
        panic!("not a dial of numbers: {v:?}");
    };
    assert_eq!(numbers.len(), 2);
    assert_eq!(numbers[0].number, "+15551111111");
    assert_eq!(numbers[0].url.as_deref(), Some("/whisper"));
    assert_eq!(numbers[0].status_callback.as_deref(), Some("/st"));
    assert_eq!(
        numbers[0].status_callback_event,
        ["initiated", "ringing", "answered", "completed"]
    );
    assert_eq!(numbers[1].number, "+15552222222");
    assert_eq!(action.as_deref(), Some("/dialed"));
    assert_eq!(method, "GET");
    assert_eq!(timeout_secs, 20);
    assert_eq!(caller_id.as_deref(), Some("+15550000000"));
    assert_eq!(record.as_deref(), Some("record-from-answer"));
    assert_eq!(time_limit_secs, Some(600));
    assert!(hangup_on_star);
}

#[test]
fn dial_conference_defaults_and_attributes() {
    let v = one(&resp("<Dial><Conference>Room 1</Conference></Dial>"));
    assert!(matches!(
        v,
        Verb::Dial(Dial { target: DialTarget::Conference(ConferenceSpec {
            ref name, wait_url: None, start_conference_on_enter: true,
            end_conference_on_exit: false, ref beep, muted: false, .. }), .. })
        if name == "Room 1" && beep == "true"
    ));
    let v = one(&resp(
        r#"<Dial><Conference waitUrl="" startConferenceOnEnter="false"
             endConferenceOnExit="true" beep="onExit" muted="true"
             statusCallback="/conf" statusCallbackEvent="start end join leave">support</Conference></Dial>"#,
    ));
    let Verb::Dial(Dial {
        target: DialTarget::Conference(c),
        ..
    }) = v
    else {
        panic!("not a conference: {v:?}");
    };
    assert_eq!(c.wait_url.as_deref(), Some(""));
    assert!(!c.start_conference_on_enter);
    assert!(c.end_conference_on_exit);
    assert_eq!(c.beep, "onExit");
    assert!(c.muted);
    assert_eq!(c.status_callback.as_deref(), Some("/conf"));
    assert_eq!(c.status_callback_event, ["start", "end", "join", "leave"]);
    let e = parse(&resp(
        r#"<Dial><Conference beep="loud">x</Conference></Dial>"#,
    ))
    .unwrap_err();
    assert_eq!(e.code(), 12200);
}

#[test]
fn dial_client_and_sip() {
    assert!(matches!(
        one(&resp("<Dial><Client>agent_7</Client></Dial>")),
        Verb::Dial(Dial { target: DialTarget::Client(ref c), .. }) if c == "agent_7"
    ));
    assert!(matches!(
        one(&resp("<Dial><Sip>sip:bob@example.com</Sip></Dial>")),
        Verb::Dial(Dial { target: DialTarget::Sip(ref s), .. }) if s == "sip:bob@example.com"
    ));
}

#[test]
fn dial_refuses_empty_mixed_and_unknown_targets() {
    for body in [
        "<Dial/>",
        "<Dial>+1555<Client>x</Client></Dial>",
        "<Dial><Number>+1</Number><Conference>c</Conference></Dial>",
        "<Dial><Say>hi</Say></Dial>",
        r#"<Dial timeout="soon">+1555</Dial>"#,
        r#"<Dial hangupOnStar="yes">+1555</Dial>"#,
        r#"<Dial method="PUT">+1555</Dial>"#,
    ] {
        let e = parse(&resp(body)).unwrap_err();
        assert_eq!(e.code(), 12200, "{body}: {e}");
    }
    assert_eq!(
        parse(&resp("<Dial><Queue>q</Queue></Dial>")).unwrap_err(),
        TwimlError::Unsupported("Queue".into())
    );
}

#[test]
fn connect_stream_with_parameters() {
    let v = one(&resp(
        r#"<Connect><Stream url="wss://h/twilio/media" name="s1" track="inbound_track"
             statusCallback="/ss" statusCallbackMethod="GET">
             <Parameter name="a" value="1"/><Parameter name="b" value="x &amp; y"/>
           </Stream></Connect>"#,
    ));
    assert_eq!(
        v,
        Verb::Connect(Connect {
            stream: Some(StreamSpec {
                url: "wss://h/twilio/media".into(),
                name: Some("s1".into()),
                track: Some("inbound_track".into()),
                status_callback: Some("/ss".into()),
                status_callback_method: "GET".into(),
                parameters: vec![("a".into(), "1".into()), ("b".into(), "x & y".into())],
            })
        })
    );
    assert_eq!(
        parse(&resp("<Connect><Stream/></Connect>"))
            .unwrap_err()
            .code(),
        12200
    );
    assert_eq!(
        parse(&resp(
            r#"<Connect><Stream url="u"><Say>x</Say></Stream></Connect>"#
        ))
        .unwrap_err()
        .code(),
        12200
    );
}

#[test]
fn round_trips_what_the_product_builds() {
    let xml = TwiML::new()
        .say("Tom & Jerry's <shop>")
        .pause(2)
        .connect_stream(
            "wss://example.com/twilio/media?a=1&b=2",
            Some("https://example.com/twilio/stream-status"),
            &[
                StreamParameter {
                    name: "callSid".into(),
                    value: "CA\"x".into(),
                },
                StreamParameter {
                    name: "agent".into(),
                    value: "it's <ok>".into(),
                },
            ],
        )
        .hangup()
        .build();
    let verbs = parse(&xml).unwrap();
    assert_eq!(
        verbs,
        vec![
            Verb::Say(Say {
                text: "Tom & Jerry's <shop>".into(),
                voice: None,
                language: None,
                loop_count: 1
            }),
            Verb::Pause(Pause { length_secs: 2 }),
            Verb::Connect(Connect {
                stream: Some(StreamSpec {
                    url: "wss://example.com/twilio/media?a=1&b=2".into(),
                    name: None,
                    track: None,
                    status_callback: Some("https://example.com/twilio/stream-status".into()),
                    status_callback_method: "POST".into(),
                    parameters: vec![
                        ("callSid".into(), "CA\"x".into()),
                        ("agent".into(), "it's <ok>".into()),
                    ],
                })
            }),
            Verb::Hangup,
        ]
    );
}

#[test]
fn record_defaults_and_attributes() {
    assert_eq!(
        one(&resp("<Record/>")),
        Verb::Record(Record {
            action: None,
            method: "POST".into(),
            max_length_secs: 3600,
            timeout_secs: 5,
            finish_on_key: "1234567890*#".into(),
            play_beep: true,
            recording_status_callback: None,
            transcribe: false,
        })
    );
    assert_eq!(
        one(&resp(
            r##"<Record action="/rec" method="GET" maxLength="30" timeout="2" finishOnKey="#"
                 playBeep="false" recordingStatusCallback="/rs" transcribe="true"/>"##
        )),
        Verb::Record(Record {
            action: Some("/rec".into()),
            method: "GET".into(),
            max_length_secs: 30,
            timeout_secs: 2,
            finish_on_key: "#".into(),
            play_beep: false,
            recording_status_callback: Some("/rs".into()),
            transcribe: true,
        })
    );
}

#[test]
fn redirect_hangup_reject() {
    let verbs = parse(&resp(
        r#"<Redirect>/next</Redirect><Redirect method="GET">https://e.com/x</Redirect>
           <Reject/><Reject reason="busy"/><Hangup/>"#,
    ))
    .unwrap();
    assert_eq!(
        verbs,
        vec![
            Verb::Redirect(Redirect {
                url: "/next".into(),
                method: "POST".into()
            }),
            Verb::Redirect(Redirect {
                url: "https://e.com/x".into(),
                method: "GET".into()
            }),
            Verb::Reject(Reject {
                reason: "rejected".into()
            }),
            Verb::Reject(Reject {
                reason: "busy".into()
            }),
            Verb::Hangup,
        ]
    );
    assert_eq!(
        parse(&resp(r#"<Reject reason="nope"/>"#))
            .unwrap_err()
            .code(),
        12200
    );
    assert_eq!(parse(&resp("<Redirect/>")).unwrap_err().code(), 12200);
}

#[test]
fn enqueue_leave_minimal_and_unsupported_verbs() {
    assert_eq!(
        one(&resp(r#"<Enqueue waitUrl="/wait">support</Enqueue>"#)),
        Verb::Enqueue(Enqueue {
            queue_name: "support".into(),
            action: None,
            method: "POST".into(),
            wait_url: Some("/wait".into()),
        })
    );
    assert_eq!(one(&resp("<Leave/>")), Verb::Leave);
    for verb in ["Start", "Stop", "Sms"] {
        let e = parse(&resp(&format!("<{verb}/>"))).unwrap_err();
        assert_eq!(e, TwimlError::Unsupported(verb.into()));
        assert_eq!(e.code(), 12200);
    }
}

#[test]
fn invalid_documents_are_12100() {
    for xml in [
        "",
        "not xml at all",
        "<Response><Say>unclosed</Response>",
        "<Response><Say>a & b</Say></Response>",
        "<Foo><Say>x</Say></Foo>",
        "<response/>",
    ] {
        let e = parse(xml).unwrap_err();
        assert_eq!(e.code(), 12100, "{xml:?}: {e}");
        assert!(e.to_string().contains("Document parse failure"));
    }
}

#[test]
fn schema_errors_are_12200() {
    for body in [
        "<Shout>hi</Shout>",
        "<say>lowercase verbs are unknown</say>",
        "stray text",
        r#"<Pause length="-1"/>"#,
        r#"<Say loop="many">x</Say>"#,
        r#"<Record playBeep="maybe"/>"#,
    ] {
        let e = parse(&resp(body)).unwrap_err();
        assert_eq!(e.code(), 12200, "{body:?}: {e}");
        assert!(e.to_string().contains("Schema validation warning"));
    }
}

#[test]
fn unknown_attributes_are_ignored() {
    assert_eq!(
        one(&resp(r#"<Pause length="2" flavour="mint"/>"#)),
        Verb::Pause(Pause { length_secs: 2 })
    );
}
