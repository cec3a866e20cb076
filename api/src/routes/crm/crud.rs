//! The five operations every CRM resource shares, written once: list, create, get, PATCH (a
//! JSON merge patch over the resource as GET shows it, validated like a create) and delete,
//! each scoped to the caller's tenant and each write audited.
//!
//! A resource module implements [`Surface`] (its view, its body, how a body is validated) and
//! invokes [`crud_operations!`] for the four uniform handlers and its router; it writes its list
//! handler itself, since each list has its own filters.

use crate::routes::body;
use crate::{
    ApiError, AppState,
    audit::{self, Change},
    auth::Principal,
};
use axum::{Json, extract::rejection::JsonRejection, http::StatusCode};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use store::crm::Resource;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A CRM resource as the API shows and takes it.
pub trait Surface: Resource {
    /// What GET returns; also the base a PATCH is merged onto, so a view's fields read back as
    /// the body's.
    type View: Serialize + From<Self::Record>;
    type Body: DeserializeOwned;
    /// `customer`, `dnc_entry`: the audit log's resource type and action prefix.
    const KIND: &'static str;

    /// A body as the store's fields, or a problem naming the first bad field.
    fn validate(body: Self::Body, who: &Principal) -> Result<Self::New, ApiError>;

    /// The audit log's copy of a record. Views that show a phone number mask it here.
    fn audit(record: &Self::Record) -> Result<Value, ApiError> {
        audit::snapshot(&Self::View::from(record.clone()))
    }
}

#[derive(Debug, serde::Deserialize, IntoParams)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

/// One page of a list, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// A path id; one that cannot be an id is as unknown as one that is nobody's.
pub fn path_id<R: Resource>(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound(R::NAME))
}

async fn record<R: Surface>(
    state: &AppState,
    who: &Principal,
    verb: &str,
    id: Uuid,
    (before, after): (Option<&R::Record>, Option<&R::Record>),
) -> Result<(), ApiError> {
    let action = format!("{}.{verb}", R::KIND);
    let change = Change {
        action: &action,
        resource_type: R::KIND,
        resource_id: Some(id.to_string()),
        before: before.map(R::audit).transpose()?,
        after: after.map(R::audit).transpose()?,
    };
    audit::record(state, who, change).await
}

