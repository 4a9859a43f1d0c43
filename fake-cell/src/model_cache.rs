//! The models the cell reports as loaded (`GET /models`) and ejects (`DELETE /models`), kept as
//! Marqo's model cache behaves: the preloaded models at start, a model loaded by the first
//! request that embeds with it, gone when ejected until a request needs it again. Nothing is
//! really loaded; this is only what the routes report. Bounded: the oldest is dropped.

use parking_lot::RwLock;

/// `MARQO_MODELS_TO_PRELOAD`'s default in Marqo's `api/configs.py`.
const PRELOADED: &[&str] = &["hf/e5-base-v2", "open_clip/ViT-B-32/laion2b_s34b_b79k"];
/// Most models listed at once (Marqo evicts by memory; a team's indexes use a handful).
const MAX_MODELS: usize = 64;

pub struct ModelCache {
    /// Model names on `cpu`, in load order (Marqo lists its cache dict in insertion order).
    loaded: RwLock<Vec<String>>,
}

impl Default for ModelCache {
    fn default() -> Self {
        ModelCache {
            loaded: RwLock::new(PRELOADED.iter().map(|m| m.to_string()).collect()),
        }
    }
}

impl ModelCache {
    pub fn list(&self) -> Vec<String> {
        self.loaded.read().clone()
    }

    /// A request embedded with `model`: it is loaded from now on. The read lock is the common
    /// path (the model is already there), so concurrent searches do not serialise here.
    pub fn used(&self, model: &str) {
        if self.loaded.read().iter().any(|m| m == model) {
            return;
        }
        let mut loaded = self.loaded.write();
        if !loaded.iter().any(|m| m == model) {
            if loaded.len() >= MAX_MODELS {
                loaded.remove(0);
            }
            loaded.push(model.to_string());
        }
    }

    /// Eject `model`; `false` when it was not loaded.
    pub fn eject(&self, model: &str) -> bool {
        let mut loaded = self.loaded.write();
        let before = loaded.len();
        loaded.retain(|m| m != model);
        loaded.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preloaded_then_loaded_by_use_and_gone_when_ejected() {
        let c = ModelCache::default();
        assert_eq!(c.list(), PRELOADED);
        c.used("random/small");
        c.used("random/small");
        assert_eq!(c.list().last().map(String::as_str), Some("random/small"));
        assert!(c.eject("random/small"));
        assert!(!c.eject("random/small"));
        assert!(!c.list().contains(&"random/small".to_string()));
        for i in 0..MAX_MODELS + 5 {
            c.used(&format!("m{i}"));
        }
        assert_eq!(c.list().len(), MAX_MODELS);
    }
}
