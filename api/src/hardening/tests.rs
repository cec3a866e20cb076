use super::*;
use axum::{
    body::{Body, Bytes},
    http::Request,
    routing::{get, post},
};
use tower::ServiceExt;

const APP_ORIGIN: &str = "https://app.example.com";

fn config(public_url: &str) -> ApiConfig {
    ApiConfig {
        public_url: url::Url::parse(public_url).unwrap(),
        twilio_auth_token: "token".into(),
        task_queue: "calls".into(),
        auth: crate::auth::AuthSettings::single_node(),
        history_url: "http://127.0.0.1:8233/namespaces/default/workflows/".into(),
        cors_allowed_origins: vec![APP_ORIGIN.into()],
    }
}

fn app(public_url: &str) -> Router {
    let router = Router::new()
        .route(
            "/v1/things",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/codec/decode",
            post(|body: Bytes| async move { body.len().to_string() })
                .layer(body_limit(4 * DEFAULT_BODY_LIMIT)),
        )
        .route("/docs", get(|| async { "<html></html>" }))
        .route("/healthz", get(|| async { "ok" }));
    apply(router, &config(public_url))
}

async fn send(app: Router, request: Request<Body>) -> Response {
    app.oneshot(request).await.unwrap()
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let body = vec![b'x'; DEFAULT_BODY_LIMIT + 1];
    let response = send(
        app("https://api.example.com"),
        Request::post("/v1/things").body(Body::from(body)).unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        header(&response, "content-type"),
        Some("application/problem+json")
    );
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["status"], 413);

    let at_limit = vec![b'x'; DEFAULT_BODY_LIMIT];
    let response = send(
        app("https://api.example.com"),
        Request::post("/v1/things")
            .body(Body::from(at_limit))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_route_can_raise_its_own_body_limit() {
    let body = vec![b'x'; 2 * DEFAULT_BODY_LIMIT];
    let response = send(
        app("https://api.example.com"),
        Request::post("/codec/decode")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = vec![b'x'; 4 * DEFAULT_BODY_LIMIT + 1];
    let response = send(
        app("https://api.example.com"),
        Request::post("/codec/decode")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

fn preflight(origin: &str) -> Request<Body> {
    Request::options("/v1/things")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_listed_origin_passes_preflight_with_credentials() {
    let response = send(app("https://api.example.com"), preflight(APP_ORIGIN)).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(APP_ORIGIN)
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
    let methods = header(&response, "access-control-allow-methods").unwrap();
    assert!(
        methods.contains("PATCH") && methods.contains("DELETE"),
        "{methods}"
    );
    let headers = header(&response, "access-control-allow-headers").unwrap();
    assert!(headers.contains("authorization"), "{headers}");
}

#[tokio::test]
async fn another_origin_gets_no_cors_allowance() {
    for origin in ["https://evil.example.com", "null"] {
        let response = send(app("https://api.example.com"), preflight(origin)).await;
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{origin}"
        );
    }
    let response = send(
        app("https://api.example.com"),
        Request::get("/healthz")
            .header("origin", "https://evil.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let response = send(
        app("https://api.example.com"),
        Request::post("/v1/things").body(Body::from("{}")).unwrap(),
    )
    .await;
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
    assert_eq!(header(&response, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(&response, "content-security-policy"), Some(API_CSP));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    assert_eq!(header(&response, "strict-transport-security"), Some(HSTS));

    // Errors too, and outside /v1 no `no-store`.
    let response = send(
        app("https://api.example.com"),
        Request::get("/nowhere").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&response, "cache-control"), None);
}

#[tokio::test]
async fn the_docs_page_gets_a_policy_that_lets_it_load() {
    let response = send(
        app("https://api.example.com"),
        Request::get("/docs").body(Body::empty()).unwrap(),
    )
    .await;
    let csp = header(&response, "content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(
        !csp.contains("https:"),
        "nothing may load from elsewhere: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[tokio::test]
async fn no_hsts_over_plain_http() {
    let response = send(
        app("http://127.0.0.1:8080"),
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(header(&response, "strict-transport-security"), None);
    assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
}

#[test]
fn origins_are_parsed_and_checked() {
    assert_eq!(
        parse_origins(" https://app.example.com/, http://localhost:8233 ").unwrap(),
        vec!["https://app.example.com", "http://localhost:8233"]
    );
    assert_eq!(parse_origins("").unwrap(), Vec::<String>::new());
    assert!(parse_origins("*").is_err());
    assert!(parse_origins("https://app.example.com/path").is_err());
}
