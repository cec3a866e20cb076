//! The tools a model may call, run by the workflow. Failures are answers too (`{"error": …}`),
//! so the model can tell the caller instead of the call breaking.

use super::{CallPhase, CallWorkflow, conversation_activity_options};
use crate::activities::{
    CampaignActivities, CampaignToolRequest, ConversationActivities, TakeMessageRequest,
};
use domain::conversation::{KnowledgeQuery, TakeMessageInput, ToolName};
use domain::workflow_io::ToolCallRecord;
use serde_json::{Value, json};
use temporalio_sdk::WorkflowContext;

/// A tool's arguments: the JSON object the model sent.
pub(super) struct Arguments(Value);

impl Arguments {
    fn parse(arguments: &str) -> Self {
        Self(serde_json::from_str(arguments).unwrap_or(Value::Null))
    }

    /// A non-empty string argument, trimmed.
    pub(super) fn text(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

impl CallWorkflow {
    /// Runs one tool and returns the JSON text the model gets back.
    pub(super) async fn run_tool(
        ctx: &mut WorkflowContext<Self>,
        call_id: &str,
        name: &str,
        arguments: &str,
    ) -> String {
        ctx.state_mut(|s| s.tool_calls += 1);
        let started_ms = super::now_ms(ctx);
        let args = Arguments::parse(arguments);
        let output = match ToolName::parse(name) {
            None => json!({"error": format!("unknown tool {name}")}),
            // The rule dialog may reach for a tool the agent does not offer.
            Some(tool) if !ctx.state(|s| s.offers(tool)) => {
                json!({"ok": false, "reason": "not_available",
                    "note": format!("{name} is not one of this agent's tools.")})
            }
            Some(ToolName::EndCall) => {
                ctx.state_mut(|s| s.end_requested = true);
                ctx.set_current_details(CallPhase::AgentEnding.describe());
                json!({"ok": true, "next": "Say a short goodbye now; the call ends after it."})
            }
            Some(ToolName::TransferCall) => Self::transfer_tool(ctx, &args).await,
            Some(ToolName::FindPersonOrDepartment) => Self::directory_tool(ctx, false, &args).await,
            Some(ToolName::CheckAvailability) => Self::directory_tool(ctx, true, &args).await,
            Some(ToolName::LookupKnowledge) => Self::lookup_knowledge(ctx, &args).await,
            Some(ToolName::TakeMessage) => Self::take_message(ctx, call_id, &args).await,
            Some(
                tool
                @ (ToolName::BookAppointment | ToolName::RequestCallback | ToolName::DoNotCall),
            ) => Self::campaign_tool(ctx, call_id, tool, arguments).await,
        };
        if !ctx.state(|s| s.stream_ends_after_reply()) {
            ctx.set_current_details(CallPhase::Streaming.describe());
        }
        let output = output.to_string();
        let record = ToolCallRecord {
            name: name.to_owned(),
            at_ms: started_ms,
            duration_ms: super::now_ms(ctx) - started_ms,
            arguments: ToolCallRecord::cut(arguments),
            result: ToolCallRecord::cut(&output),
        };
        ctx.state_mut(|s| {
            if s.tool_log.len() < ToolCallRecord::MAX_PER_CALL {
                s.tool_log.push(record);
            }
        });
        output
    }

    /// `book_appointment`, `request_callback`, `do_not_call`: only a campaign's call offers
    /// them; the activity acts at once (the booking, the do-not-call entry, the callback time).
    async fn campaign_tool(
        ctx: &mut WorkflowContext<Self>,
        call_id: &str,
        tool: ToolName,
        arguments: &str,
    ) -> Value {
        let Some(campaign) = ctx.state(|s| s.input.campaign.clone()) else {
            return json!({"ok": false, "reason": "not_available",
                "note": "This call is not a campaign's."});
        };
        ctx.set_current_details(format!("Running {}", tool.as_str()));
        let now_ms = super::now_ms(ctx);
        let (tenant_id, call_sid) = ctx.state(|s| (s.input.tenant_id, s.input.call_sid.clone()));
        let request = CampaignToolRequest {
            tenant_id,
            call_sid,
            tool_call_id: call_id.to_owned(),
            campaign,
            tool,
            arguments: arguments.to_owned(),
            now_ms,
        };
        ctx.execute_activity(
            CampaignActivities::campaign_tool,
            request,
            conversation_activity_options(tool.as_str()),
        )
        .await
        .unwrap_or_else(|_| json!({"ok": false, "error": "that could not be saved just now"}))
    }

    async fn lookup_knowledge(ctx: &mut WorkflowContext<Self>, args: &Arguments) -> Value {
        let Some(query) = args.text("query") else {
            return json!({"error": "query is required"});
        };
        ctx.set_current_details("Looking up the knowledge base");
        let (tenant_id, agent_id) = ctx.state(|s| (s.input.tenant_id, s.input.agent_id));
        let hits = ctx
            .execute_activity(
                ConversationActivities::lookup_knowledge,
                KnowledgeQuery {
                    tenant_id,
                    agent_id: Some(agent_id),
                    query,
                    limit: 3,
                },
                conversation_activity_options("Look up knowledge"),
            )
            .await;
        match hits {
            Ok(hits) if hits.is_empty() => json!({
                "results": [],
                "note": "Nothing in the knowledge base answers this. Say you don't know; offer to take a message."
            }),
            Ok(hits) => json!({"results": hits}),
            Err(_) => json!({"error": "the knowledge base is unavailable"}),
        }
    }

    /// Saves a message, once per tool call (`{CallSid}/{call id}` keys the row).
    async fn take_message(
        ctx: &mut WorkflowContext<Self>,
        call_id: &str,
        args: &Arguments,
    ) -> Value {
        let (Some(caller_name), Some(message)) = (args.text("caller_name"), args.text("message"))
        else {
            return json!({"error": "caller_name and message are required"});
        };
        ctx.set_current_details("Taking a message");
        let (tenant_id, call_sid) = ctx.state(|s| (s.input.tenant_id, s.input.call_sid.clone()));
        let taken = ctx
            .execute_activity(
                ConversationActivities::take_message,
                TakeMessageRequest {
                    request_key: format!("{call_sid}/{call_id}"),
                    message: TakeMessageInput {
                        tenant_id,
                        call_sid,
                        for_whom: args.text("for_whom"),
                        caller_name,
                        callback_number: args.text("callback_number"),
                        message,
                        replaces: args.text("replaces"),
                        recipient: None,
                    },
                },
                conversation_activity_options("Take message"),
            )
            .await;
        match taken {
            Ok(id) => {
                ctx.state_mut(|s| {
                    if !s.messages_taken.contains(&id) {
                        s.messages_taken.push(id.clone());
                    }
                });
                json!({"ok": true, "message_id": id})
            }
            Err(_) => json!({"ok": false, "error": "the message could not be saved"}),
        }
    }
}
