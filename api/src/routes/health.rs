//! Liveness, readiness and metrics.

use crate::{ApiError, AppState};
use axum::{Json, Router, extract::State, http::header, response::IntoResponse, routing::get};
use serde::Serialize;
use std::time::Duration;
use temporalio_common::protos::temporal::api::workflowservice::v1::GetSystemInfoRequest;
use utoipa::ToSchema;

const READINESS_CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database, Temporal and the session store all answer.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = crate::error::Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let database = async { state.store.ping().await.map_err(|e| e.to_string()) };
    let temporal = async {
        let mut service = state.temporal.connection().workflow_service();
        service
            .get_system_info(tonic::Request::new(GetSystemInfoRequest::default()))
            .await
            .map(|_| ())
            .map_err(|e| e.message().to_owned())
    };
    let sessions = async { state.sessions.ping().await.map_err(|e| e.to_string()) };
    let (database, temporal, sessions) = tokio::join!(
        with_timeout(database),
        with_timeout(temporal),
        with_timeout(sessions)
    );
    let failed: Vec<String> = [
        ("database", database),
        ("temporal", temporal),
        ("session store", sessions),
    ]
    .into_iter()
    .filter_map(|(name, result)| result.err().map(|e| format!("{name}: {e}")))
    .collect();
    if failed.is_empty() {
        Ok(Json(Health { status: "ready" }))
    } else {
        Err(ApiError::NotReady(failed.join("; ")))
    }
}

async fn with_timeout(check: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::time::timeout(READINESS_CHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err("did not answer in time".to_owned()))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
