//! The permission walk: every operation in the OpenAPI document, with every role and with a
//! second tenant's owner. The list comes from the document, so a new endpoint cannot skip it:
//! an operation with path parameters this test has no id for fails the walk until it has.

use crate::helpers::{AppOptions, TEST_OPERATOR_TOKEN, TestApp, spawn_app_with};
use domain::{Permission, Role};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Operations anyone may call (they authenticate otherwise: Twilio's signature, a password,
/// a refresh token) or that serve no tenant data.
const PUBLIC: &[&str] = &[
    "POST /twilio/voice",
    "POST /twilio/status",
    "POST /twilio/transfer/status",
    "POST /twilio/transfer/answer",
    "POST /twilio/transfer/decision",
    "POST /twilio/transfer/conference",
    "POST /twilio/hold-music",
    "POST /twilio/campaign/status",
    "POST /twilio/campaign/answer",
    "GET /twilio/media",
    "POST /webhooks/elevenlabs/post-call",
    // A player link: the signed token in its path is the credential (one recording, an hour).
    "GET /v1/recordings/{token}",
    // A browser call's media socket: the ticket in its path is the credential (one call, a minute).
    "GET /v1/talk/{ticket}",
    "POST /v1/auth/login",
    "POST /v1/auth/refresh",
    "POST /v1/auth/logout",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
];

pub async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = app
        .http
        .request(method.clone(), format!("{}{path}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    // A stream of events (the live calls) goes on: its status is the answer.
    let streaming = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return (status, Value::String("text/event-stream".into()));
    }
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

struct Operation {
    method: Method,
    path: String,
    /// `None`: public; `Some(None)`: operator; `Some(Some(p))`: bearer needing `p` (`None`
    /// inside for "any authenticated caller").
    security: Option<Option<Option<Permission>>>,
    has_body: bool,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let security = op["security"]
                .as_array()
                .and_then(|reqs| reqs.first())
                .map(|req| {
                    if req.get("operator").is_some() {
                        return None;
                    }
                    let scopes = req["bearer"]
                        .as_array()
                        .expect("bearer or operator security");
                    Some(scopes.first().map(|s| {
                        Permission::parse(s.as_str().unwrap())
                            .unwrap_or_else(|| panic!("{path}: unknown permission {s}"))
                    }))
                });
            ops.push(Operation {
                method,
                path: path.clone(),
                security,
                has_body: !op["requestBody"].is_null(),
            });
        }
    }
    ops
}

/// `path` with each `{param}` replaced from `ids` (by the path's resource), or a random id.
fn fill(path: &str, ids: Option<&BTreeMap<&'static str, String>>) -> String {
    let resource = path
        .trim_start_matches("/v1/")
        .split('/')
        .next()
        .unwrap_or_default();
    let mut out = String::new();
    for segment in path.split('/').skip(1) {
        out.push('/');
        if segment.starts_with('{') {
            let id = match ids {
                Some(ids) => ids
                    .get(resource)
                    .unwrap_or_else(|| panic!("the walk has no id of another tenant's `{resource}` for {path}: add one"))
                    .clone(),
                None => Uuid::now_v7().to_string(),
            };
            out.push_str(&id);
        } else {
            out.push_str(segment);
        }
    }
    out
}

