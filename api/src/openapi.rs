//! The OpenAPI document and the interactive API reference.

use crate::{AppState, error::Problem, routes};
use axum::Router;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Durable voice-AI calls on Temporal."),
    paths(
        routes::twilio::voice_webhook,
        routes::twilio::status_webhook,
        routes::transfer::leg_status,
        routes::transfer::answered,
        routes::transfer::decided,
        routes::transfer::conference_event,
        routes::transfer::hold_music,
        routes::campaign_calls::status,
        routes::campaign_calls::answered,
        routes::media::media_stream,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::me,
        routes::users::list_users,
        routes::users::create_user,
        routes::users::get_user,
        routes::users::update_user,
        routes::api_keys::list_api_keys,
        routes::api_keys::create_api_key,
        routes::api_keys::rotate_api_key,
        routes::api_keys::revoke_api_key,
        routes::tenant::get_tenant,
        routes::tenant::update_tenant,
        routes::tenant::audit_log,
        routes::admin::list_tenants,
        routes::admin::create_tenant,
        routes::admin::get_tenant,
        routes::admin::suspend_tenant,
        routes::admin::activate_tenant,
        routes::demo::create_demo_tenant,
        routes::calls::list_calls,
        routes::calls::place_call,
        routes::calls::get_call,
        routes::recordings::get_recording,
        routes::recordings::play_recording,
        routes::live_calls::stream,
        routes::messages::list_messages,
        routes::codec::decode,
        routes::codec::encode,
        routes::messages::get_message,
        routes::messages::update_message,
        routes::messages::deliver_message,
        routes::tenant_webhook::put_webhook,
        routes::tenant_webhook::get_webhook,
        routes::tenant_webhook::delete_webhook,
        routes::webhook_deliveries::list_deliveries,
        routes::webhook_deliveries::get_delivery,
        routes::webhook_deliveries::redeliver,
        routes::integrations::put_elevenlabs,
        routes::integrations::get_elevenlabs,
        routes::elevenlabs::post_call,
        routes::overview::kpis,
        routes::overview::calls_over_time,
        routes::overview::outcomes,
        routes::overview::needs_attention,
        routes::overview::resolve_call,
        routes::agents::list_agents,
        routes::agents::create_agent,
        routes::agents::get_agent,
        routes::agents::update_agent,
        routes::agents::archive_agent,
        routes::talk::start_talk,
        routes::talk::talk_socket,
        routes::agent_builds::start_build,
        routes::agent_builds::get_build,
        routes::agent_builds::events::stream,
        routes::agent_builds::cancel_build,
        routes::agent_builds::resync_agent,
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
        routes::directory::departments::list_departments,
        routes::directory::departments::create_department,
        routes::directory::departments::get_department,
        routes::directory::departments::update_department,
        routes::directory::departments::delete_department,
        routes::directory::employees::list_employees,
        routes::directory::employees::create_employee,
        routes::directory::employees::get_employee,
        routes::directory::employees::update_employee,
        routes::directory::employees::delete_employee,
        routes::directory::company::get_company_info,
        routes::directory::company::put_company_info,
        routes::directory::company::availability,
        routes::crm::branches::list,
        routes::crm::branches::create,
        routes::crm::branches::get,
        routes::crm::branches::update,
        routes::crm::branches::delete,
        routes::crm::customers::list,
        routes::crm::customers::create,
        routes::crm::customers::get,
        routes::crm::customers::update,
        routes::crm::customers::delete,
        routes::crm::vehicles::list,
        routes::crm::vehicles::create,
        routes::crm::vehicles::get,
        routes::crm::vehicles::update,
        routes::crm::vehicles::delete,
        routes::crm::jobs::list,
        routes::crm::jobs::create,
        routes::crm::jobs::get,
        routes::crm::jobs::update,
        routes::crm::jobs::delete,
        routes::crm::scripts::list,
        routes::crm::scripts::create,
        routes::crm::scripts::get,
        routes::crm::scripts::update,
        routes::crm::scripts::delete,
        routes::crm::appointments::list,
        routes::crm::appointments::create,
        routes::crm::appointments::get,
        routes::crm::appointments::update,
        routes::crm::appointments::delete,
        routes::crm::dnc::list,
        routes::crm::dnc::create,
        routes::crm::dnc::get,
        routes::crm::dnc::update,
        routes::crm::dnc::delete,
        routes::crm::qa_reviews::list,
        routes::crm::qa_reviews::create,
        routes::crm::qa_reviews::get,
        routes::crm::qa_reviews::update,
        routes::crm::qa_reviews::delete,
        routes::crm::campaigns::list,
        routes::crm::campaigns::create,
        routes::crm::campaigns::get,
        routes::crm::campaigns::update,
        routes::crm::campaigns::delete,
        routes::crm::scripts::duplicate,
        routes::crm::campaigns::list_targets,
        routes::crm::campaign_control::start,
        routes::crm::campaign_control::pause,
        routes::crm::campaign_control::resume,
        routes::crm::campaign_control::cancel,
        routes::crm::campaign_control::progress,
        routes::crm::target_upload::upload_targets,
        routes::crm::owner::today,
        routes::crm::owner::tomorrow,
        routes::crm::owner::emergencies,
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
            "operator",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("SWITCHBOARD_OPERATOR_TOKEN")
                    .description(Some("The platform operator's token, for /v1/admin."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT access token or API key sk_…")
                    .description(Some(
                        "A JWT from /v1/auth/login or an API key. An operation's scopes name the \
                         permission it needs; a role without it gets 403 naming it.",
                    ))
                    .build(),
            ),
        );
    }
}

pub fn router() -> Router<AppState> {
    // Swagger UI's files are compiled into the binary (the crate's `vendored` feature takes
    // them from a registry package at build time): the docs load with no network but ours.
    let docs: Router<AppState> = SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .into();
    docs
}