pub async fn list<R: Surface>(
    state: &AppState,
    who: &Principal,
    filter: R::Filter,
    page: PageQuery,
) -> Result<Json<List<R::View>>, ApiError> {
    let limit = crate::routes::page_limit(page.limit)?;
    let before = crate::routes::cursor(page.before.as_deref())?;
    let page = state
        .store
        .list_resources::<R>(who.tenant, &filter, limit, before)
        .await?;
    Ok(Json(List {
        data: page.items.into_iter().map(R::View::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

pub async fn create<R: Surface>(
    state: &AppState,
    who: &Principal,
    new: Result<Json<R::Body>, JsonRejection>,
) -> Result<(StatusCode, Json<R::View>), ApiError> {
    let new = R::validate(body(new)?, who)?;
    let created = state.store.create_resource::<R>(who.tenant, new).await?;
    record::<R>(
        state,
        who,
        "create",
        R::id(&created),
        (None, Some(&created)),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Audits and answers a record made by a resource's own operation (a duplicate, an upload).
pub async fn created<R: Surface>(
    state: &AppState,
    who: &Principal,
    verb: &str,
    created: R::Record,
) -> Result<(StatusCode, Json<R::View>), ApiError> {
    record::<R>(state, who, verb, R::id(&created), (None, Some(&created))).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

pub async fn get<R: Surface>(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<Json<R::View>, ApiError> {
    let id = path_id::<R>(id)?;
    let found = state.store.resource::<R>(who.tenant, id).await?;
    Ok(Json(found.into()))
}

/// `patch` merged onto the current view (RFC 7396), read as a create body.
fn merged<R: Surface>(
    current: &R::Record,
    patch: &Value,
    who: &Principal,
) -> Result<R::New, ApiError> {
    let mut view = audit::snapshot(&R::View::from(current.clone()))?;
    merge_patch(&mut view, patch);
    let body =
        serde_json::from_value(view).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    R::validate(body, who)
}

pub async fn update<R: Surface>(
    state: &AppState,
    who: &Principal,
    id: &str,
    patch: Result<Json<Value>, JsonRejection>,
) -> Result<Json<R::View>, ApiError> {
    let id = path_id::<R>(id)?;
    let patch = body(patch)?;
    if !patch.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let (before, after) = state
        .store
        .update_resource::<R, ApiError>(who.tenant, id, |current| merged::<R>(current, &patch, who))
        .await?;
    record::<R>(state, who, "update", id, (Some(&before), Some(&after))).await?;
    Ok(Json(after.into()))
}

pub async fn delete<R: Surface>(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<StatusCode, ApiError> {
    let id = path_id::<R>(id)?;
    let gone = state.store.delete_resource::<R>(who.tenant, id).await?;
    record::<R>(state, who, "delete", id, (Some(&gone), None)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(fields) = target {
        for (key, change) in changes {
            if change.is_null() {
                fields.remove(key);
            } else {
                merge_patch(fields.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

/// The create, get, PATCH and delete handlers of a [`Surface`], with their OpenAPI
/// declarations, and the resource's router (its `list` handler is the module's own).
macro_rules! crud_operations {
    (
        resource: $r:ty, tag: $tag:literal,
        collection: $collection:literal, item: $item:literal,
        read: $read:ident = $read_scope:literal, write: $write:ident = $write_scope:literal,
        view: $view:ty, body: $body:ty $(,)?
    ) => {
        pub fn router() -> axum::Router<crate::AppState> {
            use axum::routing::get as route;
            axum::Router::new()
                .route($collection, route(list).post(create))
                .route($item, route(get).patch(update).delete(delete))
        }

        #[utoipa::path(post, path = $collection, tag = $tag, request_body = $body,
            security(("bearer" = [$write_scope])),
            responses((status = 201, body = $view),
                      (status = 400, description = "Invalid field", body = crate::error::Problem),
                      (status = 401, body = crate::error::Problem),
                      (status = 403, body = crate::error::Problem),
                      (status = 409, body = crate::error::Problem)))]
        pub async fn create(
            axum::extract::State(state): axum::extract::State<crate::AppState>,
            auth: crate::auth::Authorized<crate::auth::perm::$write>,
            body: Result<axum::Json<$body>, axum::extract::rejection::JsonRejection>,
        ) -> Result<(axum::http::StatusCode, axum::Json<$view>), crate::ApiError> {
            crate::routes::crm::crud::create::<$r>(&state, &auth.principal, body).await
        }

        #[utoipa::path(get, path = $item, tag = $tag,
            params(("id" = uuid::Uuid, Path)),
            security(("bearer" = [$read_scope])),
            responses((status = 200, body = $view),
                      (status = 401, body = crate::error::Problem),
                      (status = 403, body = crate::error::Problem),
                      (status = 404, body = crate::error::Problem)))]
        pub async fn get(
            axum::extract::State(state): axum::extract::State<crate::AppState>,
            auth: crate::auth::Authorized<crate::auth::perm::$read>,
            axum::extract::Path(id): axum::extract::Path<String>,
        ) -> Result<axum::Json<$view>, crate::ApiError> {
            crate::routes::crm::crud::get::<$r>(&state, &auth.principal, &id).await
        }

        /// A JSON merge patch: absent fields stay, `null` clears.
        #[utoipa::path(patch, path = $item, tag = $tag, request_body = $body,
            params(("id" = uuid::Uuid, Path)),
            security(("bearer" = [$write_scope])),
            responses((status = 200, body = $view),
                      (status = 400, description = "Invalid field", body = crate::error::Problem),
                      (status = 401, body = crate::error::Problem),
                      (status = 403, body = crate::error::Problem),
                      (status = 404, body = crate::error::Problem),
                      (status = 409, body = crate::error::Problem)))]
        pub async fn update(
            axum::extract::State(state): axum::extract::State<crate::AppState>,
            auth: crate::auth::Authorized<crate::auth::perm::$write>,
            axum::extract::Path(id): axum::extract::Path<String>,
            patch: Result<axum::Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
        ) -> Result<axum::Json<$view>, crate::ApiError> {
            crate::routes::crm::crud::update::<$r>(&state, &auth.principal, &id, patch).await
        }

        #[utoipa::path(delete, path = $item, tag = $tag,
            params(("id" = uuid::Uuid, Path)),
            security(("bearer" = [$write_scope])),
            responses((status = 204, description = "Deleted"),
                      (status = 401, body = crate::error::Problem),
                      (status = 403, body = crate::error::Problem),
                      (status = 404, body = crate::error::Problem)))]
        pub async fn delete(
            axum::extract::State(state): axum::extract::State<crate::AppState>,
            auth: crate::auth::Authorized<crate::auth::perm::$write>,
            axum::extract::Path(id): axum::extract::Path<String>,
        ) -> Result<axum::http::StatusCode, crate::ApiError> {
            crate::routes::crm::crud::delete::<$r>(&state, &auth.principal, &id).await
        }
    };
}
pub(crate) use crud_operations;
