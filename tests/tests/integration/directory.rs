//! The receptionist's company directory through the API: departments, employees, company info
//! and availability; validation naming the field; roles; tenancy; hours across a DST change.

use crate::helpers::{TestApp, spawn_app};
use crate::permissions::send;
use domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn key(app: &TestApp, role: Role) -> String {
    app.store
        .create_api_key_with_role(app.tenant, role.as_str(), role)
        .await
        .unwrap()
        .secret
        .into_inner()
}

/// A manager's access token, signed in with a password like a console user.
async fn manager_jwt(app: &TestApp) -> String {
    let owner = key(app, Role::Owner).await;
    let user = json!({"email": "mia@example.com", "name": "Mia", "password": "correct horse battery", "role": "manager"});
    let (status, body) = send(app, &Method::POST, "/v1/users", Some(&owner), Some(&user)).await;
    assert_eq!(status, 201, "{body}");
    let login = json!({"email": "mia@example.com", "password": "correct horse battery"});
    let (status, session) = send(app, &Method::POST, "/v1/auth/login", None, Some(&login)).await;
    assert_eq!(status, 200, "{session}");
    session["access_token"].as_str().unwrap().to_owned()
}

fn weekdays(start: &str, end: &str) -> Value {
    let day = json!([[start, end]]);
    json!({"weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}, "exceptions": []})
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, created) = send(app, &Method::POST, path, Some(token), Some(&body)).await;
    assert_eq!(status, 201, "{path}: {created}");
    created
}

/// `(status, field)` of a request expected to fail.
async fn problem(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, String) {
    let (status, problem) = send(app, &method, path, Some(token), Some(&body)).await;
    (
        status,
        problem["field"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_manager_builds_the_directory_and_bad_fields_are_named() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = spawn_app().await;
    let jwt = manager_jwt(&app).await;
    let billing = post(&app, &jwt, "/v1/departments", json!({"name": "Billing", "description": "Invoices and accounts", "hours": weekdays("09:00", "17:00"), "routing_priority": 5})).await;
    let billing_id = billing["id"].as_str().unwrap();
    assert_eq!(billing["hours"], weekdays("09:00", "17:00"));
    let ben = json!({"name": "Ben Ortiz", "phone": "+14155550102", "email": "Ben@Example.com", "department_id": billing_id, "roles": ["billing specialist"]});
    let ben = post(&app, &jwt, "/v1/employees", ben).await;
    let ben_id = ben["id"].as_str().unwrap();
    assert_eq!(
        (ben["status"].as_str(), ben["email"].as_str()),
        (Some("active"), Some("ben@example.com"))
    );

    let (status, fetched) = send(
        &app,
        &Method::GET,
        &format!("/v1/employees/{ben_id}"),
        Some(&jwt),
        None,
    )
    .await;
    assert_eq!((status, &fetched), (200, &ben));
    let patch = json!({"status": "away", "office": "Back office", "hours": {"weekly": {"mon": [["10:00", "24:00"]]}}});
    let (status, patched) = send(
        &app,
        &Method::PATCH,
        &format!("/v1/employees/{ben_id}"),
        Some(&jwt),
        Some(&patch),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (patched["status"].as_str(), patched["phone"].as_str()),
        (Some("away"), Some("+14155550102"))
    );
    assert_eq!(
        patched["hours"]["weekly"]["mon"],
        json!([["10:00", "24:00"]])
    );
    let listed = |query: String| {
        let app = &app;
        let jwt = &jwt;
        async move {
            send(
                app,
                &Method::GET,
                &format!("/v1/employees?{query}"),
                Some(jwt),
                None,
            )
            .await
            .1["data"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(
        listed(format!("department_id={billing_id}&status=away")).await,
        1
    );
    assert_eq!(listed("status=active".into()).await, 0);
    let (status, renamed) = send(
        &app,
        &Method::PATCH,
        &format!("/v1/departments/{billing_id}"),
        Some(&jwt),
        Some(&json!({"name": "Accounts", "hours": null})),
    )
    .await;
    assert_eq!(
        (status, renamed["name"].as_str(), &renamed["hours"]),
        (200, Some("Accounts"), &Value::Null)
    );
    let company = json!({"name": "Acme Dental", "greeting": "Hello", "business_hours": weekdays("08:00", "18:00"), "settings": {"parking": true}});
    let (status, stored) = send(
        &app,
        &Method::PUT,
        "/v1/company-info",
        Some(&jwt),
        Some(&company),
    )
    .await;
    assert_eq!((status, &stored), (200, &company));
    assert_eq!(
        send(&app, &Method::GET, "/v1/company-info", Some(&jwt), None)
            .await
            .1,
        company
    );

    let employees = "/v1/employees";
    for (body, field) in [
        (json!({"name": "X", "phone": "555-0102"}), "phone"),
        (
            json!({"name": "X", "hours": {"weekly": {"mon": [["17:00", "09:00"]]}}}),
            "hours",
        ),
        (
            json!({"name": "X", "hours": {"weekly": {"monday": [["09:00", "17:00"]]}}}),
            "hours",
        ),
        (
            json!({"name": "X", "department_id": uuid::Uuid::now_v7().to_string()}),
            "department_id",
        ),
        (json!({"name": "X", "email": "not an address"}), "email"),
        (json!({"name": "X", "status": "on holiday"}), "status"),
        (json!({"name": " "}), "name"),
        (json!({"name": "X".repeat(201)}), "name"),
    ] {
        assert_eq!(
            problem(&app, &jwt, Method::POST, employees, body.clone()).await,
            (400, field.to_owned()),
            "{body}"
        );
    }
    let bad_company = json!({"business_hours": {"weekly": {"sun": [["9:00", "12:00"]]}}});
    assert_eq!(
        problem(&app, &jwt, Method::PUT, "/v1/company-info", bad_company).await,
        (400, "business_hours".to_owned())
    );

    let (status, _) = send(
        &app,
        &Method::DELETE,
        &format!("/v1/employees/{ben_id}"),
        Some(&jwt),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send(
        &app,
        &Method::GET,
        &format!("/v1/employees/{ben_id}"),
        Some(&jwt),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let audit = app
        .store
        .list_audit(app.tenant, 50, None, None, None)
        .await
        .unwrap();
    let actions: Vec<&str> = audit
        .items
        .iter()
        .map(|e| e.entry.action.as_str())
        .collect();
    for action in [
        "department.create",
        "department.update",
        "employee.create",
        "employee.update",
        "employee.delete",
        "company_info.update",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let text = serde_json::to_string(
        &audit
            .items
            .iter()
            .map(|e| (&e.entry.before, &e.entry.after))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(
        !text.contains("+14155550102"),
        "the audit log keeps employees' numbers masked"
    );
}

#[tokio::test]
async fn an_agent_reads_the_directory_but_may_not_change_it() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = spawn_app().await;
    let agent = key(&app, Role::Agent).await;
    let (status, denied) = send(
        &app,
        &Method::POST,
        "/v1/employees",
        Some(&agent),
        Some(&json!({"name": "Eve"})),
    )
    .await;
    assert_eq!(
        (status, denied["permission"].as_str()),
        (403, Some("directory:write"))
    );
    for path in ["/v1/employees", "/v1/departments", "/v1/company-info"] {
        let (status, body) = send(&app, &Method::GET, path, Some(&agent), None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
}

#[tokio::test]
async fn another_tenants_employee_is_not_found() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = spawn_app().await;
    let owner = key(&app, Role::Owner).await;
    let ben = post(
        &app,
        &owner,
        "/v1/employees",
        json!({"name": "Ben Ortiz", "phone": "+14155550102"}),
    )
    .await;
    let path = format!("/v1/employees/{}", ben["id"].as_str().unwrap());
    let other = app.store.create_tenant("Globex").await.unwrap();
    let intruder = app
        .store
        .create_api_key(other.id, "intruder")
        .await
        .unwrap()
        .secret
        .into_inner();
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"name": "Mole"}));
        let (status, body) = send(&app, &method, &path, Some(&intruder), body.as_ref()).await;
        assert_eq!(status, 404, "{method}: {body}");
    }
    let (_, listed) = send(&app, &Method::GET, "/v1/employees", Some(&intruder), None).await;
    assert_eq!(listed["data"], json!([]));
    let (status, still) = send(&app, &Method::GET, &path, Some(&owner), None).await;
    assert_eq!((status, still["name"].as_str()), (200, Some("Ben Ortiz")));
}

#[tokio::test]
async fn availability_keeps_local_hours_across_the_spring_dst_change() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = spawn_app().await;
    let owner = key(&app, Role::Owner).await;
    let zone = json!({"time_zone": "America/New_York"});
    let (status, tenant) = send(
        &app,
        &Method::PATCH,
        "/v1/tenant",
        Some(&owner),
        Some(&zone),
    )
    .await;
    assert_eq!(status, 200, "{tenant}");
    let billing = post(
        &app,
        &owner,
        "/v1/departments",
        json!({"name": "Billing", "hours": weekdays("09:00", "17:00")}),
    )
    .await;
    let at = |when: &str| {
        format!(
            "/v1/directory/availability?target_kind=department&id={}&at={when}",
            billing["id"].as_str().unwrap()
        )
    };
    // Saturday before the change (EST): Monday 09:00 is EDT, 13:00 UTC.
    let (status, saturday) = send(
        &app,
        &Method::GET,
        &at("2026-03-07T12:00:00Z"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, 200, "{saturday}");
    assert_eq!(saturday["time_zone"], "America/New_York");
    assert_eq!(saturday["open_now"], false);
    assert_eq!(saturday["next_opening"], "2026-03-09T09:00:00-04:00");
    assert_eq!(saturday["next_opening_phrase"], "on Monday at 9 am");
    let (_, monday) = send(
        &app,
        &Method::GET,
        &at("2026-03-09T13:00:00Z"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(
        (monday["open_now"].as_bool(), &monday["next_opening"]),
        (Some(true), &Value::Null)
    );
    let (_, early) = send(
        &app,
        &Method::GET,
        &at("2026-03-09T12:30:00Z"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(early["next_opening_phrase"], "today at 9 am");
    assert_eq!(
        problem(&app, &owner, Method::GET, &at("next-tuesday"), Value::Null).await,
        (400, "at".to_owned())
    );
    let unknown = format!(
        "/v1/directory/availability?target_kind=employee&id={}",
        uuid::Uuid::now_v7()
    );
    assert_eq!(
        send(&app, &Method::GET, &unknown, Some(&owner), None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn deleting_a_department_keeps_its_employees_without_one() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    let app = spawn_app().await;
    let owner = key(&app, Role::Owner).await;
    let front = post(
        &app,
        &owner,
        "/v1/departments",
        json!({"name": "Front Desk"}),
    )
    .await;
    let front_id = front["id"].as_str().unwrap();
    let carla = post(
        &app,
        &owner,
        "/v1/employees",
        json!({"name": "Carla Nguyen", "department_id": front_id, "roles": ["receptionist"]}),
    )
    .await;
    let (status, _) = send(
        &app,
        &Method::DELETE,
        &format!("/v1/departments/{front_id}"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, carla) = send(
        &app,
        &Method::GET,
        &format!("/v1/employees/{}", carla["id"].as_str().unwrap()),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!((status, &carla["department_id"]), (200, &Value::Null));
    let (status, _) = send(
        &app,
        &Method::GET,
        &format!("/v1/departments/{front_id}"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, 404);
}
