//! Access tokens: short-lived HS256 JWTs naming tenant, user and role, signed with one of a
//! ring of keys. The header's `kid` says which, so a new key can start signing while tokens
//! signed with the previous one stay valid until they expire.

use base64::Engine;
use domain::{Role, Secret, TenantId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ISSUER: &str = "switchboard";
const AUDIENCE: &str = "switchboard-api";

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The tenant.
    pub tid: TenantId,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// The signing keys: the first signs, every one verifies.
#[derive(Clone)]
pub struct JwtKeys {
    keys: Vec<(String, Secret<Vec<u8>>)>,
    /// How long an access token lives.
    pub access_ttl: std::time::Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(kid, _)| kid.as_str()).collect();
        f.debug_struct("JwtKeys")
            .field("kids", &kids)
            .field("access_ttl", &self.access_ttl)
            .finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("JWT_SIGNING_KEYS entry {0} is not `kid:base64-secret`")]
    Malformed(usize),
    #[error("JWT signing key `{0}` must be at least 32 bytes")]
    TooShort(String),
    #[error("JWT_SIGNING_KEYS names no key")]
    Empty,
}

impl JwtKeys {
    /// Parses `kid1:<base64>,kid0:<base64>`; the first key signs.
    pub fn parse(spec: &str, access_ttl: std::time::Duration) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for (i, entry) in spec
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let (kid, secret) = entry.split_once(':').ok_or(KeyError::Malformed(i + 1))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(secret.trim())
                .map_err(|_| KeyError::Malformed(i + 1))?;
            if bytes.len() < 32 {
                return Err(KeyError::TooShort(kid.to_owned()));
            }
            keys.push((kid.trim().to_owned(), Secret::new(bytes)));
        }
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self { keys, access_ttl })
    }

    /// One random key, `kid` as given: for a single node that need not survive restarts.
    pub fn generate(kid: &str, access_ttl: std::time::Duration) -> Self {
        use rand::RngCore;
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            keys: vec![(kid.to_owned(), Secret::new(bytes))],
            access_ttl,
        }
    }

    /// A signed access token for `user`, valid for [`JwtKeys::access_ttl`] from `now`.
    pub fn sign(&self, tenant: TenantId, user: Uuid, role: Role, now: i64) -> String {
        let (kid, key) = &self.keys[0];
        let claims = Claims {
            sub: user,
            tid: tenant,
            role,
            iat: now,
            exp: now + i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let header = Header {
            kid: Some(kid.clone()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key.expose()))
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// The claims of a token we signed that has not expired; `None` for anything else
    /// (unknown `kid`, another algorithm, a bad signature, expired, another audience).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::HS256 {
            return None;
        }
        let kid = header.kid?;
        let (_, key) = self.keys.iter().find(|(k, _)| *k == kid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key.expose()), &validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// What a link token opens: one resource, for a client that cannot send a bearer header. Each
/// purpose is its own audience, so a token for one never opens the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// A call's recording, for the console's `<audio>` player (`sub` is the call's id).
    Recording,
    /// The browser media socket of a "Talk to this agent" call (`sub` is the call's SID).
    Talk,
}

impl LinkPurpose {
    fn audience(self) -> &'static str {
        match self {
            Self::Recording => "switchboard-link",
            Self::Talk => "switchboard-talk",
        }
    }
}

/// What a link token grants: reading `sub` of tenant `tid` until `exp`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct LinkClaims {
    sub: Uuid,
    tid: TenantId,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

