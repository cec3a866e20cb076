//! The dealership CRM through the API: every resource's round trip, paging, filters, problems
//! naming the field, customer deletion as anonymisation, script duplication, the do-not-call
//! list, campaign targets, the owner's views, roles and tenancy. One app for all of it.

use crate::helpers::{AppOptions, TestApp, new_call_sid, roomy_rate_limits, spawn_app_with};
use crate::permissions::send;
use domain::{E164, Role, crm::TargetState};
use reqwest::Method;
use serde_json::{Value, json};
use store::crm::targets::{NewTarget, TargetProgress};

async fn key(app: &TestApp, tenant: domain::TenantId, role: Role) -> String {
    app.store
        .create_api_key_with_role(tenant, role.as_str(), role)
        .await
        .unwrap()
        .secret
        .into_inner()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, created) = send(app, &Method::POST, path, Some(token), Some(&body)).await;
    assert_eq!(status, 201, "{path}: {created}");
    created
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    send(app, &Method::GET, path, Some(token), None).await
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// One of each CRM resource in the app's tenant, by the path segment the permission walk
/// fills ids by.
pub async fn one_of_each(app: &TestApp, owner: &str) -> Vec<(&'static str, String)> {
    let branch = post(app, owner, "/v1/branches", json!({"name": "Walk"})).await;
    let customer = post(
        app,
        owner,
        "/v1/customers",
        json!({"name": "Walk", "phone": "+14155550111", "branch_id": id(&branch)}),
    )
    .await;
    let vehicle = post(
        app,
        owner,
        "/v1/vehicles",
        json!({"customer_id": id(&customer), "make": "Ford", "model": "F-150"}),
    )
    .await;
    let job = post(
        app,
        owner,
        "/v1/jobs",
        json!({"code": "OIL-01", "customer_id": id(&customer), "vehicle_id": id(&vehicle)}),
    )
    .await;
    let script = post(app, owner, "/v1/scripts", json!({"name": "Walk"})).await;
    let appointment = post(app, owner, "/v1/appointments", json!({"customer_id": id(&customer), "starts_at": "2027-01-05T15:00:00Z", "time_zone": "America/New_York"})).await;
    let dnc = post(app, owner, "/v1/dnc", json!({"phone": "+14155550112"})).await;
    let review = post(
        app,
        owner,
        "/v1/qa-reviews",
        json!({"call_sid": new_call_sid(), "score": 4}),
    )
    .await;
    let campaign = post(
        app,
        owner,
        "/v1/campaigns",
        json!({"name": "Walk", "script_id": id(&script)}),
    )
    .await;
    vec![
        ("branches", id(&branch)),
        ("customers", id(&customer)),
        ("vehicles", id(&vehicle)),
        ("jobs", id(&job)),
        ("scripts", id(&script)),
        ("appointments", id(&appointment)),
        ("dnc", id(&dnc)),
        ("qa-reviews", id(&review)),
        ("campaigns", id(&campaign)),
    ]
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

/// Scripts are `scripts:write`, which managers lack (seed 004's matrix): `admin` writes them.
async fn bad_fields_are_named(app: &TestApp, manager: &str, admin: &str, customer: &str) {
    for (path, body, field) in [
        (
            "/v1/customers",
            json!({"name": "X", "phone": "555-0102"}),
            "phone",
        ),
        (
            "/v1/customers",
            json!({"name": "X", "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
        (
            "/v1/customers",
            json!({"name": "X", "email": "nope"}),
            "email",
        ),
        (
            "/v1/customers",
            json!({"name": "X", "branch_id": uuid::Uuid::now_v7().to_string()}),
            "branch_id",
        ),
        ("/v1/customers", json!({"name": " "}), "name"),
        (
            "/v1/vehicles",
            json!({"customer_id": customer, "make": "Ford", "model": "T", "year": 1700}),
            "year",
        ),
        (
            "/v1/vehicles",
            json!({"customer_id": customer, "make": "Ford", "model": "T", "mileage": -1}),
            "mileage",
        ),
        (
            "/v1/jobs",
            json!({"code": "X", "status": "someday"}),
            "status",
        ),
        (
            "/v1/jobs",
            json!({"code": "X", "scheduled_at": "tomorrow"}),
            "scheduled_at",
        ),
        (
            "/v1/qa-reviews",
            json!({"call_sid": new_call_sid(), "score": 6}),
            "score",
        ),
        (
            "/v1/qa-reviews",
            json!({"call_sid": "nope", "score": 3}),
            "call_sid",
        ),
        (
            "/v1/scripts",
            json!({"name": "S", "collect": [{"key": "k", "prompt": "p", "type": "colour"}]}),
            "collect",
        ),
        (
            "/v1/appointments",
            json!({"customer_id": customer, "starts_at": "2027-01-05T15:00:00Z", "time_zone": "Nowhere"}),
            "time_zone",
        ),
        ("/v1/dnc", json!({"phone": "call me maybe"}), "phone"),
        (
            "/v1/campaigns",
            json!({"name": "C", "agent_id": uuid::Uuid::now_v7().to_string()}),
            "agent_id",
        ),
        (
            "/v1/campaigns",
            json!({"name": "C", "settings": [1, 2]}),
            "settings",
        ),
    ] {
        let token = if path.starts_with("/v1/scripts") {
            admin
        } else {
            manager
        };
        assert_eq!(
            problem(app, token, Method::POST, path, body.clone()).await,
            (400, field.to_owned()),
            "{path} {body}"
        );
    }
    let (status, _) = get(
        app,
        manager,
        "/v1/jobs?from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(status, 400, "a backwards range");
}

async fn customers_page_filter_and_anonymise(app: &TestApp, manager: &str, branch: &str) -> String {
    for (name, phone) in [
        ("Ann Lee", "+14155550121"),
        ("Bo Diaz", "+14155550122"),
        ("Cy Ng", "+1 (415) 555-0123"),
    ] {
        post(
            app,
            manager,
            "/v1/customers",
            json!({"name": name, "phone": phone, "branch_id": branch, "consent_calls": true}),
        )
        .await;
    }
    let (_, first) = get(app, manager, "/v1/customers?limit=2").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(first["data"][0]["name"], "Cy Ng", "newest first");
    assert_eq!(first["data"][0]["phone"], "+14155550123", "normalised");
    assert!(first["data"][0]["consent_recorded_at"].is_string());
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) = get(
        app,
        manager,
        &format!("/v1/customers?limit=2&before={cursor}"),
    )
    .await;
    assert_eq!(
        (rest["data"].as_array().unwrap().len(), &rest["next_cursor"]),
        (2, &Value::Null),
        "three here and the walk's one"
    );
    let (_, found) = get(app, manager, "/v1/customers?q=DIAZ").await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1, "{found}");
    let (_, found) = get(app, manager, "/v1/customers?q=0121").await;
    assert_eq!(found["data"][0]["name"], "Ann Lee");
    let (_, by_branch) = get(app, manager, &format!("/v1/customers?branch_id={branch}")).await;
    assert_eq!(by_branch["data"].as_array().unwrap().len(), 4);

    let ann = id(&found["data"][0]);
    let appointment = post(app, manager, "/v1/appointments", json!({"customer_id": ann, "starts_at": "2027-02-01T16:00:00Z", "time_zone": "America/Los_Angeles", "notes": "Brakes"})).await;
    let (status, _) = send(
        app,
        &Method::DELETE,
        &format!("/v1/customers/{ann}"),
        Some(manager),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = get(app, manager, &format!("/v1/customers/{ann}")).await;
    assert_eq!(status, 404, "an anonymised customer is gone");
    let (_, left) = get(app, manager, "/v1/customers?q=0121").await;
    assert_eq!(left["data"], json!([]));
    let path = format!("/v1/appointments/{}", id(&appointment));
    let (status, kept) = get(app, manager, &path).await;
    assert_eq!(
        (status, kept["customer_id"].as_str()),
        (200, Some(ann.as_str()))
    );
    let (status, cancelled) = send(
        app,
        &Method::PATCH,
        &path,
        Some(manager),
        Some(&json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    ann
}

async fn scripts_dnc_and_campaign_targets(app: &TestApp, manager: &str, admin: &str) {
    let script = post(app, admin, "/v1/scripts", json!({"name": "Service due", "goal": "Book a service", "questions": ["When suits you?"], "collect": [{"key": "miles", "prompt": "Roughly how many miles?", "type": "number"}], "voicemail_message": "Call us back"})).await;
    let copy = post(
        app,
        admin,
        &format!("/v1/scripts/{}/duplicate", id(&script)),
        json!({}),
    )
    .await;
    assert_eq!(copy["name"], "Service due (copy)");
    assert_eq!(
        (&copy["collect"], &copy["questions"]),
        (&script["collect"], &script["questions"])
    );
    assert_ne!(copy["id"], script["id"]);

    let entry = post(
        app,
        manager,
        "/v1/dnc",
        json!({"phone": "+1 415-555-0199", "reason": "asked", "source": "call"}),
    )
    .await;
    assert_eq!(
        (entry["phone"].as_str(), entry["source"].as_str()),
        (Some("+14155550199"), Some("call"))
    );
    let (status, again) = send(
        app,
        &Method::POST,
        "/v1/dnc",
        Some(manager),
        Some(&json!({"phone": "0014155550199"})),
    )
    .await;
    assert_eq!(status, 409, "{again}");
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("do-not-call entry for this number"),
        "{again}"
    );
    let number = E164::parse("+14155550199").unwrap();
    assert!(app.store.is_dnc(app.tenant, &number).await.unwrap());
    assert!(
        app.store
            .dnc_set(app.tenant)
            .await
            .unwrap()
            .contains("+14155550199")
    );
    let (_, listed) = get(app, manager, "/v1/dnc?phone=%2B1%20415%20555%200199").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");

    let campaign = post(
        app,
        manager,
        "/v1/campaigns",
        json!({"name": "Winter tyres", "script_id": id(&script), "settings": {"concurrency": 3}}),
    )
    .await;
    assert_eq!(campaign["status"], "draft");
    let campaign_id = uuid::Uuid::parse_str(&id(&campaign)).unwrap();
    let target = |n: u32| NewTarget {
        customer_id: None,
        phone: E164::parse(&format!("+1415555{n:04}")).unwrap(),
        name: Some(format!("T{n}")),
        email: None,
        time_zone: Some(chrono_tz::America::Chicago),
        extra: json!({"plate": n}),
        source_line: Some(n as i32),
    };
    let targets: Vec<_> = (0..1_200).map(target).collect();
    let added = app
        .store
        .add_targets(app.tenant, campaign_id, targets.clone())
        .await
        .unwrap();
    assert_eq!(added, 1_200);
    let again = app
        .store
        .add_targets(app.tenant, campaign_id, targets[..10].to_vec())
        .await
        .unwrap();
    assert_eq!(again, 0, "numbers the campaign has are skipped");
    let (_, page) = get(
        app,
        manager,
        &format!("/v1/campaigns/{campaign_id}/targets?limit=100"),
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 100);
    assert!(page["next_cursor"].is_string());
    let first = uuid::Uuid::parse_str(&id(&page["data"][0])).unwrap();
    let progress = TargetProgress {
        state: TargetState::Scheduled,
        attempts: 1,
        last_call_sid: Some(domain::CallSid::parse(&new_call_sid()).unwrap()),
        last_outcome: Some(domain::CallOutcome::NoAnswer),
        next_attempt_at: None,
    };
    app.store
        .update_target(app.tenant, first, progress)
        .await
        .unwrap();
    let (_, retrying) = get(
        app,
        manager,
        &format!("/v1/campaigns/{campaign_id}/targets?state=scheduled"),
    )
    .await;
    assert_eq!(retrying["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            retrying["data"][0]["attempts"].as_i64(),
            retrying["data"][0]["last_outcome"].as_str()
        ),
        (Some(1), Some("no_answer"))
    );
    let (status, renamed) = send(
        app,
        &Method::PATCH,
        &format!("/v1/campaigns/{campaign_id}"),
        Some(manager),
        Some(&json!({"name": "Snow tyres", "script_id": null})),
    )
    .await;
    assert_eq!(
        (
            status,
            renamed["name"].as_str(),
            &renamed["script_id"],
            &renamed["settings"]
        ),
        (
            200,
            Some("Snow tyres"),
            &Value::Null,
            &json!({"concurrency": 3})
        )
    );
}

async fn owner_views(app: &TestApp, manager: &str, customer: &str) {
    let (status, today) = get(app, manager, "/v1/crm/today").await;
    assert_eq!(status, 200, "{today}");
    let (_, tomorrow) = get(app, manager, "/v1/crm/tomorrow").await;
    let at = |day: &Value, minutes: i64| {
        let from = chrono::DateTime::parse_from_rfc3339(day["from"].as_str().unwrap()).unwrap();
        (from + chrono::TimeDelta::minutes(minutes)).to_rfc3339()
    };
    post(
        app,
        manager,
        "/v1/jobs",
        json!({"code": "TODAY-1", "scheduled_at": at(&today, 1)}),
    )
    .await;
    post(
        app,
        manager,
        "/v1/jobs",
        json!({"code": "TODAY-X", "scheduled_at": at(&today, 2), "status": "cancelled"}),
    )
    .await;
    post(
        app,
        manager,
        "/v1/jobs",
        json!({"code": "TMRW-1", "scheduled_at": at(&tomorrow, 60), "emergency": true}),
    )
    .await;
    post(
        app,
        manager,
        "/v1/jobs",
        json!({"code": "OLD-911", "emergency": true, "status": "done"}),
    )
    .await;
    post(
        app,
        manager,
        "/v1/appointments",
        json!({"customer_id": customer, "starts_at": at(&tomorrow, 90), "time_zone": "UTC"}),
    )
    .await;

    let codes = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["code"].as_str().unwrap_or("appt").to_owned())
            .collect()
    };
    let (_, today) = get(app, manager, "/v1/crm/today").await;
    assert_eq!(codes(&today, "jobs"), ["TODAY-1"]);
    let (_, tomorrow) = get(app, manager, "/v1/crm/tomorrow").await;
    assert_eq!(codes(&tomorrow, "jobs"), ["TMRW-1"]);
    assert_eq!(tomorrow["appointments"].as_array().unwrap().len(), 1);
    let (_, emergencies) = get(app, manager, "/v1/crm/emergencies").await;
    assert_eq!(codes(&emergencies, "data"), ["TMRW-1"]);
    let (_, filtered) = get(
        app,
        manager,
        &format!(
            "/v1/jobs?emergency=true&status=scheduled&from={}",
            urlencode(&at(&today, 0))
        ),
    )
    .await;
    assert_eq!(codes(&filtered, "data"), ["TMRW-1"]);
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

async fn roles_and_tenancy(app: &TestApp, manager: &str, ids: &[(&'static str, String)]) {
    let agent = key(app, app.tenant, Role::Agent).await;
    let (status, _) = get(app, &agent, "/v1/customers").await;
    assert_eq!(status, 200, "an agent reads the CRM");
    let (status, denied) = send(
        app,
        &Method::POST,
        "/v1/customers",
        Some(&agent),
        Some(&json!({"name": "X"})),
    )
    .await;
    assert_eq!(
        (status, denied["permission"].as_str()),
        (403, Some("crm:write"))
    );

    let other = app.store.create_tenant("Globex").await.unwrap().id;
    let intruder = key(app, other, Role::Owner).await;
    for (resource, id) in ids {
        let path = format!("/v1/{resource}/{id}");
        assert_eq!(get(app, &intruder, &path).await.0, 404, "GET {path}");
        let (status, _) = send(
            app,
            &Method::PATCH,
            &path,
            Some(&intruder),
            Some(&json!({"notes": "mine"})),
        )
        .await;
        assert_eq!(status, 404, "PATCH {path}");
        assert_eq!(
            send(app, &Method::DELETE, &path, Some(&intruder), None)
                .await
                .0,
            404,
            "DELETE {path}"
        );
        assert_eq!(get(app, manager, &path).await.0, 200, "{path} is still A's");
        let (_, list) = get(app, &intruder, &format!("/v1/{resource}")).await;
        assert_eq!(
            list["data"],
            json!([]),
            "{resource} listed to another tenant"
        );
    }
    let customer = &ids.iter().find(|(r, _)| *r == "customers").unwrap().1;
    let borrowed = json!({"customer_id": customer, "make": "Ford", "model": "T"});
    assert_eq!(
        problem(app, &intruder, Method::POST, "/v1/vehicles", borrowed).await,
        (400, "customer_id".to_owned())
    );
}

#[tokio::test]
async fn a_manager_runs_the_dealership_crm_and_nobody_else_sees_it() {
    let _cpu = crate::helpers::sharing_the_cpu().await;
    // A hundred-odd writes in a few seconds: more than one tenant's default burst.
    let app = spawn_app_with(AppOptions {
        rate_limits: roomy_rate_limits(),
        ..AppOptions::default()
    })
    .await;
    let manager = key(&app, app.tenant, Role::Manager).await;
    let owner = key(&app, app.tenant, Role::Owner).await;
    let ids = one_of_each(&app, &owner).await;
    let branch = &ids[0].1;
    let customer = &ids[1].1;

    let vehicle_path = format!("/v1/vehicles/{}", ids[2].1);
    let (status, patched) = send(
        &app,
        &Method::PATCH,
        &vehicle_path,
        Some(&manager),
        Some(&json!({"year": 2021, "vin": "1ftfw1e50mfa00001"})),
    )
    .await;
    assert_eq!(
        (
            status,
            patched["year"].as_i64(),
            patched["vin"].as_str(),
            patched["make"].as_str()
        ),
        (200, Some(2021), Some("1FTFW1E50MFA00001"), Some("Ford")),
        "{patched}"
    );
    let (_, by_customer) = get(
        &app,
        &manager,
        &format!("/v1/vehicles?customer_id={customer}"),
    )
    .await;
    assert_eq!(by_customer["data"].as_array().unwrap().len(), 1);
    let (status, _) = send(
        &app,
        &Method::PATCH,
        &vehicle_path,
        Some(&manager),
        Some(&json!({"year": 3000})),
    )
    .await;
    assert_eq!(status, 400);

    bad_fields_are_named(&app, &manager, &owner, customer).await;
    customers_page_filter_and_anonymise(&app, &manager, branch).await;
    scripts_dnc_and_campaign_targets(&app, &manager, &owner).await;
    owner_views(&app, &manager, customer).await;
    roles_and_tenancy(&app, &manager, &ids).await;

    let (_, audit) = get(&app, &owner, "/v1/audit-log?limit=100").await;
    let text = audit.to_string();
    assert!(text.contains("customer.delete"), "deletions are audited");
    assert!(
        !text.contains("+14155550121"),
        "the audit log keeps numbers masked"
    );
}

/// POSTs `csv` as a campaign's target list.
async fn upload(app: &TestApp, token: &str, campaign: &str, csv: &str) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/v1/campaigns/{campaign}/targets", app.address))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_target_list_keeps_its_good_rows_and_names_each_bad_one_by_line() {
    let app = spawn_app_with(AppOptions {
        rate_limits: roomy_rate_limits(),
        ..AppOptions::default()
    })
    .await;
    let manager = key(&app, app.tenant, Role::Manager).await;
    post(&app, &manager, "/v1/dnc", json!({"phone": "+12125550199"})).await;
    let campaign = id(&post(&app, &manager, "/v1/campaigns", json!({"name": "Recall"})).await);
    let csv = "Name,Phone,Email,Time Zone,Vehicle\n\
               Ada,(415) 555-0101,ada@example.com,,2019 Civic\n\
               Bob,not a number,,,\n\
               Cy,+44 20 7946 0018,,Europe/London,\n\
               Ada again,415-555-0101,,,\n\
               Dee,+1 212 555 0199,,,\n\
               Eve,+1 312 555 0142,eve@,,\n\
               Fay,+1 617 555 0123,,Mars/Base,\n\
               \"Gus, Jr.\",+1 305 555 0177,,,\"F-150\nwith a dent\"\n\
               Hal\n";
    let (status, report) = upload(&app, &manager, &campaign, csv).await;
    assert_eq!(status, 200, "{report}");
    let rejected: Vec<(u64, &str)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [
            (3, "invalid_number"),
            (5, "duplicate"),
            (6, "do_not_call"),
            (7, "invalid_email"),
            (8, "invalid_time_zone"),
            (11, "wrong_columns"),
        ],
        "{report:#}"
    );
    assert_eq!(
        (report["accepted"].as_u64(), report["added"].as_u64()),
        (Some(3), Some(3))
    );
    let (_, listed) = get(&app, &manager, &format!("/v1/campaigns/{campaign}/targets")).await;
    let mut kept: Vec<(String, String, i64)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["phone"].as_str().unwrap().to_owned(),
                t["time_zone"].as_str().unwrap_or_default().to_owned(),
                t["source_line"].as_i64().unwrap(),
            )
        })
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            ("+13055550177".into(), "America/New_York".into(), 9),
            ("+14155550101".into(), "America/Los_Angeles".into(), 2),
            ("+442079460018".into(), "Europe/London".into(), 4),
        ]
    );
    // The same list again adds nothing; a JSON body and another tenant's campaign are refused.
    let (_, again) = upload(&app, &manager, &campaign, csv).await;
    assert_eq!(
        (again["accepted"].as_u64(), again["added"].as_u64()),
        (Some(3), Some(0))
    );
    let (status, problem) = send(
        &app,
        &Method::POST,
        &format!("/v1/campaigns/{campaign}/targets"),
        Some(&manager),
        Some(&json!({"phone": "+14155550101"})),
    )
    .await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("body")));
    // A bad query parameter is a problem naming it, like a bad body field.
    let (status, problem) = get(
        &app,
        &manager,
        &format!("/v1/campaigns/{campaign}/targets?limit=ten"),
    )
    .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (400, Some("limit")),
        "{problem}"
    );
    let other = app
        .store
        .create_tenant("Other dealership")
        .await
        .unwrap()
        .id;
    let stranger = key(&app, other, Role::Manager).await;
    let (status, _) = upload(&app, &stranger, &campaign, csv).await;
    assert_eq!(status, 404);
}
