//! `/v1/users`: the people who sign in to a tenant. Owners and admins manage them; nobody
//! hands out a role with a permission they lack, and the last active owner stays one.

use super::views::{UserView, role};
use crate::query::Query;
use crate::{
    ApiError, AppState, audit,
    auth::{Authorized, Principal, password, perm},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use domain::{Role, UserStatus};
use serde::{Deserialize, Serialize};
use store::{NewUser, User, UserUpdate};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users", get(list_users).post(create_user))
        .route("/v1/users/{id}", get(get_user).patch(update_user))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// How many, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub data: Vec<UserView>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserBody {
    pub email: String,
    pub name: String,
    /// At least 10 characters.
    pub password: String,
    pub role: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<String>,
    /// active or disabled. Disabling signs the user out everywhere.
    pub status: Option<String>,
    /// A new password; signs the user out everywhere.
    pub password: Option<String>,
}

/// `email` lowercased when it looks like an address, else a problem naming it.
pub(crate) fn email(text: &str) -> Result<String, ApiError> {
    let email = text.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid("email", "is not an email address"))
    }
}

pub(crate) fn new_password(text: &str) -> Result<(), ApiError> {
    if text.chars().count() < password::MIN_LENGTH {
        return Err(ApiError::invalid(
            "password",
            format!("must be at least {} characters", password::MIN_LENGTH),
        ));
    }
    Ok(())
}

/// A 403 unless `who` may hand out `role`: it names a permission `role` has and they lack.
pub(crate) fn may_grant(who: &Principal, role: Role) -> Result<(), ApiError> {
    match role
        .permissions()
        .into_iter()
        .find(|p| !who.role.allows(*p))
    {
        None => Ok(()),
        Some(permission) => Err(ApiError::Forbidden { permission }),
    }
}

/// List the tenant's users, newest first.
#[utoipa::path(get, path = "/v1/users", tag = "users", params(PageQuery),
    security(("bearer" = ["users:read"])),
    responses((status = 200, body = UserList), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn list_users(
    State(state): State<AppState>,
    auth: Authorized<perm::UsersRead>,
    Query(query): Query<PageQuery>,
) -> Result<Json<UserList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let before = super::cursor(query.before.as_deref())?;
    let page = state.store.list_users(auth.tenant, limit, before).await?;
    Ok(Json(UserList {
        data: page.items.into_iter().map(UserView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a user who signs in with this email and password.
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUserBody,
    security(("bearer" = ["users:write"])),
    responses((status = 201, body = UserView), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    auth: Authorized<perm::UsersWrite>,
    Json(body): Json<NewUserBody>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let email = email(&body.email)?;
    let role = role("role", &body.role)?;
    new_password(&body.password)?;
    super::non_empty("name", &body.name)?;
    may_grant(&auth, role)?;
    let password_hash = password::hash(body.password).await?;
    let new = NewUser {
        email,
        name: body.name.trim().to_owned(),
        password_hash,
        role,
    };
    let view = UserView::from(state.store.create_user(auth.tenant, new).await?);
    audit::record(
        &state,
        &auth,
        audit::Change {
            action: "user.create",
            resource_type: "user",
            resource_id: Some(view.id.to_string()),
            before: None,
            after: Some(audit::snapshot(&view)?),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One user.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    security(("bearer" = ["users:read"])),
    responses((status = 200, body = UserView), (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    auth: Authorized<perm::UsersRead>,
    Path(id): Path<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(UserView::from(
        state.store.user(auth.tenant, id).await?,
    )))
}

/// What `patch` asks for, checked.
async fn user_update(
    who: &Principal,
    before: &User,
    patch: UserPatch,
) -> Result<UserUpdate, ApiError> {
    may_grant(who, before.role)?;
    let role = patch.role.as_deref().map(|r| role("role", r)).transpose()?;
    if let Some(role) = role {
        may_grant(who, role)?;
    }
    let status = patch
        .status
        .as_deref()
        .map(|s| {
            UserStatus::parse(s)
                .ok_or_else(|| ApiError::invalid("status", "must be active or disabled"))
        })
        .transpose()?;
    if let Some(name) = &patch.name {
        super::non_empty("name", name)?;
    }
    let password_hash = match patch.password {
        Some(p) => {
            new_password(&p)?;
            Some(password::hash(p).await?)
        }
        None => None,
    };
    Ok(UserUpdate {
        name: patch.name.map(|n| n.trim().to_owned()),
        role,
        status,
        password_hash,
    })
}

/// Refuses to leave the tenant without an active owner.
async fn keep_an_owner(
    state: &AppState,
    who: &Principal,
    before: &User,
    update: &UserUpdate,
) -> Result<(), ApiError> {
    let stays_owner = update.role.unwrap_or(before.role) == Role::Owner
        && update.status.unwrap_or(before.status) == UserStatus::Active;
    if before.role != Role::Owner || before.status != UserStatus::Active || stays_owner {
        return Ok(());
    }
    let owners = state.store.active_owner_count(who.tenant).await?;
    if owners <= 1 {
        return Err(ApiError::Conflict(
            "the tenant's last active owner cannot stop being one".into(),
        ));
    }
    Ok(())
}

/// Change a user's name, role, status or password.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    request_body = UserPatch, security(("bearer" = ["users:write"])),
    responses((status = 200, body = UserView), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn update_user(
    State(state): State<AppState>,
    auth: Authorized<perm::UsersWrite>,
    Path(id): Path<Uuid>,
    Json(patch): Json<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let before = state.store.user(auth.tenant, id).await?;
    let signs_out = patch.password.is_some() || patch.status.as_deref() == Some("disabled");
    let update = user_update(&auth, &before, patch).await?;
    keep_an_owner(&state, &auth, &before, &update).await?;
    let after = UserView::from(state.store.update_user(auth.tenant, id, update).await?);
    if signs_out {
        state
            .store
            .revoke_user_refresh_tokens(auth.tenant, id)
            .await?;
    }
    audit::record(
        &state,
        &auth,
        audit::Change {
            action: "user.update",
            resource_type: "user",
            resource_id: Some(id.to_string()),
            before: Some(audit::snapshot(&UserView::from(before))?),
            after: Some(audit::snapshot(&after)?),
        },
    )
    .await?;
    Ok(Json(after))
}
