//! The generate step (the agent, its knowledge, the people it can put callers through to) and
//! a re-sync's update of an agent's knowledge.

use super::AgentBuildActivitiesImpl;
use crate::call::store_failure;
use domain::{
    E164, TenantId,
    directory::EmployeeStatus,
    site::{Contact, ExtractedKnowledge},
};
use store::{
    NewAgent,
    agent_builds::AgentBuild,
    directory::{NewDepartment, NewEmployee},
};
use temporalio_common::error::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;
use workflows::activities::agent_build::{BuildRef, Generated, store_counts::Synced};

/// Extraction ran before this step: its knowledge is on the build.
#[derive(Debug, thiserror::Error)]
#[error("the build has no extracted knowledge")]
struct NoKnowledge;

fn knowledge_of(build: &AgentBuild) -> Result<&ExtractedKnowledge, ActivityError> {
    build
        .knowledge
        .as_ref()
        .ok_or_else(|| ApplicationFailure::non_retryable(NoKnowledge).into())
}

impl AgentBuildActivitiesImpl {
    pub(super) async fn generate(&self, input: BuildRef) -> Result<Generated, ActivityError> {
        let tenant = input.tenant_id;
        let build = self.load(input).await?;
        let found = knowledge_of(&build)?;
        let made = knowledge::agent::generate(found, build.name.as_deref());
        let settings = serde_json::json!({
            "business_name": made.business_name,
            "time_zone": made.time_zone,
            "hours": made.hours,
            "source_url": build.url,
        });
        let new = NewAgent {
            name: made.name.clone(),
            greeting: made.greeting.clone(),
            instructions: made.instructions.clone(),
            engine: build.engine.clone().unwrap_or_else(|| "offline".to_owned()),
            engine_settings: settings,
            max_call_duration_secs: None,
            language: None,
            record_calls: None,
        };
        let agent = self
            .store
            .create_agent_with_id(tenant, build.agent_id, new)
            .await
            .map_err(store_failure)?;
        let synced = self
            .store
            .sync_site_knowledge(tenant, agent.id, &found.entries)
            .await
            .map_err(store_failure)?;
        let directory_entries = self.add_to_directory(tenant, &made.directory).await?;
        Ok(Generated {
            agent_id: agent.id,
            name: agent.name,
            knowledge_entries: synced.added + synced.changed + synced.unchanged,
            directory_entries,
        })
    }

    /// The people the site lists, added to the tenant's directory (with their departments)
    /// unless someone of the same name is there already. How many were added.
    async fn add_to_directory(
        &self,
        tenant: TenantId,
        contacts: &[Contact],
    ) -> Result<u32, ActivityError> {
        let mut directory = self.store.directory(tenant).await.map_err(store_failure)?;
        let mut added = 0;
        for contact in contacts {
            let known = |name: &str| name.eq_ignore_ascii_case(contact.name.trim());
            if directory.employees.iter().any(|e| known(&e.name)) {
                continue;
            }
            let department_id = match &contact.department {
                Some(name) => Some(self.department(tenant, name, &mut directory).await?),
                None => None,
            };
            let employee = NewEmployee {
                name: contact.name.trim().to_owned(),
                phone: contact.phone.as_deref().and_then(|p| E164::parse(p).ok()),
                email: contact.email.clone(),
                department_id,
                office: None,
                roles: contact.role.clone().into_iter().collect(),
                status: EmployeeStatus::Active,
                hours: None,
            };
            let made = self
                .store
                .create_employee(tenant, employee)
                .await
                .map_err(store_failure)?;
            directory.employees.push(made);
            added += 1;
        }
        Ok(added)
    }

    /// The id of the tenant's department `name`, created when there is none.
    async fn department(
        &self,
        tenant: TenantId,
        name: &str,
        directory: &mut domain::directory::Directory,
    ) -> Result<uuid::Uuid, ActivityError> {
        if let Some(found) = directory
            .departments
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
        {
            return Ok(found.id);
        }
        let new = NewDepartment {
            name: name.to_owned(),
            description: None,
            hours: None,
            routing_priority: 0,
        };
        let made = self
            .store
            .create_department(tenant, new)
            .await
            .map_err(store_failure)?;
        let id = made.id;
        directory.departments.push(made);
        Ok(id)
    }

    /// A re-sync: the agent's site knowledge made the site's again, edits kept.
    pub(super) async fn resync(&self, input: BuildRef) -> Result<Synced, ActivityError> {
        let build = self.load(input).await?;
        let found = knowledge_of(&build)?;
        let s = self
            .store
            .sync_site_knowledge(input.tenant_id, build.agent_id, &found.entries)
            .await
            .map_err(store_failure)?;
        Ok(Synced {
            added: s.added,
            changed: s.changed,
            unchanged: s.unchanged,
            removed: s.removed,
            kept_edits: s.kept_edits,
        })
    }
}
