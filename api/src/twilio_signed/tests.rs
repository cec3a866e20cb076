use super::*;
use axum::{
    Router,
    body::Body,
    http::{StatusCode, header},
    routing::{get, post},
};
use telephony::compute_signature;
use tower::ServiceExt;

const TOKEN: &str = "test-auth-token";
const PUBLIC: &str = "https://voice.example.com";

fn app() -> Router {
    let config = Arc::new(ApiConfig {
        public_url: url::Url::parse(PUBLIC).unwrap(),
        twilio_auth_token: TOKEN.into(),
        task_queue: "calls".into(),
        auth: crate::auth::AuthSettings::single_node(),
        history_url: "http://127.0.0.1:8233/namespaces/default/workflows/".into(),
        cors_allowed_origins: Vec::new(),
    });
    Router::new()
        .route(
            "/twilio/voice",
            post(
                |signed: TwilioSigned| async move { signed.required("CallSid").map(str::to_owned) },
            ),
        )
        .route("/twilio/media", get(|_: TwilioSigned| async { "upgrade" }))
        .with_state(config)
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn post_form(path: &str, params: &[(String, String)], signature: Option<String>) -> Request {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "localhost");
    if let Some(signature) = signature {
        request = request.header("x-twilio-signature", signature);
    }
    request
        .body(Body::from(serde_urlencoded::to_string(params).unwrap()))
        .unwrap()
}

fn get_signed(path_and_query: &str, signature: String) -> Request {
    Request::get(path_and_query)
        .header("x-twilio-signature", signature)
        .body(Body::empty())
        .unwrap()
}

async fn status_and_body(request: Request) -> (StatusCode, String) {
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_form_signed_over_the_public_url_is_admitted_with_its_fields() {
    let params = fields(&[("CallSid", "CA123"), ("From", "+14155550100")]);
    let signature = compute_signature(TOKEN, &format!("{PUBLIC}/twilio/voice"), &params);
    let (status, body) =
        status_and_body(post_form("/twilio/voice", &params, Some(signature))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "CA123");
}

#[tokio::test]
async fn a_wrong_missing_or_stale_signature_gets_403() {
    let params = fields(&[("CallSid", "CA123")]);
    let url = format!("{PUBLIC}/twilio/voice");
    let tampered = fields(&[("CallSid", "CA999")]);
    let cases = [
        (
            "wrong token",
            Some(compute_signature("other-token", &url, &params)),
        ),
        ("missing", None),
        (
            "other fields",
            Some(compute_signature(TOKEN, &url, &tampered)),
        ),
        (
            "host header url",
            Some(compute_signature(
                TOKEN,
                "http://localhost/twilio/voice",
                &params,
            )),
        ),
    ];
    for (case, signature) in cases {
        let (status, _) = status_and_body(post_form("/twilio/voice", &params, signature)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
    }
}

#[tokio::test]
async fn a_post_that_is_not_a_form_is_refused_as_axum_refuses_it() {
    let request = Request::post("/twilio/voice")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _) = status_and_body(request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn the_websocket_upgrade_is_signed_over_its_wss_url_and_query() {
    let wss = "wss://voice.example.com/twilio/media?token=abc";
    let signature = compute_signature(TOKEN, wss, &[]);
    let (status, _) = status_and_body(get_signed("/twilio/media?token=abc", signature)).await;
    assert_eq!(status, StatusCode::OK);

    let https = compute_signature(
        TOKEN,
        "https://voice.example.com/twilio/media?token=abc",
        &[],
    );
    let (status, _) = status_and_body(get_signed("/twilio/media?token=abc", https)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
