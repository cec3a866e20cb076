//! Which engines this deployment can run, by the name stored in `agents.engine`.

use crate::engine::{EngineName, VoiceEngine};
use std::{collections::BTreeMap, sync::Arc};

#[derive(Clone, Default)]
pub struct EngineCatalog {
    engines: BTreeMap<EngineName, Arc<dyn VoiceEngine>>,
}

impl EngineCatalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an engine under its own name.
    pub fn with(mut self, engine: Arc<dyn VoiceEngine>) -> Self {
        self.engines.insert(engine.name(), engine);
        self
    }

    /// The engine an agent names (`agents.engine`); `None` for a name this deployment does not
    /// offer, or that no engine has.
    pub fn get(&self, name: &str) -> Option<Arc<dyn VoiceEngine>> {
        let name: EngineName = name.parse().ok()?;
        self.engines.get(&name).cloned()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.engines.keys().map(|name| name.as_str()).collect()
    }
}

impl std::fmt::Debug for EngineCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_found_by_the_name_agents_store() {
        let catalog = EngineCatalog::new().with(Arc::new(crate::echo::EchoEngine));
        assert!(catalog.get("echo").is_some());
        assert!(catalog.get("gemini_live").is_none(), "not offered here");
        assert!(catalog.get("Echo").is_none(), "names are exact");
        assert_eq!(catalog.names(), ["echo"]);
        for name in [
            "echo",
            "openai_realtime",
            "gemini_live",
            "cascaded",
            "offline",
        ] {
            assert_eq!(name.parse::<EngineName>().unwrap().as_str(), name);
        }
    }
}
