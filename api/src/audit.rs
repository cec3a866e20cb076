//! Recording mutations in the audit log, with secrets redacted from the before/after states.

use crate::{ApiError, AppState, auth::Principal};
use serde_json::Value;

/// Object keys whose values never reach the audit log.
const SECRET_KEYS: &[&str] = &[
    "password",
    "password_hash",
    "secret",
    "token",
    "refresh_token",
    "access_token",
    "key_hash",
    "auth_token",
    "api_key",
];

/// `value` with every secret-looking field replaced by `"[redacted]"`, at any depth.
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let secret = SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s));
                    let v = if secret {
                        Value::String("[redacted]".into())
                    } else {
                        redact(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// What changed: `action` (`agent.create`) on `resource_type`/`resource_id`.
pub struct Change<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Records `change`, made by `who`, in the tenant's audit log.
pub async fn record(state: &AppState, who: &Principal, change: Change<'_>) -> Result<(), ApiError> {
    let entry = store::NewAuditEntry {
        actor_type: who.actor.kind().to_owned(),
        actor_id: Some(who.actor.id()),
        action: change.action.to_owned(),
        resource_type: change.resource_type.to_owned(),
        resource_id: change.resource_id,
        before: change.before.map(redact),
        after: change.after.map(redact),
        request_id: who.request_id.clone(),
        client_addr: who.client_addr.clone(),
    };
    state.store.record_audit(who.tenant, entry).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let v = serde_json::json!({"name": "ci", "secret": "sk_x", "nested": [{"password": "p"}]});
        let r = redact(v);
        assert_eq!(r["name"], "ci");
        assert_eq!(r["secret"], "[redacted]");
        assert_eq!(r["nested"][0]["password"], "[redacted]");
    }
}