impl JwtKeys {
    /// A token that lets its bearer read the resource `id` of `tenant` for `ttl_secs` from
    /// `now`, and nothing else (its audience is not the API's).
    pub fn sign_link(
        &self,
        purpose: LinkPurpose,
        tenant: TenantId,
        id: Uuid,
        ttl_secs: i64,
        now: i64,
    ) -> String {
        let (kid, key) = &self.keys[0];
        let claims = LinkClaims {
            sub: id,
            tid: tenant,
            iat: now,
            exp: now + ttl_secs,
            iss: ISSUER.into(),
            aud: purpose.audience().into(),
        };
        let header = Header {
            kid: Some(kid.clone()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key.expose()))
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// The tenant and resource of a link token we signed that has not expired.
    pub fn verify_link(&self, purpose: LinkPurpose, token: &str) -> Option<(TenantId, Uuid)> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::HS256 {
            return None;
        }
        let kid = header.kid?;
        let (_, key) = self.keys.iter().find(|(k, _)| *k == kid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[purpose.audience()]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<LinkClaims>(
            token,
            &DecodingKey::from_secret(key.expose()),
            &validation,
        )
        .ok()?;
        Some((data.claims.tid, data.claims.sub))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_link_token_opens_its_resource_only_and_is_no_access_token() {
        let keys = JwtKeys::generate("k1", Duration::from_secs(900));
        let (tenant, id) = (TenantId::from(Uuid::now_v7()), Uuid::now_v7());
        let link = keys.sign_link(LinkPurpose::Recording, tenant, id, 3600, now());
        assert_eq!(
            keys.verify_link(LinkPurpose::Recording, &link),
            Some((tenant, id))
        );
        assert_eq!(keys.verify(&link), None, "not an access token");
        assert_eq!(
            keys.verify_link(LinkPurpose::Talk, &link),
            None,
            "a recording's link opens no talk socket"
        );
        let access = keys.sign(tenant, Uuid::now_v7(), Role::Owner, now());
        assert_eq!(
            keys.verify_link(LinkPurpose::Recording, &access),
            None,
            "an access token is no link"
        );
        let expired = keys.sign_link(LinkPurpose::Talk, tenant, id, 10, now() - 3600);
        assert_eq!(keys.verify_link(LinkPurpose::Talk, &expired), None);
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn a_token_verifies_and_names_its_key() {
        let keys = JwtKeys::parse(
            &format!("k2:{},k1:{}", b64(&[2; 32]), b64(&[1; 32])),
            Duration::from_secs(900),
        )
        .unwrap();
        let (tenant, user) = (TenantId::new(), Uuid::now_v7());
        let token = keys.sign(tenant, user, Role::Manager, now());
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
            Some("k2")
        );
        let claims = keys.verify(&token).unwrap();
        assert_eq!(
            (claims.tid, claims.sub, claims.role),
            (tenant, user, Role::Manager)
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_and_drops_removed_keys() {
        let old =
            JwtKeys::parse(&format!("k1:{}", b64(&[1; 32])), Duration::from_secs(900)).unwrap();
        let token = old.sign(TenantId::new(), Uuid::now_v7(), Role::Viewer, now());
        let rotated = JwtKeys::parse(
            &format!("k2:{},k1:{}", b64(&[2; 32]), b64(&[1; 32])),
            Duration::from_secs(900),
        )
        .unwrap();
        assert!(rotated.verify(&token).is_some());
        let retired =
            JwtKeys::parse(&format!("k2:{}", b64(&[2; 32])), Duration::from_secs(900)).unwrap();
        assert!(retired.verify(&token).is_none());
    }

    #[test]
    fn expired_forged_and_foreign_tokens_are_refused() {
        let keys =
            JwtKeys::parse(&format!("k1:{}", b64(&[1; 32])), Duration::from_secs(60)).unwrap();
        let expired = keys.sign(TenantId::new(), Uuid::now_v7(), Role::Owner, now() - 3600);
        assert!(keys.verify(&expired).is_none());
        let other =
            JwtKeys::parse(&format!("k1:{}", b64(&[9; 32])), Duration::from_secs(60)).unwrap();
        let forged = other.sign(TenantId::new(), Uuid::now_v7(), Role::Owner, now());
        assert!(keys.verify(&forged).is_none());
        assert!(keys.verify("not.a.jwt").is_none());
    }

    #[test]
    fn bad_key_specs_are_refused_and_keys_never_print() {
        assert_eq!(
            JwtKeys::parse("", Duration::ZERO).unwrap_err(),
            KeyError::Empty
        );
        assert_eq!(
            JwtKeys::parse("nokid", Duration::ZERO).unwrap_err(),
            KeyError::Malformed(1)
        );
        assert!(matches!(
            JwtKeys::parse(&format!("k:{}", b64(&[1; 8])), Duration::ZERO),
            Err(KeyError::TooShort(_))
        ));
        let keys = JwtKeys::parse(&format!("k1:{}", b64(&[7; 32])), Duration::ZERO).unwrap();
        assert!(!format!("{keys:?}").contains(&b64(&[7; 32])));
    }
}
