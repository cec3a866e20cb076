//! The codec server: `POST /codec/decode` and `POST /codec/encode` in Temporal's codec-server
//! protocol, so the Temporal UI and CLI (`--codec-endpoint {PUBLIC_URL}/codec`) show operators
//! the call data our payload codec encrypts — to those whose role may read it.
//!
//! Both take and return `{"payloads": [{"metadata": {"<key>": "<base64>"}, "data": "<base64>"}]}`
//! (a Payload in protobuf's JSON mapping). The UI also sends `X-Namespace`; there is one key
//! ring for every namespace, so it is not needed. With `PAYLOAD_CODEC_KEYS=off` both answer
//! the payloads unchanged: nothing stored is encrypted.

use crate::{
    ApiError, AppState,
    auth::{Authorized, perm},
};
use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    routing::post,
};
use base64::{
    Engine,
    alphabet::{STANDARD, URL_SAFE},
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use temporalio_common::protos::temporal::api::common::v1::Payload;
use utoipa::ToSchema;

/// A list of payloads, as the codec-server protocol carries them.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CodecBody {
    pub payloads: Vec<JsonPayload>,
}

/// A Temporal payload in protobuf's JSON mapping: bytes are base64.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct JsonPayload {
    /// Metadata values, base64 (`encoding`, `encryption-key-id`, …).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The payload's bytes, base64.
    #[serde(default)]
    pub data: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/codec/decode", post(decode))
        .route("/codec/encode", post(encode))
}

/// Decrypts payloads read from a Temporal history (unencrypted ones come back as they are).
#[utoipa::path(post, path = "/codec/decode", tag = "codec",
    security(("bearer" = ["payloads:decode"])),
    request_body = CodecBody,
    responses((status = 200, body = CodecBody),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn decode(
    State(state): State<AppState>,
    _auth: Authorized<perm::PayloadsDecode>,
    body: Result<Json<CodecBody>, JsonRejection>,
) -> Result<Json<CodecBody>, ApiError> {
    let payloads = read_payloads(body)?;
    let decoded = match &state.codec {
        Some(codec) => payloads
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                codec
                    .decrypt(p)
                    .map_err(|e| ApiError::invalid("payloads", format!("payload {i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => payloads,
    };
    Ok(Json(write_payloads(decoded)))
}

/// Encrypts payloads the UI is about to send (a signal's input, say) with the active key.
#[utoipa::path(post, path = "/codec/encode", tag = "codec",
    security(("bearer" = ["payloads:encode"])),
    request_body = CodecBody,
    responses((status = 200, body = CodecBody),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn encode(
    State(state): State<AppState>,
    _auth: Authorized<perm::PayloadsEncode>,
    body: Result<Json<CodecBody>, JsonRejection>,
) -> Result<Json<CodecBody>, ApiError> {
    let payloads = read_payloads(body)?;
    let encoded = match &state.codec {
        Some(codec) => codec
            .encrypt_all(&payloads)
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?,
        None => payloads,
    };
    Ok(Json(write_payloads(encoded)))
}

/// Protobuf's JSON mapping writes standard base64 and reads either alphabet, padded or not.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const BASE64: GeneralPurpose = GeneralPurpose::new(&STANDARD, LENIENT);
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(&URL_SAFE, LENIENT);

fn base64_bytes(text: &str) -> Option<Vec<u8>> {
    BASE64
        .decode(text)
        .or_else(|_| BASE64_URL.decode(text))
        .ok()
}

fn read_payloads(body: Result<Json<CodecBody>, JsonRejection>) -> Result<Vec<Payload>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::invalid("payloads", e.body_text()))?;
    body.payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let data = base64_bytes(&p.data).ok_or_else(|| {
                ApiError::invalid("data", format!("payloads[{i}].data is not base64"))
            })?;
            let metadata = p
                .metadata
                .into_iter()
                .map(|(key, value)| match base64_bytes(&value) {
                    Some(bytes) => Ok((key, bytes)),
                    None => Err(ApiError::invalid(
                        "metadata",
                        format!("payloads[{i}].metadata.{key} is not base64"),
                    )),
                })
                .collect::<Result<_, _>>()?;
            Ok(Payload {
                metadata,
                data,
                ..Default::default()
            })
        })
        .collect()
}

fn write_payloads(payloads: Vec<Payload>) -> CodecBody {
    CodecBody {
        payloads: payloads
            .into_iter()
            .map(|p| JsonPayload {
                metadata: p
                    .metadata
                    .into_iter()
                    .map(|(key, value)| (key, BASE64.encode(value)))
                    .collect(),
                data: BASE64.encode(p.data),
            })
            .collect(),
    }
}
