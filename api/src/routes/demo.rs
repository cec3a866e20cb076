//! `POST /v1/admin/demo-tenants`: a complete demo tenant in one call (seed 003's "seed demo
//! tenants"): a plumbing and heating business with its owner, an API key, a receptionist agent
//! that knows the business, and a phone number bought for it — ready to call through the
//! simulator. The owner's password and the key's secret are shown once, in the answer.

use super::views::{TenantView, UserView};
use crate::{
    ApiError, AppState, audit,
    auth::{operator::Operator, password},
};
use axum::{Json, extract::State, http::StatusCode};
use domain::{E164, KnowledgeCategory, Role, TenantId};
use rand::RngCore;
use serde::Serialize;
use store::{NewAgent, NewKnowledge, NewTenant, NewUser};
use utoipa::ToSchema;
use uuid::Uuid;

const DEMO_NAME: &str = "Bayview Plumbing & Heating";

/// What the demo receptionist knows, by category.
const DEMO_KNOWLEDGE: &[(KnowledgeCategory, &str, &str)] = &[
    (
        KnowledgeCategory::BusinessInformation,
        "What are your opening hours?",
        "Monday to Friday 7 am to 7 pm and Saturday 8 am to 2 pm. Emergency call-outs 24 hours a day.",
    ),
    (
        KnowledgeCategory::BusinessInformation,
        "Which areas do you serve?",
        "San Francisco, Daly City and South San Francisco.",
    ),
    (
        KnowledgeCategory::ProductsServices,
        "What do you do?",
        "Leak and burst pipe repair, water heaters, drain cleaning, furnace and boiler service, and new installations.",
    ),
    (
        KnowledgeCategory::PricingBilling,
        "How much is a call-out?",
        "A standard visit is 95 dollars including the first half hour; emergency call-outs after hours are 180 dollars.",
    ),
    (
        KnowledgeCategory::EmergencyContact,
        "What counts as an emergency?",
        "Flooding, a burst pipe, no heat in freezing weather, or a gas smell. For a gas smell, leave the building and call the gas company first.",
    ),
    (
        KnowledgeCategory::Policies,
        "What is your cancellation policy?",
        "Cancel or reschedule at no charge up to 2 hours before the visit.",
    ),
];

/// The demo tenant, with the credentials shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct DemoTenant {
    pub tenant: TenantView,
    pub owner: UserView,
    /// The owner's password: shown once.
    pub owner_password: String,
    /// An owner-role API key's secret: shown once.
    pub api_key: String,
    pub agent_id: Uuid,
    /// The number that reaches the agent, when one could be bought.
    pub phone_number: Option<String>,
}

/// `bytes` random bytes, as hex: demo passwords.
pub fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

pub(crate) fn preferred_engine(available: &[&str]) -> &'static str {
    ["openai_realtime", "gemini_live", "cascaded", "offline"]
        .into_iter()
        .find(|e| available.contains(e))
        .unwrap_or("echo")
}

async fn demo_owner(slug: &str) -> Result<(NewUser, String), ApiError> {
    let owner_password = format!("demo-{}", random_hex(8));
    let owner = NewUser {
        email: format!("owner@{slug}.example.com"),
        name: "Dana Demo".into(),
        password_hash: password::hash(owner_password.clone()).await?,
        role: Role::Owner,
    };
    Ok((owner, owner_password))
}

async fn seed_agent(state: &AppState, tenant: TenantId) -> Result<Uuid, ApiError> {
    let agent = state
        .store
        .create_agent(tenant, NewAgent {
            name: "Bayview Receptionist".into(),
            greeting: "Thanks for calling Bayview Plumbing and Heating, how can I help you today?".into(),
            instructions: "You are the friendly receptionist of Bayview Plumbing & Heating. Take messages for the team and answer from what you know.".into(),
            engine: preferred_engine(&state.engines.names()).into(),
            engine_settings: serde_json::json!({}),
            max_call_duration_secs: None,
            language: None,
            record_calls: None,
        })
        .await?;
    for (category, question, answer) in DEMO_KNOWLEDGE {
        let entry = NewKnowledge {
            category: *category,
            question: (*question).into(),
            answer: (*answer).into(),
            agent_id: None,
        };
        state.store.add_knowledge(tenant, entry).await?;
    }
    Ok(agent.id.as_uuid())
}

/// A number bought for the demo agent: the first one Twilio offers in San Francisco (415).
/// `None` when Twilio offers none or refuses: the demo tenant is still usable, and the
/// operator can buy a number through `/v1/phone-numbers` later.
async fn demo_number(state: &AppState, tenant: TenantId, agent: Uuid) -> Option<String> {
    let search = telephony::rest::NumberSearch {
        country: "US".into(),
        area_code: Some("415".into()),
        contains: None,
        limit: 1,
    };
    let offered = match state.twilio.available_numbers(&search).await {
        Ok(offered) => offered,
        Err(e) => {
            tracing::warn!(error = %e, "no number for the demo tenant: the search failed");
            return None;
        }
    };
    let e164 = E164::parse(&offered.first()?.phone_number).ok()?;
    let agent = Some(domain::AgentId::from(agent));
    match super::numbers::provision(state, tenant, e164, Some("Demo line".into()), agent).await {
        Ok(number) => Some(number.e164.to_string()),
        Err(e) => {
            tracing::warn!(error = %e, "no number for the demo tenant: the purchase failed");
            None
        }
    }
}

/// Create a complete demo tenant: owner, API key, receptionist agent with knowledge, and a
/// phone number routed to it.
#[utoipa::path(post, path = "/v1/admin/demo-tenants", tag = "admin", security(("operator" = [])),
    responses((status = 201, body = DemoTenant), (status = 401, body = crate::error::Problem),
              (status = 502, body = crate::error::Problem)))]
pub async fn create_demo_tenant(
    State(state): State<AppState>,
    op: Operator,
) -> Result<(StatusCode, Json<DemoTenant>), ApiError> {
    let slug = format!("bayview-demo-{}", random_hex(3));
    let new = NewTenant {
        name: DEMO_NAME.into(),
        slug: slug.clone(),
        time_zone: "America/Los_Angeles".into(),
        settings: serde_json::json!({"industry": "plumbing_hvac", "business_hours": "Mon-Fri 07:00-19:00, Sat 08:00-14:00"}),
    };
    let tenant = state.store.create_tenant_with(new).await?;
    let (owner, owner_password) = demo_owner(&slug).await?;
    let owner = state.store.create_user(tenant.id, owner).await?;
    let key = state
        .store
        .create_api_key_with_role(tenant.id, "demo", Role::Owner)
        .await?;
    let agent_id = seed_agent(&state, tenant.id).await?;
    let phone_number = demo_number(&state, tenant.id, agent_id).await;
    let demo = DemoTenant {
        tenant: TenantView::from(tenant),
        owner: UserView::from(owner),
        owner_password,
        api_key: key.secret.into_inner(),
        agent_id,
        phone_number,
    };
    let after = audit::snapshot(&demo)?;
    audit::record_operator(
        &state,
        &op,
        TenantId::from(demo.tenant.id),
        audit::Change {
            action: "tenant.create_demo",
            resource_type: "tenant",
            resource_id: Some(demo.tenant.id.to_string()),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(demo)))
}
