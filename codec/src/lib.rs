//! Encryption of the payloads Switchboard stores in Temporal: workflow and activity inputs and
//! results, signals, updates, queries, memos and failure messages carry phone numbers, names and
//! transcripts, and Temporal keeps them in its histories.
//!
//! - [`keys`]: the key ring (`PAYLOAD_CODEC_KEYS`), newest key first, older ones still decrypt.
//! - [`PayloadCrypto`]: AES-256-GCM over the whole original payload, as a Temporal
//!   `PayloadCodec`; [`PayloadCrypto::data_converter`] is what the client and worker use.
//!
//! An encrypted payload follows Temporal's convention: metadata `encoding: binary/encrypted` and
//! `encryption-key-id: <kid>`; its data is a 96-bit random nonce followed by the AES-GCM
//! ciphertext (with its tag) of the original `Payload` protobuf, so the original encoding is
//! hidden too. Search attributes are never encoded (the SDK skips them): they carry no
//! personal data.

pub mod keys;

pub use keys::{KEY_LEN, KeyRing};

use aes_gcm::{Nonce, aead::Aead};
use futures::{FutureExt, future::BoxFuture};
use prost::Message;
use std::sync::Arc;
use temporalio_common::{
    data_converters::{
        CommonAttributes, DataConverter, DefaultFailureConverter, PayloadCodec,
        PayloadConversionError, PayloadConverter, SerializationContextData,
    },
    protos::temporal::api::{common::v1::Payload, failure::v1::Failure},
};

/// The `encoding` of an encrypted payload.
pub const ENCRYPTED_ENCODING: &str = "binary/encrypted";
/// The metadata key naming the key that encrypted a payload.
pub const KEY_ID_METADATA: &str = "encryption-key-id";
const ENCODING_METADATA: &str = "encoding";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("PAYLOAD_CODEC_KEYS: {0}")]
    InvalidKeys(String),
    #[error("the payload was encrypted with key `{0}`, which is not in PAYLOAD_CODEC_KEYS")]
    UnknownKey(String),
    #[error("the encrypted payload has no `{KEY_ID_METADATA}` metadata")]
    MissingKeyId,
    #[error("the payload does not decrypt with key `{0}`: altered, or not ours")]
    Decrypt(String),
    #[error("the decrypted payload is not a Temporal payload")]
    Malformed,
    #[error("encrypting a payload failed")]
    Encrypt,
}

/// The payload codec: encrypts with the ring's active key, decrypts with whichever key the
/// payload names, and passes unencrypted payloads through (histories from before encryption
/// still read). Cheap to clone.
#[derive(Clone, Debug)]
pub struct PayloadCrypto {
    ring: Arc<KeyRing>,
}

impl PayloadCrypto {
    pub fn new(ring: KeyRing) -> Self {
        Self {
            ring: Arc::new(ring),
        }
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// A data converter with this codec; failure messages and stack traces move into encoded
    /// attributes so the codec covers them too (an error may quote a caller).
    pub fn data_converter(&self) -> DataConverter {
        DataConverter::new(
            PayloadConverter::default(),
            DefaultFailureConverter::new(true),
            self.clone(),
        )
    }

    /// `payload`, encrypted with the active key.
    pub fn encrypt(&self, payload: &Payload) -> Result<Payload, CodecError> {
        let (kid, cipher) = self.ring.active();
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                payload.encode_to_vec().as_slice(),
            )
            .map_err(|_| CodecError::Encrypt)?;
        let mut data = Vec::with_capacity(NONCE_LEN + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        Ok(Payload {
            metadata: [
                (ENCODING_METADATA.to_owned(), ENCRYPTED_ENCODING.into()),
                (KEY_ID_METADATA.to_owned(), kid.as_bytes().to_vec()),
            ]
            .into(),
            data,
            ..Default::default()
        })
    }

    /// The original of an encrypted `payload`; any other payload as it is.
    pub fn decrypt(&self, payload: Payload) -> Result<Payload, CodecError> {
        if !is_encrypted(&payload) {
            return Ok(payload);
        }
        let kid = payload
            .metadata
            .get(KEY_ID_METADATA)
            .map(|kid| String::from_utf8_lossy(kid).into_owned())
            .ok_or(CodecError::MissingKeyId)?;
        let cipher = self
            .ring
            .get(&kid)
            .ok_or_else(|| CodecError::UnknownKey(kid.clone()))?;
        if payload.data.len() < NONCE_LEN {
            return Err(CodecError::Decrypt(kid));
        }
        let (nonce, sealed) = payload.data.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| CodecError::Decrypt(kid))?;
        Payload::decode(plain.as_slice()).map_err(|_| CodecError::Malformed)
    }

    pub fn encrypt_all(&self, payloads: &[Payload]) -> Result<Vec<Payload>, CodecError> {
        payloads.iter().map(|p| self.encrypt(p)).collect()
    }

    pub fn decrypt_all(&self, payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
        payloads.into_iter().map(|p| self.decrypt(p)).collect()
    }
}

/// Whether `payload` says it is encrypted (`encoding: binary/encrypted`).
pub fn is_encrypted(payload: &Payload) -> bool {
    payload
        .metadata
        .get(ENCODING_METADATA)
        .is_some_and(|e| e == ENCRYPTED_ENCODING.as_bytes())
}

impl PayloadCodec for PayloadCrypto {
    fn encode(
        &self,
        _: &SerializationContextData,
        payloads: Vec<Payload>,
    ) -> BoxFuture<'static, Result<Vec<Payload>, PayloadConversionError>> {
        let result = self.encrypt_all(&payloads).map_err(conversion_error);
        async move { result }.boxed()
    }

    fn decode(
        &self,
        _: &SerializationContextData,
        payloads: Vec<Payload>,
    ) -> BoxFuture<'static, Result<Vec<Payload>, PayloadConversionError>> {
        let result = self.decrypt_all(payloads).map_err(conversion_error);
        async move { result }.boxed()
    }
}

/// The message of a failure read back from Temporal (an Update's rejection, say): the data
/// converter moved it into the failure's encrypted `encoded_attributes`, and the SDK hands such
/// failures over as stored. Falls back to the failure's own message.
pub async fn failure_message(converter: &DataConverter, failure: &Failure) -> String {
    let Some(encoded) = &failure.encoded_attributes else {
        return failure.message.clone();
    };
    let context = SerializationContextData::None;
    match converter
        .from_payload::<CommonAttributes>(&context, encoded.clone())
        .await
    {
        Ok(attributes) => attributes.message,
        Err(_) => failure.message.clone(),
    }
}

fn conversion_error(e: CodecError) -> PayloadConversionError {
    PayloadConversionError::EncodingError(Box::new(e))
}

#[cfg(test)]
mod tests;
