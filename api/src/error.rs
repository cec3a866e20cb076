//! One error type for every handler, rendered as RFC 7807 `application/problem+json`.
//! A 500 never carries internals: they go to the log with the request's span.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid `{field}`: {detail}")]
    InvalidField { field: &'static str, detail: String },
    /// A query-string parameter, named as the client spelled it.
    #[error("invalid `{field}`: {detail}")]
    InvalidParameter { field: String, detail: String },
    #[error("missing, invalid or expired credentials")]
    Unauthorized,
    #[error("this needs the `{permission}` permission, which your role does not have")]
    Forbidden { permission: domain::Permission },
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Conflict(String),
    #[error("this tenant is suspended; contact the platform operator")]
    TenantSuspended,
    #[error("missing or invalid request signature")]
    InvalidSignature,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("not ready: {0}")]
    NotReady(String),
    /// A `Range` that selects nothing of a resource of `size` bytes.
    #[error("the range selects nothing of the {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// A provider we depend on (Twilio) refused or failed the request.
    #[error("{service}: {detail}")]
    Upstream {
        service: &'static str,
        detail: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// An RFC 7807 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The permission the caller lacks, on a 403.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
}

impl ApiError {
    pub fn invalid(field: &'static str, detail: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            detail: detail.into(),
        }
    }

    fn status_and_title(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::InvalidField { .. } | Self::InvalidParameter { .. } => (
                StatusCode::BAD_REQUEST,
                "invalid-request",
                "Invalid request",
            ),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            Self::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Self::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Self::TenantSuspended => (
                StatusCode::FORBIDDEN,
                "tenant-suspended",
                "Tenant suspended",
            ),
            Self::InvalidSignature => (
                StatusCode::FORBIDDEN,
                "invalid-signature",
                "Invalid signature",
            ),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Self::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "not-ready", "Not ready"),
            Self::RangeNotSatisfiable { .. } => (
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                "Range not satisfiable",
            ),
            Self::Upstream { .. } => (StatusCode::BAD_GATEWAY, "upstream", "Upstream failure"),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.status_and_title();
        let detail = match &self {
            Self::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "request failed");
                "the request could not be completed; see the server log for its request id"
                    .to_owned()
            }
            other => other.to_string(),
        };
        let field = match &self {
            Self::InvalidField { field, .. } => Some((*field).to_owned()),
            Self::InvalidParameter { field, .. } => Some(field.clone()),
            _ => None,
        };
        let permission = match &self {
            Self::Forbidden { permission } => Some(permission.as_str().to_owned()),
            _ => None,
        };
        let retry_after = match &self {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let problem = Problem {
            kind: format!("https://switchboard.dev/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            field,
            permission,
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
        }
        if let Self::RangeNotSatisfiable { size } = &self
            && let Ok(value) = header::HeaderValue::from_str(&format!("bytes */{size}"))
        {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<store::StoreError> for ApiError {
    fn from(err: store::StoreError) -> Self {
        match err {
            store::StoreError::NotFound { entity } => Self::NotFound(entity),
            store::StoreError::Conflict(what) => Self::Conflict(format!("{what} already exists")),
            store::StoreError::UnknownReference { field, entity } => {
                Self::invalid(field, format!("is not one of this tenant's {entity}s"))
            }
            other => Self::Internal(other.into()),
        }
    }
}
