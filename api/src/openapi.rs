//! The OpenAPI document and the interactive API reference.

use crate::{AppState, error::Problem, routes};
use axum::{Json, Router, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_scalar::{Scalar, Servable};

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Durable voice-AI calls on Temporal."),
    paths(
        routes::twilio::voice_webhook,
        routes::twilio::status_webhook,
        routes::media::media_stream,
        routes::calls::list_calls,
        routes::calls::place_call,
        routes::calls::get_call,
        routes::messages::list_messages,
        routes::messages::get_message,
        routes::messages::update_message,
        routes::agents::list_agents,
        routes::agents::create_agent,
        routes::agents::get_agent,
        routes::agents::update_agent,
        routes::agents::archive_agent,
        routes::numbers::list_numbers,
        routes::numbers::available_numbers,
        routes::numbers::buy_number,
        routes::numbers::get_number,
        routes::numbers::assign_number,
        routes::numbers::release_number,
        routes::knowledge::list_knowledge,
        routes::knowledge::create_knowledge,
        routes::knowledge::get_knowledge,
        routes::knowledge::update_knowledge,
        routes::knowledge::delete_knowledge,
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
    ),
    components(schemas(Problem)),
    modifiers(&ApiKeyAuth)
)]
pub struct ApiDoc;

struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT access token or API key sk_…")
                    .build(),
            ),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .merge(Scalar::with_url("/docs", ApiDoc::openapi()))
}