/// Tenant A's resources, one of each kind, created through the API and the harness.
async fn tenant_a_resources(app: &TestApp, owner: &str) -> BTreeMap<&'static str, String> {
    let mut ids = BTreeMap::new();
    let post = |path: &'static str, body: Value| async move {
        let (status, v) = send(app, &Method::POST, path, Some(owner), Some(&body)).await;
        assert!(status == 201 || status == 200, "{path}: {status} {v}");
        v
    };
    let agent = post(
        "/v1/agents",
        json!({"name": "Walk", "greeting": "Hi", "instructions": "Be kind", "engine": "echo"}),
    )
    .await;
    ids.insert("agents", agent["id"].as_str().unwrap().to_owned());
    // A build as `POST /v1/agent-builds` records it (no workflow needs to run for the walk).
    let build = app
        .store
        .create_agent_build(
            app.tenant,
            store::agent_builds::NewAgentBuild {
                id: Uuid::now_v7(),
                agent_id: domain::AgentId::new(),
                kind: domain::site::BuildKind::Build,
                url: "https://walk.example.com/".into(),
                name: None,
                area_code: None,
                engine: Some("echo".into()),
                max_pages: 5,
            },
        )
        .await
        .unwrap();
    ids.insert("agent-builds", build.id.to_string());
    let k = post(
        "/v1/knowledge",
        json!({"category": "policies", "question": "Refunds?", "answer": "Within 30 days."}),
    )
    .await;
    ids.insert("knowledge", k["id"].as_str().unwrap().to_owned());
    let department = post("/v1/departments", json!({"name": "Walk"})).await;
    let department_id = department["id"].as_str().unwrap().to_owned();
    let employee = post(
        "/v1/employees",
        json!({"name": "Walk", "phone": "+14155550101", "department_id": department_id}),
    )
    .await;
    ids.insert("departments", department_id);
    ids.insert("employees", employee["id"].as_str().unwrap().to_owned());
    for (resource, id) in crate::crm::one_of_each(app, owner).await {
        ids.insert(resource, id);
    }
    let user = post("/v1/users", json!({"email": "walk@example.com", "name": "Walk", "password": "long enough pw", "role": "viewer"})).await;
    ids.insert("users", user["id"].as_str().unwrap().to_owned());
    let key = post("/v1/api-keys", json!({"name": "walk", "role": "viewer"})).await;
    ids.insert("api-keys", key["id"].as_str().unwrap().to_owned());
    let (_, numbers) = send(app, &Method::GET, "/v1/phone-numbers", Some(owner), None).await;
    ids.insert(
        "phone-numbers",
        numbers["data"][0]["id"]
            .as_str()
            .expect("the harness's number")
            .to_owned(),
    );
    // A call row as the call workflow records it (no call needs to run for the walk).
    let call_sid = crate::helpers::new_call_sid();
    let call = store::NewCall {
        call_sid: domain::CallSid::parse(&call_sid).unwrap(),
        agent_id: None,
        direction: domain::CallDirection::Inbound,
        from: domain::CallerId::parse("+14155550123"),
        to: app.number.clone(),
        status: domain::CallStatus::InProgress,
        started_at: chrono::Utc::now(),
        workflow_id: format!("call-{call_sid}"),
    };
    app.store
        .record_call_started(app.tenant, call)
        .await
        .unwrap();
    let call = app.wait_for_call_row(&call_sid).await;
    ids.insert("calls", call.id.to_string());
    let message = app
        .store
        .take_message("walk", &crate::platform::sample_message(app, &call_sid))
        .await
        .unwrap();
    ids.insert("messages", message.id.to_string());
    let (event, _) = app
        .store
        .create_event(
            app.tenant,
            domain::events::EventType::CallAnalyzed,
            &call_sid,
            json!({"walk": true}),
        )
        .await
        .unwrap();
    ids.insert("webhook-deliveries", event.id.to_string());
    ids
}

async fn snapshot(app: &TestApp, owner: &str, ids: &BTreeMap<&'static str, String>) -> Vec<Value> {
    let mut out = Vec::new();
    for (resource, id) in ids {
        let (status, body) = send(
            app,
            &Method::GET,
            &format!("/v1/{resource}/{id}"),
            Some(owner),
            None,
        )
        .await;
        out.push(json!({"resource": resource, "status": status, "body": body}));
    }
    for list in [
        "/v1/agents",
        "/v1/knowledge",
        "/v1/users",
        "/v1/api-keys",
        "/v1/phone-numbers",
        "/v1/messages",
        "/v1/tenant",
        "/v1/departments",
        "/v1/employees",
        "/v1/company-info",
        "/v1/branches",
        "/v1/customers",
        "/v1/vehicles",
        "/v1/jobs",
        "/v1/scripts",
        "/v1/appointments",
        "/v1/dnc",
        "/v1/qa-reviews",
        "/v1/campaigns",
        "/v1/crm/emergencies",
        "/v1/webhook-deliveries",
    ] {
        out.push(send(app, &Method::GET, list, Some(owner), None).await.1);
    }
    out
}

fn body_for(op: &Operation) -> Option<Value> {
    op.has_body.then(|| json!({}))
}

