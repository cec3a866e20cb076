//! `POST /v1/campaigns/{id}/targets`: a spreadsheet of people to call, as CSV.
//!
//! The body is streamed: the CSV is read row by row on a blocking thread
//! (`domain::campaign::targets`: E.164 with the campaign's default region, the recipient's time
//! zone from the row or the number, duplicates, the tenant's do-not-call list), and accepted
//! rows reach the database in batches while the rest of the file is still arriving. A 100,000-row
//! file never sits in memory; what does is the set of numbers seen so far and the report.
//!
//! The answer is the report: how many rows were accepted, how many of those were new to the
//! campaign (a re-upload adds only what is new), and every refused row with its line number and
//! reason. Good rows are kept whatever the bad ones are.

use super::crud::path_id;
use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, perm},
};
use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, header},
};
use domain::{
    E164,
    campaign::targets::{ImportError, ImportOptions, ImportReport, RejectedRow, TargetImport},
};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use store::crm::{campaigns::Campaigns, targets::NewTarget};
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa::{IntoParams, ToSchema};

/// Rows per database batch.
const BATCH: usize = 1_000;
/// The largest upload: about two million rows of a typical export.
const MAX_UPLOAD_BYTES: u64 = 256 * 1024 * 1024;
const CSV_TYPES: &[&str] = &[
    "text/csv",
    "application/csv",
    "text/plain",
    "application/octet-stream",
    "application/vnd.ms-excel",
];

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// Region (CLDR, `US`, `GB`) for numbers written without a country code. Default: the
    /// campaign's `settings.default_region`, else `US`.
    pub default_region: Option<String>,
}

/// What became of an uploaded list.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadReport {
    /// Rows that passed every check.
    pub accepted: u64,
    /// Accepted rows that were new to the campaign (the rest it already had).
    pub added: u64,
    /// Refused rows, listed or not.
    pub rejected_total: u64,
    /// The refused rows, in file order (the first 10,000), each with its line (the header is
    /// line 1) and why: `invalid_number`, `duplicate`, `do_not_call`, `missing_phone`,
    /// `wrong_columns`, `invalid_time_zone`, `invalid_email` or `malformed_row`.
    #[schema(value_type = Vec<Object>)]
    pub rejected: Vec<RejectedRow>,
}

/// Upload the campaign's targets as CSV (a header row, then one person per row). Columns:
/// `phone` (or `phone_number`, `mobile`, `number`…), optional `name` (or `first_name` and
/// `last_name`), `email`, `time_zone` (IANA); any other column is kept for the script.
#[utoipa::path(post, path = "/v1/campaigns/{id}/targets", tag = "campaigns",
    params(("id" = uuid::Uuid, Path), UploadQuery),
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = ["campaigns:write"])),
    responses((status = 200, body = UploadReport),
              (status = 400, description = "Not CSV, unreadable, or an unknown region", body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn upload_targets(
    State(state): State<AppState>,
    auth: Authorized<perm::CampaignsWrite>,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadReport>, ApiError> {
    let tenant = auth.principal.tenant;
    let campaign_id = path_id::<Campaigns>(&id)?;
    let campaign = state
        .store
        .resource::<Campaigns>(tenant, campaign_id)
        .await?;
    csv_content_type(&headers)?;
    let region = query
        .default_region
        .or_else(|| {
            let settings = &campaign.stored.fields.settings;
            settings["default_region"].as_str().map(str::to_owned)
        })
        .unwrap_or_else(|| "US".to_owned());
    let dnc = state.store.dnc_set(tenant).await?;
    let (batches, mut received) = mpsc::channel::<Vec<NewTarget>>(2);
    let reading = tokio::task::spawn_blocking(move || read_rows(body, &region, &dnc, batches));
    let mut added = 0;
    while let Some(batch) = received.recv().await {
        added += state.store.add_targets(tenant, campaign_id, batch).await?;
    }
    let report = reading
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("reading the upload")))??;
    tracing::info!(campaign = %campaign_id, accepted = report.accepted, added,
        rejected = report.rejected_total, "campaign targets uploaded");
    Ok(Json(UploadReport {
        accepted: report.accepted,
        added,
        rejected_total: report.rejected_total,
        rejected: report.rejected,
    }))
}

/// A CSV body, or one whose type the client did not say.
fn csv_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if CSV_TYPES.contains(&essence.as_str()) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "body",
            format!("expected a CSV file (text/csv), not {essence}"),
        ))
    }
}

/// Runs the import over the streamed body on this (blocking) thread, handing accepted rows to
/// `batches` a thousand at a time.
fn read_rows(
    body: Body,
    region: &str,
    dnc: &HashSet<String>,
    batches: mpsc::Sender<Vec<NewTarget>>,
) -> Result<ImportReport, ApiError> {
    let is_dnc = |phone: &E164| dnc.contains(phone.as_str());
    let import = TargetImport::new(ImportOptions {
        default_region: region,
        is_dnc: &is_dnc,
    })
    .map_err(|e| ApiError::invalid("default_region", e.to_string()))?;
    let mut seen: u64 = 0;
    let stream = body
        .into_data_stream()
        .map_err(std::io::Error::other)
        .and_then(move |chunk| {
            seen += chunk.len() as u64;
            let result = if seen > MAX_UPLOAD_BYTES {
                Err(std::io::Error::other(format!(
                    "the file is larger than {} MB",
                    MAX_UPLOAD_BYTES / (1024 * 1024)
                )))
            } else {
                Ok(chunk)
            };
            std::future::ready(result)
        });
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let mut batch = Vec::with_capacity(BATCH);
    let mut receiver_gone = false;
    let report = import
        .run(reader, |row| {
            batch.push(NewTarget {
                customer_id: None,
                phone: row.phone,
                name: row.name,
                email: row.email,
                time_zone: row.time_zone,
                extra: serde_json::to_value(row.extra).unwrap_or_default(),
                source_line: i32::try_from(row.line).ok(),
            });
            if batch.len() == BATCH && !receiver_gone {
                receiver_gone = batches.blocking_send(std::mem::take(&mut batch)).is_err();
            }
        })
        .map_err(|e| match e {
            ImportError::Read(detail) => ApiError::invalid("body", detail),
            other => ApiError::invalid("default_region", other.to_string()),
        })?;
    if !batch.is_empty() && !receiver_gone {
        let _ = batches.blocking_send(batch);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_unlabelled_bodies_are_read_and_json_is_refused() {
        let with = |t: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, t.parse().unwrap());
            h
        };
        assert!(csv_content_type(&HeaderMap::new()).is_ok());
        assert!(csv_content_type(&with("text/csv; charset=utf-8")).is_ok());
        assert!(csv_content_type(&with("Application/Octet-Stream")).is_ok());
        let err = csv_content_type(&with("application/json")).unwrap_err();
        assert!(matches!(err, ApiError::InvalidField { field: "body", .. }));
    }
}
