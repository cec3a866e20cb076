//! Which engines this deployment can run, by the name stored in `agents.engine`.

use crate::engine::VoiceEngine;
use std::{collections::BTreeMap, sync::Arc};

#[derive(Clone, Default)]
pub struct EngineCatalog {
    engines: BTreeMap<&'static str, Arc<dyn VoiceEngine>>,
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

    pub fn get(&self, name: &str) -> Option<Arc<dyn VoiceEngine>> {
        self.engines.get(name).cloned()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.engines.keys().copied().collect()
    }
}

impl std::fmt::Debug for EngineCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.engines.keys()).finish()
    }
}
