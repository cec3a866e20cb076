//! The production Twilio REST client against a local server that speaks Twilio's wire format.

use crate::helpers::*;
use telephony::{TwilioAuth, TwilioClient, TwilioError, rest::UpdateCall};

#[tokio::test]
async fn hang_up_posts_status_completed_with_basic_auth() {
    let (fake, base) = FakeTwilio::start().await;
    let client = twilio_client(&base);
    let sid = new_call_sid();

    let call = client.update_call(&sid, &UpdateCall::Hangup).await.unwrap();

    assert_eq!(call.sid, sid);
    assert_eq!(call.status, "completed");
    let requests = fake.requests.lock().unwrap().clone();
    assert_eq!(
        requests[0].path,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json")
    );
    assert_eq!(
        requests[0].form,
        vec![("Status".to_owned(), "completed".to_owned())]
    );
}

#[tokio::test]
async fn twilio_error_bodies_become_typed_errors_that_know_whether_to_retry() {
    let (fake, base) = FakeTwilio::start().await;
    let client = twilio_client(&base);
    fake.fail_next.lock().unwrap().push((
        404,
        serde_json::json!({"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}),
    ));

    let err = client
        .update_call(&new_call_sid(), &UpdateCall::Hangup)
        .await
        .unwrap_err();
    match &err {
        TwilioError::Api {
            status,
            code,
            message,
            more_info,
        } => {
            assert_eq!((*status, *code), (404, 20404));
            assert!(message.contains("not found"));
            assert!(more_info.as_deref().unwrap().ends_with("20404"));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(!err.is_retryable());

    let wrong_auth =
        TwilioClient::new(&base, ACCOUNT_SID, TwilioAuth::AuthToken("wrong".into())).unwrap();
    let err = wrong_auth
        .update_call(&new_call_sid(), &UpdateCall::Hangup)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TwilioError::Api {
                status: 401,
                code: 20003,
                ..
            }
        ),
        "{err:?}"
    );

    let unreachable = TwilioClient::new(
        "http://127.0.0.1:9",
        ACCOUNT_SID,
        TwilioAuth::AuthToken("x".into()),
    )
    .unwrap();
    let err = unreachable
        .update_call(&new_call_sid(), &UpdateCall::Hangup)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "network failures are retried: {err:?}");
}
