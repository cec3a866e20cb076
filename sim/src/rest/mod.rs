//! Twilio's REST API (`/2010-04-01/Accounts/{AccountSid}/…`), as far as the product uses it.
//!
//! Common to every resource:
//! - HTTP Basic auth with the account SID + auth token, or a configured API key SID + secret.
//!   Anything else gets 401 with Twilio's body (code 20003); a valid login for a different
//!   account than the one in the path gets 404 (code 20404), as Twilio answers.
//! - Requests are `application/x-www-form-urlencoded`; repeated parameters (e.g.
//!   `StatusCallbackEvent`) are kept in order.
//! - Errors are Twilio's JSON: `{code, message, more_info, status}`.
//! - Lists page with `Page` / `PageSize` and answer Twilio's paging fields (`first_page_uri`,
//!   `next_page_uri`, `previous_page_uri`, `page`, `page_size`, `start`, `end`, `uri`).
//! - Fault injection ([`crate::faults`]) happens here, after authentication.
//!
//! Resources: [`calls`], [`messages`], [`conferences`], [`numbers`].

pub(crate) mod calls;
pub(crate) mod conferences;
pub(crate) mod messages;
pub(crate) mod numbers;

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde::Serialize;

use crate::faults::RestFailure;
use crate::state::{API_VERSION, Shared};

/// A Twilio REST error.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with a validation code.
    pub(crate) fn bad(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 for a resource path.
    pub(crate) fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        response
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// A form body with repeated keys kept.
#[derive(Debug, Default, Clone)]
pub(crate) struct Form(pub Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Result<Self, ApiError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(Form)
            .map_err(|e| ApiError::bad(20001, format!("Invalid form body: {e}")))
    }

    /// `StatusCallback`, if given; 21609 when it is not an http(s) URL.
    pub(crate) fn status_callback(&self) -> Result<Option<String>, ApiError> {
        match self.get("StatusCallback") {
            Some(cb) if !valid_url(cb) => Err(ApiError::bad(
                21609,
                format!("Invalid StatusCallback url: {cb}"),
            )),
            other => Ok(other.map(str::to_owned)),
        }
    }

    /// The first value of `name`, if present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every value of a repeated parameter, each split at `separators`, empty parts dropped.
    pub(crate) fn list(&self, name: &str, separators: &[char]) -> Vec<String> {
        self.all(name)
            .iter()
            .flat_map(|v| v.split(separators))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad(
                20001,
                format!("Invalid value for {name}: {v}"),
            )),
        }
    }
}

/// `Method`-like parameters: `GET` or `POST` (default).
pub(crate) fn method_param(form: &Form, name: &str) -> Result<String, ApiError> {
    match form.get(name) {
        None => Ok("POST".into()),
        Some(m) if m.eq_ignore_ascii_case("GET") => Ok("GET".into()),
        Some(m) if m.eq_ignore_ascii_case("POST") => Ok("POST".into()),
        Some(m) => Err(ApiError::bad(21626, format!("Invalid {name}: {m}"))),
    }
}

/// `Created` with a JSON body.
pub(crate) fn created<T: Serialize>(value: &T) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

pub(crate) fn ok<T: Serialize>(value: &T) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

/// Whether `s` is an E.164 number (`+` and 8–15 digits) or a `client:` / `sip:` address.
pub(crate) fn valid_address(s: &str) -> bool {
    if s.starts_with("client:") || s.starts_with("sip:") {
        return s.len() > 5;
    }
    valid_e164(s)
}

pub(crate) fn valid_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Whether `s` is an absolute http(s) URL.
pub(crate) fn valid_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// A request's query, repeated keys kept.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        Query(
            query
                .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
                .unwrap_or_default(),
        )
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.get_str(name).map(str::to_owned)
    }

    fn get_str(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Which page of a list: `Page` (from 0) of `PageSize` (1–1000, default 50).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PageRequest {
    page: usize,
    size: usize,
}

impl PageRequest {
    fn of(query: &Query) -> Result<Self, ApiError> {
        let size = match query.get_str("PageSize") {
            None => 50,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ApiError::bad(20001, format!("Invalid PageSize: {v}")))?,
        };
        let page = match query.get_str("Page") {
            None => 0,
            Some(v) => v
                .parse()
                .map_err(|_| ApiError::bad(20001, format!("Invalid Page: {v}")))?,
        };
        Ok(Self { page, size })
    }
}

