//! The payload codec's cost per call: `cargo bench -p switchboard-codec`.
//!
//! One call's payloads as the integration test `codec::call_data_in_temporal_is_encrypted…`
//! measured them in a real history (a two-turn cascaded call with the rule-based receptionist):
//! 35 payloads go through the codec, from 0 to 2,338 bytes. Each is encrypted once when written
//! and decrypted at least once when read (a worker replaying the history, the API reading a
//! result), so a call costs one encode and one decode of each. The baseline is the SDK's
//! pass-through codec, in the same run.

use futures::executor::block_on;
use std::time::{Duration, Instant};
use switchboard_codec::{KeyRing, PayloadCrypto};
use temporalio_common::{
    data_converters::{DefaultPayloadCodec, PayloadCodec, SerializationContextData},
    protos::temporal::api::common::v1::Payload,
};

/// Payload data sizes of one call (bytes), from the integration test's history.
const CALL_PAYLOAD_SIZES: [usize; 35] = [
    0, 0, 0, 0, 2, 10, 10, 10, 11, 13, 14, 15, 19, 40, 51, 52, 82, 100, 101, 104, 121, 126, 138,
    149, 155, 171, 222, 251, 287, 313, 382, 1065, 1827, 2028, 2338,
];
const CALLS: usize = 3_000;

fn call_payloads() -> Vec<Payload> {
    CALL_PAYLOAD_SIZES
        .iter()
        .map(|&size| Payload {
            metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
            data: (0..size)
                .map(|i| b"{\"text\": caller 0123}"[i % 21])
                .collect(),
            ..Default::default()
        })
        .collect()
}

/// Time to encode then decode one call's payloads `CALLS` times, and the encoded payloads.
fn run(codec: &dyn PayloadCodec, payloads: &[Payload]) -> (Duration, Duration, Vec<Payload>) {
    let context = SerializationContextData::None;
    let (mut encoding, mut decoding) = (Duration::ZERO, Duration::ZERO);
    let mut encoded = Vec::new();
    for _ in 0..CALLS {
        let started = Instant::now();
        encoded = block_on(codec.encode(&context, payloads.to_vec())).unwrap();
        let between = Instant::now();
        let decoded = block_on(codec.decode(&context, encoded.clone())).unwrap();
        decoding += between.elapsed();
        encoding += between - started;
        assert_eq!(decoded.len(), payloads.len());
    }
    (encoding, decoding, encoded)
}

fn stored_bytes(payloads: &[Payload]) -> usize {
    payloads.iter().map(prost::Message::encoded_len).sum()
}

fn micros_per_call(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6 / CALLS as f64
}

fn main() {
    let payloads = call_payloads();
    let crypto = PayloadCrypto::new(
        KeyRing::new(vec![("bench".into(), KeyRing::generate_key())]).expect("one key"),
    );
    // Warm up both paths once.
    run(&DefaultPayloadCodec, &payloads);
    run(&crypto, &payloads);

    let (base_enc, base_dec, plain) = run(&DefaultPayloadCodec, &payloads);
    let (enc, dec, sealed) = run(&crypto, &payloads);
    let n = payloads.len() as f64;
    let data: usize = CALL_PAYLOAD_SIZES.iter().sum();
    println!(
        "one call: {} payloads, {data} bytes of payload data; {CALLS} calls",
        payloads.len()
    );
    for (name, e, d) in [("no codec", base_enc, base_dec), ("AES-256-GCM", enc, dec)] {
        let (e, d) = (micros_per_call(e), micros_per_call(d));
        println!(
            "{name:>12}: encode {e:8.2} µs/call, decode {d:8.2} µs/call, {:6.3} µs/payload (encode+decode)",
            (e + d) / n
        );
    }
    let extra = micros_per_call(enc + dec) - micros_per_call(base_enc + base_dec);
    let (plain_bytes, sealed_bytes) = (stored_bytes(&plain), stored_bytes(&sealed));
    println!(
        "codec cost per call: {extra:.1} µs of CPU; {} more bytes stored ({plain_bytes} → {sealed_bytes}, {:.0} per payload)",
        sealed_bytes - plain_bytes,
        (sealed_bytes - plain_bytes) as f64 / n
    );
}
