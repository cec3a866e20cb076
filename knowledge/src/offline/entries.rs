//! Entries as they are found: checked, de-duplicated by question, then sorted by category.

use crate::text::{MAX_ANSWER_CHARS, answer, question_key};
use domain::KnowledgeCategory;
use domain::site::KnowledgeEntry;
use std::collections::HashSet;

#[derive(Default)]
pub(super) struct Entries {
    seen: HashSet<String>,
    list: Vec<KnowledgeEntry>,
}

impl Entries {
    /// Adds an entry unless its question was asked already or it has no speakable answer.
    /// The answer is cut to two sentences.
    pub(super) fn push(
        &mut self,
        category: KnowledgeCategory,
        question: &str,
        text: &str,
        url: &str,
    ) {
        let question = question.trim();
        let Some(answer) = answer(text) else { return };
        let key = question_key(question);
        if key.is_empty() || answer.chars().count() > MAX_ANSWER_CHARS || !self.seen.insert(key) {
            return;
        }
        self.list.push(KnowledgeEntry {
            category,
            question: question.to_owned(),
            answer,
            source_url: url.to_owned(),
        });
    }

    /// The entries by category (`KnowledgeCategory::ALL` order), in the order found within one.
    pub(super) fn finish(mut self) -> Vec<KnowledgeEntry> {
        let rank = |c: &KnowledgeCategory| KnowledgeCategory::ALL.iter().position(|x| x == c);
        self.list.sort_by_key(|e| rank(&e.category));
        self.list
    }
}
