//! Identity and tenancy end to end: sign-in, refresh-token rotation and reuse, API keys that
//! stop working when revoked or rotated, the operator's tenants, suspension, the audit log.

use crate::helpers::{TEST_OPERATOR_TOKEN, TestApp, new_call_sid, spawn_app, voice_form};
use crate::permissions::send;
use domain::conversation::TakeMessageInput;
use domain::{CallSid, Role};
use reqwest::Method;
use serde_json::{Value, json};

/// A message as the `take_message` activity would store it.
pub fn sample_message(app: &TestApp, call_sid: &str) -> TakeMessageInput {
    TakeMessageInput {
        tenant_id: app.tenant,
        call_sid: CallSid::parse(call_sid).unwrap(),
        for_whom: Some("billing".into()),
        caller_name: "Jordan".into(),
        callback_number: Some("4155550100".into()),
        message: "Please call me back".into(),
        replaces: None,
        recipient: None,
    }
}

async fn owner_key(app: &TestApp) -> String {
    app.store
        .create_api_key_with_role(app.tenant, "owner", Role::Owner)
        .await
        .unwrap()
        .secret
        .into_inner()
}

async fn create_user(app: &TestApp, key: &str, email: &str, role: &str) -> Value {
    let body =
        json!({"email": email, "name": "Sam", "password": "correct horse battery", "role": role});
    let (status, user) = send(app, &Method::POST, "/v1/users", Some(key), Some(&body)).await;
    assert_eq!(status, 201, "{user}");
    user
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    send(
        app,
        &Method::POST,
        "/v1/auth/login",
        None,
        Some(&json!({"email": email, "password": password})),
    )
    .await
}

