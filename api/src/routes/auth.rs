//! `/v1/auth`: sign in with email and password, keep the session alive with rotating refresh
//! tokens, sign out, and say who the caller is.
//!
//! A refresh token is used once: each refresh answers with a new one in the same family. If a
//! token that was already used comes back, someone kept a copy: the whole family is revoked
//! and every holder has to sign in again.

use super::views::{TenantView, UserView};
use crate::{
    ApiError, AppState,
    auth::{Actor, Principal, password},
};
use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chrono::Utc;
use domain::{Permission, TenantId, TenantStatus, UserStatus};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{RefreshUse, User};
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/auth/me", get(me))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
    /// The tenant's slug; needed only when the email signs in to several tenants.
    pub tenant: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// A signed-in session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// The JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Use once at `/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub user: UserView,
}

/// The caller, as the API sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub tenant: TenantView,
    pub role: String,
    /// Every permission the role has.
    pub permissions: Vec<String>,
    /// Set when a user signed in.
    pub user: Option<UserView>,
    /// Set when an API key authenticated.
    pub api_key_id: Option<Uuid>,
}

fn refresh_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_refresh_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    format!("rt_{}", hex::encode(raw))
}

/// A new access token and refresh token for `user`, continuing `family` if given.
async fn open_session(
    state: &AppState,
    user: User,
    family: Option<Uuid>,
) -> Result<Session, ApiError> {
    let auth = &state.config.auth;
    let refresh_token = new_refresh_token();
    let expires_at = Utc::now()
        + chrono::Duration::from_std(auth.refresh_ttl).unwrap_or(chrono::Duration::days(30));
    state
        .store
        .issue_refresh_token(
            user.tenant_id,
            user.id,
            family,
            &refresh_hash(&refresh_token),
            expires_at,
        )
        .await?;
    let access_token = auth
        .jwt
        .sign(user.tenant_id, user.id, user.role, Utc::now().timestamp());
    Ok(Session {
        access_token,
        token_type: "Bearer",
        expires_in: auth.jwt.access_ttl.as_secs(),
        refresh_token,
        user: UserView::from(user),
    })
}

/// The one candidate whose password matches, honouring `tenant` when given.
async fn check_password(state: &AppState, body: &LoginBody) -> Result<Option<User>, ApiError> {
    let mut candidates = state
        .store
        .login_candidates(&body.email.trim().to_lowercase())
        .await?;
    if let Some(slug) = body.tenant.as_deref() {
        match state.store.find_tenant_by_slug(slug).await? {
            Some(tenant) => candidates.retain(|(user, _)| user.tenant_id == tenant.id),
            None => candidates.clear(),
        }
    }
    if candidates.is_empty() {
        password::verify(body.password.clone(), password::decoy_hash().into()).await;
        return Ok(None);
    }
    let mut matched = Vec::new();
    for (user, hash) in candidates {
        if password::verify(body.password.clone(), hash).await {
            matched.push(user);
        }
    }
    if matched.len() > 1 {
        return Err(ApiError::invalid(
            "tenant",
            "this email signs in to several tenants: name one by its slug",
        ));
    }
    Ok(matched.pop())
}

/// Refuses a disabled user or a suspended tenant.
async fn ensure_may_sign_in(state: &AppState, user: &User) -> Result<(), ApiError> {
    if user.status != UserStatus::Active {
        return Err(ApiError::Unauthorized);
    }
    if state.store.tenant(user.tenant_id).await?.status == TenantStatus::Suspended {
        return Err(ApiError::TenantSuspended);
    }
    Ok(())
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = Session),
              (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    Json(body): Json<LoginBody>,
) -> Result<Json<Session>, ApiError> {
    if body.email.trim().is_empty() {
        return Err(ApiError::invalid("email", "must not be empty"));
    }
    let user = check_password(&state, &body)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    ensure_may_sign_in(&state, &user).await?;
    state.store.record_login(user.tenant_id, user.id).await?;
    Ok(Json(open_session(&state, user, None).await?))
}

/// Trade a refresh token for a new access token and a new refresh token. A refresh token
/// used twice revokes its whole family.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, body = Session),
              (status = 401, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshBody>,
) -> Result<Json<Session>, ApiError> {
    match state
        .store
        .consume_refresh_token(&refresh_hash(&body.refresh_token))
        .await?
    {
        RefreshUse::Fresh {
            tenant,
            user_id,
            family,
        } => {
            let user = state.store.user(tenant, user_id).await?;
            ensure_may_sign_in(&state, &user).await?;
            Ok(Json(open_session(&state, user, Some(family)).await?))
        }
        RefreshUse::Reused { tenant, family } => {
            tracing::warn!(%tenant, %family, "a used refresh token came back: its family is revoked");
            Err(ApiError::Unauthorized)
        }
        RefreshUse::Expired | RefreshUse::Unknown => Err(ApiError::Unauthorized),
    }
}

/// Sign out: the refresh token's whole family is revoked. Answers 204 whatever the token.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshBody,
    responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    Json(body): Json<RefreshBody>,
) -> Result<StatusCode, ApiError> {
    if let RefreshUse::Fresh { tenant, family, .. } = state
        .store
        .consume_refresh_token(&refresh_hash(&body.refresh_token))
        .await?
    {
        state.store.revoke_refresh_family(tenant, family).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn me_view(state: &AppState, who: &Principal) -> Result<Me, ApiError> {
    let tenant: TenantId = who.tenant;
    let user = match who.actor {
        Actor::User(id) => Some(UserView::from(state.store.user(tenant, id).await?)),
        Actor::ApiKey(_) => None,
    };
    Ok(Me {
        tenant: TenantView::from(state.store.tenant(tenant).await?),
        role: who.role.as_str().to_owned(),
        permissions: who
            .role
            .permissions()
            .iter()
            .map(|p: &Permission| p.as_str().to_owned())
            .collect(),
        user,
        api_key_id: match who.actor {
            Actor::ApiKey(id) => Some(id),
            Actor::User(_) => None,
        },
    })
}

/// Who the caller is: tenant, role, permissions, and the user or API key.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me),
              (status = 401, body = crate::error::Problem)))]
pub async fn me(State(state): State<AppState>, who: Principal) -> Result<Json<Me>, ApiError> {
    Ok(Json(me_view(&state, &who).await?))
}
