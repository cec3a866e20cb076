//! [`TwilioSigned`]: the extractor that admits only requests Twilio signed — the form webhooks
//! and the media stream's WebSocket upgrade — and answers anything else with 403.
//!
//! Twilio signs the URL it called, which we rebuild from `PUBLIC_URL` (never from the `Host`
//! header), and, for a form `POST`, the form's fields: HMAC-SHA1 keyed with the auth token,
//! compared in constant time by [`telephony::validate_signature`]. The media stream's upgrade
//! is a `GET` signed over its `ws(s)://` URL with no fields.

use crate::{ApiConfig, ApiError};
use axum::{
    extract::{FromRef, FromRequest, OriginalUri, RawForm, Request},
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
};
use domain::{CallSid, E164};
use std::sync::Arc;
use telephony::validate_signature;

/// A request with a valid `X-Twilio-Signature`, and the form fields it signed (none for the
/// WebSocket upgrade). As an extractor it reads the body, so it comes last among a handler's.
#[derive(Debug)]
pub struct TwilioSigned {
    params: Vec<(String, String)>,
    /// The signed URL's query (ours: we wrote it into the URL we gave Twilio).
    query: Vec<(String, String)>,
}

impl<S> FromRequest<S> for TwilioSigned
where
    S: Send + Sync,
    Arc<ApiConfig>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let config = Arc::<ApiConfig>::from_ref(state);
        let uri = match request.extensions().get::<OriginalUri>() {
            Some(original) => original.0.clone(),
            None => request.uri().clone(),
        };
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
        if request.method() == Method::GET {
            let url = config.stream_url_for(path_and_query);
            return verify(&config, request.headers(), &url, Vec::new(), uri.path())
                .map(|signed| signed.with_query(query))
                .map_err(IntoResponse::into_response);
        }
        let headers = request.headers().clone();
        let RawForm(body) = RawForm::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|e| ApiError::invalid("body", e.to_string()).into_response())?;
        let url = config.public_url_for(path_and_query);
        verify(&config, &headers, &url, params, uri.path())
            .map(|signed| signed.with_query(query))
            .map_err(IntoResponse::into_response)
    }
}

/// Admits `params` when the request's signature over `url` and them is valid.
fn verify(
    config: &ApiConfig,
    headers: &HeaderMap,
    url: &str,
    params: Vec<(String, String)>,
    path: &str,
) -> Result<TwilioSigned, ApiError> {
    let signed = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|provided| {
            validate_signature(config.twilio_auth_token.expose(), url, &params, provided)
        });
    if !signed {
        tracing::warn!(
            path,
            "rejected a request with a missing or invalid Twilio signature"
        );
        return Err(ApiError::InvalidSignature);
    }
    Ok(TwilioSigned {
        params,
        query: Vec::new(),
    })
}

impl TwilioSigned {
    fn with_query(mut self, query: Vec<(String, String)>) -> Self {
        self.query = query;
        self
    }

    /// A parameter of the signed URL's query.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::invalid(name, "is required"))
    }

    /// Twilio's `CallSid`.
    pub fn call_sid(&self) -> Result<CallSid, ApiError> {
        CallSid::parse(self.required("CallSid")?)
            .map_err(|e| ApiError::invalid("CallSid", e.to_string()))
    }

    /// A field that must be an E.164 number.
    pub fn phone(&self, name: &'static str) -> Result<E164, ApiError> {
        E164::parse(self.required(name)?).map_err(|e| ApiError::invalid(name, e.to_string()))
    }
}

#[cfg(test)]
mod tests;