#[tokio::test]
async fn login_refresh_and_reuse_of_a_rotated_refresh_token_revokes_the_family() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = spawn_app().await;
    let key = owner_key(&app).await;
    create_user(&app, &key, "Sam@Example.com", "manager").await;

    let (status, bad) = login(&app, "sam@example.com", "wrong password").await;
    assert_eq!(status, 401, "{bad}");
    let (status, session) = login(&app, "SAM@example.com", "correct horse battery").await;
    assert_eq!(status, 200, "{session}");
    let access = session["access_token"].as_str().unwrap();
    let header = access.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&base64_url(header)).unwrap();
    assert_eq!(header["kid"], "test1");
    let (status, me) = send(&app, &Method::GET, "/v1/auth/me", Some(access), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["role"], "manager");
    assert_eq!(me["user"]["email"], "sam@example.com");
    // A manager reads calls but may not manage users.
    assert_eq!(
        send(&app, &Method::GET, "/v1/calls", Some(access), None)
            .await
            .0,
        200
    );
    let (status, problem) = send(&app, &Method::GET, "/v1/users", Some(access), None).await;
    assert_eq!(
        (status, problem["permission"].as_str()),
        (403, Some("users:read"))
    );

    let first = session["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String| {
        let app = &app;
        async move {
            send(
                app,
                &Method::POST,
                "/v1/auth/refresh",
                None,
                Some(&json!({"refresh_token": token})),
            )
            .await
        }
    };
    let (status, second) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{second}");
    let second_token = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_token, first);
    // The first token comes back: someone kept a copy. The whole family is revoked.
    assert_eq!(refresh(first).await.0, 401);
    assert_eq!(
        refresh(second_token).await.0,
        401,
        "the family's newest token is revoked too"
    );
    // A fresh sign-in still works; its logout revokes it.
    let (_, again) = login(&app, "sam@example.com", "correct horse battery").await;
    let token = again["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = send(
        &app,
        &Method::POST,
        "/v1/auth/logout",
        None,
        Some(&json!({"refresh_token": token.clone()})),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(refresh(token).await.0, 401);
    // A garbage or foreign-signed access token is 401.
    assert_eq!(
        send(
            &app,
            &Method::GET,
            "/v1/calls",
            Some("eyJhbGciOiJIUzI1NiJ9.e30.x"),
            None
        )
        .await
        .0,
        401
    );
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn api_keys_carry_roles_and_stop_working_when_revoked_or_rotated() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = spawn_app().await;
    // The harness's key (created before roles existed in its API) keeps working.
    assert_eq!(app.get_api("/v1/calls", &app.api_key).await.status(), 200);
    let owner = owner_key(&app).await;
    let (status, created) = send(
        &app,
        &Method::POST,
        "/v1/api-keys",
        Some(&owner),
        Some(&json!({"name": "crm", "role": "agent"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        send(&app, &Method::GET, "/v1/calls", Some(&secret), None)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&app, &Method::GET, "/v1/agents", Some(&secret), None)
            .await
            .0,
        403
    );
    // Listed by prefix; the secret is never shown again.
    let (_, list) = send(&app, &Method::GET, "/v1/api-keys", Some(&owner), None).await;
    assert!(!list.to_string().contains(&secret));
    assert!(list.to_string().contains(&secret[..11]));
    // Rotate: the old secret is dead, the new one works.
    let (status, rotated) = send(
        &app,
        &Method::POST,
        &format!("/v1/api-keys/{id}/rotate"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, 201, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        send(&app, &Method::GET, "/v1/calls", Some(&secret), None)
            .await
            .0,
        401
    );
    assert_eq!(
        send(&app, &Method::GET, "/v1/calls", Some(&new_secret), None)
            .await
            .0,
        200
    );
    // Revoke: 401 from now on.
    let new_id = rotated["id"].as_str().unwrap();
    let (status, _) = send(
        &app,
        &Method::DELETE,
        &format!("/v1/api-keys/{new_id}"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, problem) = send(&app, &Method::GET, "/v1/calls", Some(&new_secret), None).await;
    assert_eq!(status, 401, "{problem}");
    // An admin may not mint an owner key.
    let (_, admin) = send(
        &app,
        &Method::POST,
        "/v1/api-keys",
        Some(&owner),
        Some(&json!({"name": "ops", "role": "admin"})),
    )
    .await;
    let admin = admin["secret"].as_str().unwrap();
    let (status, problem) = send(
        &app,
        &Method::POST,
        "/v1/api-keys",
        Some(admin),
        Some(&json!({"name": "x", "role": "owner"})),
    )
    .await;
    assert_eq!(
        (status, problem["permission"].as_str()),
        (403, Some("tenant:delete"))
    );
    // Every change is in the audit log, secrets redacted.
    let (status, log) = send(
        &app,
        &Method::GET,
        "/v1/audit-log?limit=100",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    let actions: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["api_key.create", "api_key.rotate", "api_key.revoke"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
    assert!(!log.to_string().contains(&secret) && !log.to_string().contains(&new_secret));
    assert!(
        log["data"][0]["request_id"].is_string(),
        "{}",
        log["data"][0]
    );
    assert_eq!(
        send(
            &app,
            &Method::GET,
            "/v1/audit-log",
            Some(&secret_of(&app, "viewer").await),
            None
        )
        .await
        .0,
        403
    );
}

async fn secret_of(app: &TestApp, role: &str) -> String {
    let role = Role::parse(role).unwrap();
    app.store
        .create_api_key_with_role(app.tenant, role.as_str(), role)
        .await
        .unwrap()
        .secret
        .into_inner()
}

#[tokio::test]
async fn the_operator_creates_and_suspends_tenants_and_a_suspended_number_says_goodbye() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = spawn_app().await;
    let op = Some(TEST_OPERATOR_TOKEN);
    let body = json!({"name": "Initech Dental", "time_zone": "America/Chicago",
                      "owner": {"email": "peter@initech.example", "name": "Peter", "password": "a long password"}});
    let (status, created) = send(&app, &Method::POST, "/v1/admin/tenants", op, Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["tenant"]["slug"], "initech-dental");
    let (status, _) = send(&app, &Method::POST, "/v1/admin/tenants", op, Some(&body)).await;
    assert_eq!(status, 409, "the slug is taken");
    let bad = json!({"name": "X Co", "time_zone": "Mars/Olympus", "owner": {"email": "a@b.co", "name": "A", "password": "a long password"}});
    let (status, problem) = send(&app, &Method::POST, "/v1/admin/tenants", op, Some(&bad)).await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (400, Some("time_zone"))
    );
    let (status, _) = login(&app, "peter@initech.example", "a long password").await;
    assert_eq!(status, 200);
    let (status, list) = send(&app, &Method::GET, "/v1/admin/tenants", op, None).await;
    assert_eq!(status, 200);
    assert!(list["data"].as_array().unwrap().len() >= 2);
    assert_eq!(
        send(
            &app,
            &Method::GET,
            "/v1/admin/tenants",
            Some(&app.api_key),
            None
        )
        .await
        .0,
        401
    );

    // Suspend the harness's tenant: its number says goodbye and starts no workflow.
    let tenant = app.tenant.to_string();
    let (status, _) = send(
        &app,
        &Method::POST,
        &format!("/v1/admin/tenants/{tenant}/suspend"),
        op,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let call_sid = new_call_sid();
    let response = app
        .post_signed("/twilio/voice", &voice_form(&call_sid, app.number.as_str()))
        .await;
    assert_eq!(response.status(), 200);
    let twiml = response.text().await.unwrap();
    assert!(
        twiml.contains("<Say") && twiml.contains("<Hangup"),
        "{twiml}"
    );
    assert!(!twiml.contains("<Stream"), "{twiml}");
    assert!(
        app.describe(&call_sid).await.is_none(),
        "no workflow for a suspended tenant's call"
    );
    // Its API keys stop working at once, with a problem that says why.
    let (status, problem) = send(&app, &Method::GET, "/v1/calls", Some(&app.api_key), None).await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (
            403,
            Some("https://switchboard.dev/problems/tenant-suspended")
        )
    );
    let (status, usage) = send(
        &app,
        &Method::GET,
        &format!("/v1/admin/tenants/{tenant}"),
        op,
        None,
    )
    .await;
    assert_eq!(
        (status, usage["status"].as_str()),
        (200, Some("suspended")),
        "{usage}"
    );
    let (status, _) = send(
        &app,
        &Method::POST,
        &format!("/v1/admin/tenants/{tenant}/activate"),
        op,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.get_api("/v1/calls", &app.api_key).await.status(), 200);
    app.start_inbound_call().await;
}
