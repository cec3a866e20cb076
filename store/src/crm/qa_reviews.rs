//! QA reviews: a person's score (1–5) of one call, with a checklist and notes.

use super::{Resource, Stored, tenant_columns};
use crate::{StoreError, entities::qa_reviews};
use domain::CallSid;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct QaReviewFields {
    pub call_sid: CallSid,
    /// The user or API key that wrote the review.
    pub reviewer_id: Option<Uuid>,
    /// 1 to 5.
    pub score: i32,
    /// `{"greeted": true, "disclosed_recording": false}`: the tenant's own checklist.
    pub checklist: serde_json::Value,
    pub notes: Option<String>,
}

pub type QaReview = Stored<QaReviewFields>;

#[derive(Debug, Clone, Default)]
pub struct QaReviewFilter {
    pub call_sid: Option<CallSid>,
}

pub struct QaReviews;

impl Resource for QaReviews {
    type Entity = qa_reviews::Entity;
    type Record = QaReview;
    type New = QaReviewFields;
    type Filter = QaReviewFilter;
    const NAME: &'static str = "QA review";
    tenant_columns!(qa_reviews);

    fn id(record: &QaReview) -> Uuid {
        record.id
    }

    fn fields_of(record: &QaReview) -> QaReviewFields {
        record.fields.clone()
    }

    fn record(row: qa_reviews::Model) -> Result<QaReview, StoreError> {
        let call_sid = CallSid::parse(&row.call_sid)
            .map_err(|e| StoreError::Corrupt(format!("qa_reviews.call_sid: {e}")))?;
        Ok(Stored {
            id: row.id,
            fields: QaReviewFields {
                call_sid,
                reviewer_id: row.reviewer_id,
                score: row.score,
                checklist: row.checklist,
                notes: row.notes,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn fields(new: QaReviewFields) -> qa_reviews::ActiveModel {
        qa_reviews::ActiveModel {
            call_sid: Set(new.call_sid.as_str().to_owned()),
            reviewer_id: Set(new.reviewer_id),
            score: Set(new.score),
            checklist: Set(new.checklist),
            notes: Set(new.notes),
            ..Default::default()
        }
    }

    fn filter(filter: &QaReviewFilter) -> Condition {
        Condition::all().add_option(
            filter
                .call_sid
                .as_ref()
                .map(|s| qa_reviews::Column::CallSid.eq(s.as_str())),
        )
    }
}
