//! Recording mutations in the audit log, with secrets redacted from the before/after states.

use crate::{
    ApiError, AppState,
    auth::{Principal, operator::Operator},
};
use domain::TenantId;
use serde_json::Value;

/// Parts of object keys whose values never reach the audit log.
const SECRET_KEY_PARTS: &[&str] = &["password", "secret", "token", "key_hash", "api_key"];

/// `value` with every secret-looking field replaced by `"[redacted]"`, at any depth.
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let lower = k.to_lowercase();
                    let secret = SECRET_KEY_PARTS.iter().any(|s| lower.contains(s));
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

/// `value` as the audit log stores a resource's state.
pub fn snapshot<T: serde::Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(e.into()))
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
    let actor = (who.actor.kind(), Some(who.actor.id()));
    let meta = (who.request_id.clone(), who.client_addr.clone());
    write(state, who.tenant, actor, meta, change).await
}

/// Records `change` to `tenant`, made by the platform operator.
pub async fn record_operator(
    state: &AppState,
    who: &Operator,
    tenant: TenantId,
    change: Change<'_>,
) -> Result<(), ApiError> {
    let meta = (who.request_id.clone(), who.client_addr.clone());
    write(state, tenant, ("operator", None), meta, change).await
}

async fn write(
    state: &AppState,
    tenant: TenantId,
    (actor_type, actor_id): (&str, Option<uuid::Uuid>),
    (request_id, client_addr): (Option<String>, Option<String>),
    change: Change<'_>,
) -> Result<(), ApiError> {
    let entry = store::NewAuditEntry {
        actor_type: actor_type.to_owned(),
        actor_id,
        action: change.action.to_owned(),
        resource_type: change.resource_type.to_owned(),
        resource_id: change.resource_id,
        before: change.before.map(redact),
        after: change.after.map(redact),
        request_id,
        client_addr,
    };
    state.store.record_audit(tenant, entry).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let v = serde_json::json!({"name": "ci", "secret": "sk_x", "nested": [{"owner_password": "p"}]});
        let r = redact(v);
        assert_eq!(r["name"], "ci");
        assert_eq!(r["secret"], "[redacted]");
        assert_eq!(r["nested"][0]["owner_password"], "[redacted]");
    }
}
