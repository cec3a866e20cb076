//! Identifiers. Each is parsed once at the edge; inside the system it is trusted.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("`{0}` is not a valid UUID")]
    NotUuid(String),
    #[error("`{0}` is not a Twilio call SID (CA followed by 32 hex digits)")]
    NotCallSid(String),
}

macro_rules! uuid_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("Identifier of ", $what, ".")]
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn parse(raw: &str) -> Result<Self, IdError> {
                Uuid::parse_str(raw.trim())
                    .map(Self)
                    .map_err(|_| IdError::NotUuid(raw.to_owned()))
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(TenantId, "a tenant (a company using Switchboard)");
uuid_id!(AgentId, "a voice agent");

/// A Twilio call SID: `CA` + 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CallSid(String);

impl CallSid {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let valid = raw.len() == 34
            && raw.starts_with("CA")
            && raw[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::NotCallSid(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the call workflow for this call: operators search the UI by it.
    pub fn workflow_id(&self) -> String {
        format!("call-{}", self.0)
    }
}

impl TryFrom<String> for CallSid {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CallSid> for String {
    fn from(value: CallSid) -> Self {
        value.0
    }
}

impl fmt::Display for CallSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_sid_accepts_twilio_shape_and_rejects_others() {
        assert!(CallSid::parse("CA0123456789abcdef0123456789abcdef").is_ok());
        assert!(CallSid::parse("CA0123").is_err());
        assert!(CallSid::parse("XX0123456789abcdef0123456789abcdef").is_err());
        assert!(CallSid::parse("CA0123456789abcdef0123456789abcdeg").is_err());
    }

    #[test]
    fn call_workflow_id_is_the_business_id() {
        let sid = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(sid.workflow_id(), "call-CA0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn tenant_id_round_trips_through_text() {
        let id = TenantId::new();
        assert_eq!(TenantId::parse(&id.to_string()).unwrap(), id);
        assert!(TenantId::parse("nope").is_err());
    }
}
