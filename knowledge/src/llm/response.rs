//! The model's answer: the JSON Schema it must follow, and a strict reading of it.
//!
//! Checked by hand against the schema (no schema engine): an object with exactly `entries`, an
//! array of objects with exactly `category` (one of the 18), `question`, `answer` (at most two
//! sentences and 300 characters) and `source_url` (a page of the chunk), all non-empty strings.
//! A fenced block (```json … ```) around the JSON is accepted.

use super::{Chunk, LlmExtractError};
use crate::text::{MAX_ANSWER_CHARS, sentences};
use domain::KnowledgeCategory;
use domain::site::KnowledgeEntry;
use serde_json::{Map, Value, json};

const FIELDS: [&str; 4] = ["category", "question", "answer", "source_url"];

/// The JSON Schema of a response (strict: every field required, nothing else allowed).
pub fn response_schema() -> Value {
    let categories: Vec<&str> = KnowledgeCategory::ALL.iter().map(|c| c.as_str()).collect();
    json!({
        "type": "object",
        "properties": {
            "entries": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "category": { "type": "string", "enum": categories },
                        "question": { "type": "string", "minLength": 1 },
                        "answer": { "type": "string", "minLength": 1, "maxLength": MAX_ANSWER_CHARS },
                        "source_url": { "type": "string", "minLength": 1 }
                    },
                    "required": FIELDS,
                    "additionalProperties": false
                }
            }
        },
        "required": ["entries"],
        "additionalProperties": false
    })
}

fn schema_error(path: impl Into<String>, reason: impl Into<String>) -> LlmExtractError {
    LlmExtractError::Schema {
        path: path.into(),
        reason: reason.into(),
    }
}

/// The object at `path`, with exactly the keys `keys`.
fn exact_object<'a>(
    value: &'a Value,
    path: &str,
    keys: &[&str],
) -> Result<&'a Map<String, Value>, LlmExtractError> {
    let object = value
        .as_object()
        .ok_or_else(|| schema_error(path, "not an object"))?;
    if let Some(missing) = keys.iter().find(|k| !object.contains_key(**k)) {
        return Err(schema_error(path, format!("missing `{missing}`")));
    }
    if let Some(extra) = object.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(schema_error(path, format!("unexpected `{extra}`")));
    }
    Ok(object)
}

fn text_field<'a>(
    object: &'a Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'a str, LlmExtractError> {
    let text = object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| schema_error(format!("{path}.{key}"), "not a string"))?
        .trim();
    if text.is_empty() {
        return Err(schema_error(format!("{path}.{key}"), "empty"));
    }
    Ok(text)
}

fn entry(value: &Value, index: usize, chunk: &Chunk) -> Result<KnowledgeEntry, LlmExtractError> {
    let path = format!("entries[{index}]");
    let object = exact_object(value, &path, &FIELDS)?;
    let category = text_field(object, &path, "category")?;
    let category = KnowledgeCategory::parse(category).ok_or_else(|| {
        schema_error(
            format!("{path}.category"),
            format!("`{category}` is not a category"),
        )
    })?;
    let answer = text_field(object, &path, "answer")?;
    if answer.chars().count() > MAX_ANSWER_CHARS || sentences(answer).len() > 2 {
        return Err(schema_error(
            format!("{path}.answer"),
            "longer than two sentences or 300 characters",
        ));
    }
    let url = text_field(object, &path, "source_url")?;
    if !chunk.urls.iter().any(|u| u == url) {
        return Err(LlmExtractError::ForeignSource {
            index,
            url: url.to_owned(),
        });
    }
    Ok(KnowledgeEntry {
        category,
        question: text_field(object, &path, "question")?.to_owned(),
        answer: answer.to_owned(),
        source_url: url.to_owned(),
    })
}

/// The JSON inside a ```json fence, or the text itself.
fn unfenced(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .map_or(t, str::trim)
}

/// The entries of a model's answer to `chunk`'s prompt; any deviation is an error to retry on.
pub fn parse_response(text: &str, chunk: &Chunk) -> Result<Vec<KnowledgeEntry>, LlmExtractError> {
    let value: Value = serde_json::from_str(unfenced(text))
        .map_err(|e| LlmExtractError::NotJson(e.to_string()))?;
    let object = exact_object(&value, "$", &["entries"])?;
    let items = object
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| schema_error("entries", "not an array"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| entry(item, i, chunk))
        .collect()
}
