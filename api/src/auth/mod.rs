//! Who is calling and what they may do.
//!
//! A request authenticates with `Authorization: Bearer …`: an API key (`sk_…`, a machine, with
//! the role the key was given) or a JWT access token (a signed-in user). [`Principal`] is the
//! result: tenant, role, actor, and the request's id and client address for the audit log.
//! [`Authorized<P>`] is what handlers take: it authenticates, checks the permission `P` (403
//! naming it) and the tenant's rate limit (429), before the body is read.

pub mod jwt;
pub mod operator;
pub mod password;
pub mod perm;

use crate::{ApiError, AppState};
use axum::{extract::FromRequestParts, http::request::Parts};
use domain::{Permission, Role, TenantId};
use std::marker::PhantomData;
use uuid::Uuid;

/// Who acts: a signed-in user or an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(Uuid),
    ApiKey(Uuid),
}

impl Actor {
    /// `user` or `api_key`, as the audit log spells it.
    pub fn kind(self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::ApiKey(_) => "api_key",
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            Actor::User(id) | Actor::ApiKey(id) => id,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: TenantId,
    pub role: Role,
    pub actor: Actor,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
    /// The client's address as the socket saw it.
    pub client_addr: Option<String>,
}

impl Principal {
    /// `Ok` when the role has `permission`, else a 403 naming it.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden { permission })
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn request_meta(parts: &Parts) -> (Option<String>, Option<String>) {
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let client_addr = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    (request_id, client_addr)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let (request_id, client_addr) = request_meta(parts);
        let (tenant, role, actor) = if token.starts_with("sk_") {
            let key = state
                .store
                .authenticate_api_key(token)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            (key.tenant, key.role, Actor::ApiKey(key.key_id))
        } else {
            let claims = state
                .config
                .auth
                .jwt
                .verify(token)
                .ok_or(ApiError::Unauthorized)?;
            (claims.tid, claims.role, Actor::User(claims.sub))
        };
        tracing::Span::current().record("tenant_id", tracing::field::display(tenant));
        // A suspended tenant's keys and unexpired access tokens stop working at once.
        if state.store.tenant(tenant).await?.status == domain::TenantStatus::Suspended {
            return Err(ApiError::TenantSuspended);
        }
        Ok(Self {
            tenant,
            role,
            actor,
            request_id,
            client_addr,
        })
    }
}

/// A caller allowed `P::PERMISSION`, within the tenant's rate limit.
#[derive(Debug, Clone)]
pub struct Authorized<P> {
    pub principal: Principal,
    _permission: PhantomData<P>,
}

impl<P> std::ops::Deref for Authorized<P> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<P: perm::Required + Send> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require(P::PERMISSION)?;
        crate::rate_limit::enforce(state, principal.tenant, P::PERMISSION.into()).await?;
        Ok(Self {
            principal,
            _permission: PhantomData,
        })
    }
}

/// How the API authenticates: the JWT keys, token lifetimes and the operator's credential.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub jwt: jwt::JwtKeys,
    /// How long a refresh token (and so a sign-in) lives without being used.
    pub refresh_ttl: std::time::Duration,
    /// The platform operator's bearer token for `/v1/admin`; `None` closes those routes.
    pub operator_token: Option<domain::Secret<String>>,
}

impl AuthSettings {
    /// A random signing key (sign-ins end with the process), 15-minute access tokens, 30-day
    /// refresh tokens, no operator.
    pub fn single_node() -> Self {
        Self {
            jwt: jwt::JwtKeys::generate("ephemeral", std::time::Duration::from_secs(900)),
            refresh_ttl: std::time::Duration::from_secs(30 * 86_400),
            operator_token: None,
        }
    }
}