/// One page of a list, with Twilio's paging fields. `key` is the list's field name
/// (`calls`, `messages`, …); `path` is the list's URI without query.
pub(crate) fn page<T: Serialize>(
    key: &str,
    path: &str,
    query: &Query,
    items: Vec<T>,
) -> Result<Response, ApiError> {
    let req = PageRequest::of(query)?;
    // Filters other than paging go into every page URI.
    let filters: Vec<(String, String)> = query
        .0
        .iter()
        .filter(|(k, _)| k != "Page" && k != "PageSize" && k != "PageToken")
        .cloned()
        .collect();
    let uri_for = |p: usize| {
        let mut q = filters.clone();
        q.push(("PageSize".into(), req.size.to_string()));
        q.push(("Page".into(), p.to_string()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    };
    let total = items.len();
    let start = req.page * req.size;
    let page_items: Vec<T> = items.into_iter().skip(start).take(req.size).collect();
    let end = if page_items.is_empty() {
        start
    } else {
        start + page_items.len() - 1
    };
    let uri_if = |cond: bool, p: usize| {
        if cond {
            uri_for(p).into()
        } else {
            serde_json::Value::Null
        }
    };
    let mut body = serde_json::Map::new();
    body.insert(
        key.to_owned(),
        serde_json::to_value(&page_items).unwrap_or_default(),
    );
    body.insert("end".into(), end.into());
    body.insert("first_page_uri".into(), uri_for(0).into());
    body.insert(
        "next_page_uri".into(),
        uri_if(start + req.size < total, req.page + 1),
    );
    body.insert("page".into(), req.page.into());
    body.insert("page_size".into(), req.size.into());
    body.insert(
        "previous_page_uri".into(),
        uri_if(req.page > 0, req.page.saturating_sub(1)),
    );
    body.insert("start".into(), start.into());
    body.insert("uri".into(), uri_for(req.page).into());
    Ok(ok(&serde_json::Value::Object(body)))
}

/// A list resource's page: `GET {account}/{resource}.json` with its items under `key`.
pub(crate) fn list_page<T: Serialize>(
    shared: &Shared,
    key: &str,
    resource: &str,
    query: &Query,
    items: Vec<T>,
) -> ApiResult {
    let path = format!(
        "{}/{resource}.json",
        account_path(&shared.settings.account_sid)
    );
    page(key, &path, query, items)
}

/// `To`: required (`missing` when it is not there) and a valid address (21211).
pub(crate) fn to_param(form: &Form, missing: ApiError) -> Result<&str, ApiError> {
    let to = form.get("To").ok_or(missing)?;
    if !valid_address(to) {
        return Err(ApiError::bad(
            21211,
            format!("Invalid 'To' Phone Number: {to}"),
        ));
    }
    Ok(to)
}

/// The resource a path names: the SID in its last `{Sid}.json` segment (a segment without
/// `.json` is not a resource: 404, as Twilio answers), and the path, for 404s.
pub(crate) struct Resource {
    pub sid: String,
    pub uri: Uri,
}

impl<S: Send + Sync> FromRequestParts<S> for Resource {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let uri = parts.uri.clone();
        let not_found = || ApiError::not_found(uri.path());
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        let sid = params
            .last()
            .and_then(|(_, segment)| segment.strip_suffix(".json"))
            .ok_or_else(not_found)?
            .to_owned();
        Ok(Self { sid, uri })
    }
}

impl Resource {
    /// The resource, or 404.
    pub(crate) fn found<T: Serialize>(&self, item: Option<&T>) -> ApiResult {
        item.map(ok).ok_or_else(|| self.not_found())
    }

    pub(crate) fn not_found(&self) -> ApiError {
        ApiError::not_found(self.uri.path())
    }
}

/// The account part of the path.
pub(crate) fn account_path(account_sid: &str) -> String {
    format!("/{API_VERSION}/Accounts/{account_sid}")
}

/// Everything under `/2010-04-01/Accounts/{AccountSid}`.
pub(crate) fn router(shared: Shared) -> Router {
    let account = Router::new()
        .route("/Calls.json", get(calls::list).post(calls::create))
        .route("/Calls/{sid}", get(calls::fetch).post(calls::update))
        .route("/Messages.json", get(messages::list).post(messages::create))
        .route("/Messages/{sid}", get(messages::fetch))
        .route("/Conferences.json", get(conferences::list))
        .route("/Conferences/{sid}", get(conferences::fetch))
        .route(
            "/Conferences/{sid}/Participants.json",
            get(conferences::list_participants).post(conferences::add_participant),
        )
        .route(
            "/Conferences/{sid}/Participants/{id}",
            get(conferences::fetch_participant)
                .post(conferences::update_participant)
                .delete(conferences::remove_participant),
        )
        .route(
            "/AvailablePhoneNumbers/{country}/Local.json",
            get(numbers::available_local),
        )
        .route(
            "/IncomingPhoneNumbers.json",
            get(numbers::list).post(numbers::buy),
        )
        .route(
            "/IncomingPhoneNumbers/{sid}",
            get(numbers::fetch)
                .post(numbers::update)
                .delete(numbers::release),
        )
        .route("/Recordings/{sid}", get(calls::recording));
    Router::new()
        .nest(&format!("/{API_VERSION}/Accounts/{{account}}"), account)
        .fallback(|uri: axum::http::Uri| async move { ApiError::not_found(uri.path()) })
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

/// Who the Basic credentials say the caller is, if they are valid.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((user, pass)) = decoded.split_once(':') else {
        return false;
    };
    let s = &shared.settings;
    (user == s.account_sid && pass == s.auth_token.expose())
        || s.api_keys
            .iter()
            .any(|(k, v)| k == user && pass == v.expose())
}

/// Authentication, the account check and fault injection, before any handler.
async fn gate(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !authenticate(&shared, request.headers()) {
        return ApiError::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate").into_response();
    }
    // `/2010-04-01/Accounts/{account}/…`
    let account = path.split('/').nth(3).unwrap_or_default();
    if account != shared.settings.account_sid {
        return ApiError::not_found(&path).into_response();
    }
    let failure = shared
        .faults()
        .rest_failure(request.method().as_str(), &path);
    match failure {
        None => next.run(request).await,
        Some(RestFailure::TooManyRequests) => {
            tracing::info!(%path, "fault: 429");
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests").into_response()
        }
        Some(RestFailure::ServerError) => {
            tracing::info!(%path, "fault: 500");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                20500,
                "Internal Server Error",
            )
            .into_response()
        }
        Some(RestFailure::Timeout) => {
            let (hold, after_effect) = {
                let f = shared.faults();
                (f.config.timeout_hold_ms, f.config.timeout_after_effect)
            };
            tracing::info!(%path, hold, after_effect, "fault: timeout");
            if after_effect {
                let _performed = next.run(request).await;
            }
            tokio::time::sleep(Duration::from_millis(hold)).await;
            ApiError::new(StatusCode::GATEWAY_TIMEOUT, 20504, "Gateway Timeout").into_response()
        }
    }
}
