//! Agents: the settings Switchboard itself reads from an agent's `engine_settings`.

use serde_json::Value;

/// The keys of an agent's `engine_settings` that the platform reads (the other keys belong to
/// its voice engine). A key that is missing or not a string is unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentSettings {
    /// `llm_model`: the model of cascaded turns, instead of the deployment's default.
    pub llm_model: Option<String>,
    /// `followup_sms`: text the caller gets by SMS after an answered inbound call; blank is
    /// no SMS.
    pub followup_sms: Option<String>,
    /// `voicemail_message`: what an answering machine hears, instead of the default message.
    pub voicemail_message: Option<String>,
    /// `tools`: the receptionist tools the agent offers, by name; unset offers them all
    /// (`end_call` is always offered).
    pub tools: Option<Vec<String>>,
}

impl AgentSettings {
    pub fn from_json(settings: &Value) -> Self {
        let text = |key: &str| settings.get(key).and_then(Value::as_str).map(str::to_owned);
        Self {
            llm_model: text("llm_model"),
            followup_sms: text("followup_sms").filter(|s| !s.trim().is_empty()),
            voicemail_message: text("voicemail_message"),
            tools: settings
                .get("tools")
                .and_then(Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_are_read_from_string_keys_only() {
        let settings = AgentSettings::from_json(&json!({
            "llm_model": "gpt-4o",
            "followup_sms": "Thanks for calling!",
            "voicemail_message": "",
            "voice": "alloy",
        }));
        assert_eq!(settings.llm_model.as_deref(), Some("gpt-4o"));
        assert_eq!(
            settings.followup_sms.as_deref(),
            Some("Thanks for calling!")
        );
        assert_eq!(settings.voicemail_message.as_deref(), Some(""));
        assert_eq!(
            AgentSettings::from_json(&json!({"llm_model": 4, "followup_sms": "  "})),
            AgentSettings::default()
        );
        assert_eq!(
            AgentSettings::from_json(&json!(null)),
            AgentSettings::default()
        );
        let tools = AgentSettings::from_json(&json!({"tools": ["take_message", 7]})).tools;
        assert_eq!(tools, Some(vec!["take_message".to_owned()]));
        let offered = crate::conversation::enabled_tools(tools.as_deref());
        assert_eq!(
            offered,
            [
                crate::conversation::ToolName::EndCall,
                crate::conversation::ToolName::TakeMessage
            ]
        );
    }
}
