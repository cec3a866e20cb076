//! The key ring: named AES-256 keys, the first of which encrypts.
//!
//! The setting's format is `kid:<base64 of 32 bytes>` entries joined by commas, newest first:
//! `PAYLOAD_CODEC_KEYS="k2026b:…,k2026a:…"`. Rotating a key means putting a new one in front and
//! keeping the old ones listed for as long as histories written with them are read.

use crate::CodecError;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::{Engine, engine::general_purpose::STANDARD};
use domain::Secret;

/// An AES-256 key's length in bytes.
pub const KEY_LEN: usize = 32;

/// Named keys; the first is the active one. `Debug` shows the key ids only.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A ring of `(kid, key)` pairs, the first active. Key ids are unique, non-empty and free of
    /// `:` and `,` (the setting's separators).
    pub fn new(keys: Vec<(String, [u8; KEY_LEN])>) -> Result<Self, CodecError> {
        if keys.is_empty() {
            return Err(CodecError::InvalidKeys("no key given".into()));
        }
        let mut ring = Vec::with_capacity(keys.len());
        for (kid, key) in keys {
            if kid.is_empty() || kid.contains([':', ',']) || kid.trim() != kid {
                return Err(CodecError::InvalidKeys(format!(
                    "key id `{kid}` must be non-empty, without spaces, `:` or `,`"
                )));
            }
            if ring.iter().any(|(k, _)| *k == kid) {
                return Err(CodecError::InvalidKeys(format!(
                    "key id `{kid}` is listed twice"
                )));
            }
            let cipher = Aes256Gcm::new_from_slice(&key).expect("a 32-byte key");
            ring.push((kid, cipher));
        }
        Ok(Self { keys: ring })
    }

    /// Parses `kid:<base64>,kid:<base64>` (whitespace around entries is ignored). Errors name the
    /// entry by its key id, never by its key.
    pub fn parse(setting: &Secret<String>) -> Result<Self, CodecError> {
        let mut keys = Vec::new();
        for (index, entry) in setting.expose().split(',').map(str::trim).enumerate() {
            let Some((kid, encoded)) = entry.split_once(':') else {
                return Err(CodecError::InvalidKeys(format!(
                    "entry {} is not `kid:<base64 key>`",
                    index + 1
                )));
            };
            let key = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| <[u8; KEY_LEN]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    CodecError::InvalidKeys(format!(
                        "key `{kid}` is not {KEY_LEN} bytes in standard base64"
                    ))
                })?;
            keys.push((kid.trim().to_owned(), key));
        }
        Self::new(keys)
    }

    /// A fresh random key.
    pub fn generate_key() -> [u8; KEY_LEN] {
        rand::random()
    }

    /// One setting entry, `kid:<base64>`, for a key made by [`KeyRing::generate_key`].
    pub fn format_entry(kid: &str, key: &[u8; KEY_LEN]) -> Secret<String> {
        Secret::new(format!("{kid}:{}", STANDARD.encode(key)))
    }

    /// The id of the key that encrypts.
    pub fn active_key_id(&self) -> &str {
        &self.keys[0].0
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(kid, _)| kid.as_str())
    }

    pub(crate) fn active(&self) -> (&str, &Aes256Gcm) {
        let (kid, cipher) = &self.keys[0];
        (kid, cipher)
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&Aes256Gcm> {
        self.keys.iter().find(|(k, _)| k == kid).map(|(_, c)| c)
    }
}