async fn walk_roles(app: &TestApp, ops: &[Operation], keys: &BTreeMap<Role, String>) -> usize {
    let mut checked = 0;
    for op in ops {
        let Some(Some(needed)) = &op.security else {
            continue;
        };
        let path = fill(&op.path, None);
        for (role, key) in keys {
            let (status, body) =
                send(app, &op.method, &path, Some(key), body_for(op).as_ref()).await;
            let allowed = needed.is_none_or(|p| role.allows(p));
            let what = format!("{role} {} {path}: {status} {body}", op.method);
            if allowed {
                assert!(status != 401 && status != 403 && status < 500, "{what}");
            } else {
                let p = needed.unwrap();
                assert_eq!(status, 403, "{what}");
                assert_eq!(body["permission"], p.as_str(), "{what}");
            }
            checked += 1;
        }
    }
    checked
}

async fn walk_cross_tenant(
    app: &TestApp,
    ops: &[Operation],
    intruder: &str,
    ids: &BTreeMap<&'static str, String>,
) -> usize {
    let mut checked = 0;
    for op in ops {
        let Some(Some(_)) = &op.security else {
            continue;
        };
        if op.path.starts_with("/codec") {
            continue; // no tenant data in the path; decoding is checked by the codec tests
        }
        let has_params = op.path.contains('{');
        let path = if has_params {
            fill(&op.path, Some(ids))
        } else {
            op.path.clone()
        };
        let (status, body) = send(
            app,
            &op.method,
            &path,
            Some(intruder),
            body_for(op).as_ref(),
        )
        .await;
        let what = format!("intruder {} {path}: {status} {body}", op.method);
        if has_params {
            assert!(status == 404 || status == 400, "{what}");
        }
        let text = body.to_string();
        for id in ids.values() {
            assert!(!text.contains(id.as_str()), "{what} shows tenant A's {id}");
        }
        checked += 1;
    }
    checked
}

#[tokio::test]
async fn every_operation_gives_each_role_what_the_matrix_allows_and_nothing_across_tenants() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    // With the simulator as Twilio: the number search and purchase routes reach it.
    let app = spawn_app_with(AppOptions {
        sim: Some(sim::FaultConfig::default()),
        rate_limits: crate::helpers::roomy_rate_limits(),
        ..AppOptions::default()
    })
    .await;
    let (_, doc) = send(&app, &Method::GET, "/openapi.json", None, None).await;
    let ops = operations(&doc);
    assert!(ops.len() > 30, "{} operations", ops.len());
    for op in ops.iter().filter(|op| op.security.is_none()) {
        let name = format!("{} {}", op.method, op.path);
        assert!(
            PUBLIC.contains(&name.as_str()),
            "{name} declares no security and is not known to be public"
        );
    }

    let mut keys = BTreeMap::new();
    for role in Role::ALL {
        let key = app
            .store
            .create_api_key_with_role(app.tenant, role.as_str(), *role)
            .await
            .unwrap();
        keys.insert(*role, key.secret.into_inner());
    }
    let owner = keys[&Role::Owner].clone();
    let ids = tenant_a_resources(&app, &owner).await;
    let other = app.store.create_tenant("Globex").await.unwrap();
    let intruder = app
        .store
        .create_api_key(other.id, "intruder")
        .await
        .unwrap()
        .secret
        .into_inner();

    let before = snapshot(&app, &owner, &ids).await;
    let crossed = walk_cross_tenant(&app, &ops, &intruder, &ids).await;
    let after = snapshot(&app, &owner, &ids).await;
    assert_eq!(
        before, after,
        "a second tenant's requests changed tenant A's data"
    );

    let walked = walk_roles(&app, &ops, &keys).await;
    // Operator routes: a tenant's owner is not the operator.
    for op in ops.iter().filter(|op| matches!(op.security, Some(None))) {
        let path = fill(&op.path, None);
        let (status, _) = send(&app, &op.method, &path, Some(&owner), body_for(op).as_ref()).await;
        assert_eq!(status, 401, "{} {path} with a tenant key", op.method);
        let (status, body) = send(
            &app,
            &op.method,
            &path,
            Some(TEST_OPERATOR_TOKEN),
            body_for(op).as_ref(),
        )
        .await;
        assert!(
            status != 401 && status != 403 && status < 500,
            "{} {path} as operator: {status} {body}",
            op.method
        );
    }
    eprintln!(
        "permission walk: {} operations, {walked} role checks, {crossed} cross-tenant checks",
        ops.len()
    );
}
