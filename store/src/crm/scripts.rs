//! Call scripts: what an outbound agent is for (`goal`), how it opens, what it asks, what it
//! collects, and the voicemail it leaves.

use super::{Resource, Stored, json_column, stored_json, tenant_columns};
use crate::{Store, StoreError, entities::scripts};
use domain::{TenantId, crm::CollectField};
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct ScriptFields {
    pub name: String,
    pub goal: Option<String>,
    pub opening: Option<String>,
    pub questions: Vec<String>,
    pub collect: Vec<CollectField>,
    pub voicemail_message: Option<String>,
}

pub type Script = Stored<ScriptFields>;

pub struct Scripts;

impl Resource for Scripts {
    type Entity = scripts::Entity;
    type Record = Script;
    type New = ScriptFields;
    type Filter = ();
    const NAME: &'static str = "script";
    tenant_columns!(scripts);

    fn id(record: &Script) -> Uuid {
        record.id
    }

    fn fields_of(record: &Script) -> Self::New {
        record.fields.clone()
    }

    fn record(row: scripts::Model) -> Result<Script, StoreError> {
        Ok(Stored {
            id: row.id,
            fields: ScriptFields {
                name: row.name,
                goal: row.goal,
                opening: row.opening,
                questions: stored_json("scripts.questions", row.questions)?,
                collect: stored_json("scripts.collect", row.collect)?,
                voicemail_message: row.voicemail_message,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn fields(new: ScriptFields) -> scripts::ActiveModel {
        scripts::ActiveModel {
            name: Set(new.name),
            goal: Set(new.goal),
            opening: Set(new.opening),
            questions: Set(json_column(&new.questions)),
            collect: Set(json_column(&new.collect)),
            voicemail_message: Set(new.voicemail_message),
            ..Default::default()
        }
    }
}

impl Store {
    /// A copy of script `id` named `"<name> (copy)"`.
    pub async fn duplicate_script(&self, tenant: TenantId, id: Uuid) -> Result<Script, StoreError> {
        let original = self.resource::<Scripts>(tenant, id).await?;
        let mut copy = original.fields;
        copy.name = format!("{} (copy)", copy.name);
        self.create_resource::<Scripts>(tenant, copy).await
    }
}
