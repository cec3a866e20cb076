//! `/v1/qa-reviews`: a person's 1–5 score of a call, with a checklist and notes. The reviewer is
//! whoever wrote (or last changed) the review.

use super::crud::{self, List, PageQuery, Surface, crud_operations};
use super::{MAX_TEXT_CHARS, call_sid, optional_call_sid, optional_text};
use crate::query::Query;
use crate::{
    ApiError, AppState,
    auth::{Authorized, Principal, perm},
};
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::crm::qa_reviews::{QaReview, QaReviewFields, QaReviewFilter, QaReviews};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct QaReviewView {
    pub id: Uuid,
    pub call_sid: String,
    /// The user or API key that wrote it.
    pub reviewer_id: Option<Uuid>,
    pub score: i32,
    #[schema(value_type = Object)]
    pub checklist: Value,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<QaReview> for QaReviewView {
    fn from(q: QaReview) -> Self {
        let f = q.fields;
        Self {
            id: q.id,
            call_sid: f.call_sid.as_str().to_owned(),
            reviewer_id: f.reviewer_id,
            score: f.score,
            checklist: f.checklist,
            notes: f.notes,
            created_at: q.created_at,
            updated_at: q.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QaReviewBody {
    pub call_sid: String,
    /// 1 to 5.
    pub score: i32,
    /// An object: `{"greeted": true, "disclosed_recording": false}`.
    #[schema(value_type = Option<Object>)]
    pub checklist: Option<Value>,
    pub notes: Option<String>,
}

impl Surface for QaReviews {
    type View = QaReviewView;
    type Body = QaReviewBody;
    const KIND: &'static str = "qa_review";

    fn validate(b: QaReviewBody, who: &Principal) -> Result<QaReviewFields, ApiError> {
        if !(1..=5).contains(&b.score) {
            return Err(ApiError::invalid("score", "must be between 1 and 5"));
        }
        let checklist = match b.checklist {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(list @ Value::Object(_)) => list,
            Some(_) => return Err(ApiError::invalid("checklist", "must be an object")),
        };
        Ok(QaReviewFields {
            call_sid: call_sid("call_sid", &b.call_sid)?,
            reviewer_id: Some(who.actor.id()),
            score: b.score,
            checklist,
            notes: optional_text("notes", b.notes.as_deref(), MAX_TEXT_CHARS)?,
        })
    }
}

crud_operations!(
    resource: QaReviews, tag: "crm",
    collection: "/v1/qa-reviews", item: "/v1/qa-reviews/{id}",
    read: CrmRead = "crm:read", write: CrmWrite = "crm:write",
    view: QaReviewView, body: QaReviewBody,
);

#[derive(Debug, Deserialize, IntoParams)]
pub struct QaReviewQuery {
    /// Only this call's reviews.
    pub call_sid: Option<String>,
}

/// The tenant's QA reviews, newest first.
#[utoipa::path(get, path = "/v1/qa-reviews", tag = "crm", params(QaReviewQuery, PageQuery),
    security(("bearer" = ["crm:read"])),
    responses((status = 200, body = List<QaReviewView>),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<perm::CrmRead>,
    Query(query): Query<QaReviewQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<List<QaReviewView>>, ApiError> {
    let filter = QaReviewFilter {
        call_sid: optional_call_sid("call_sid", query.call_sid.as_deref())?,
    };
    crud::list::<QaReviews>(&state, &auth.principal, filter, page).await
}
