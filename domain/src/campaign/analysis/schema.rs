//! The JSON Schema an LLM's post-call analysis must follow, and the check its answer passes
//! before anything acts on it.
//!
//! Every property is required and nullable ones say so with `["string","null"]`: that is the
//! form OpenAI-style strict structured outputs accept. The check walks this same schema (it is
//! flat: one object of scalars), so the schema sent to the model and the rule applied to its
//! answer cannot drift apart.

use super::{OutcomeClass, PostCallAnalysis};
use chrono::DateTime;
use serde_json::{Value, json};

/// The JSON Schema (draft 2020-12) of [`PostCallAnalysis`].
pub fn post_call_analysis_schema() -> Value {
    let outcomes: Vec<&str> = OutcomeClass::ALL.iter().map(OutcomeClass::as_str).collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "PostCallAnalysis",
        "type": "object",
        "additionalProperties": false,
        "required": ["summary", "outcome", "confidence", "appointment_at", "appointment_local",
                     "vehicle", "notes", "needs_attention"],
        "properties": {
            "summary": {"type": "string", "minLength": 1, "maxLength": 1000,
                        "description": "One or two sentences on how the call ended."},
            "outcome": {"type": "string", "enum": outcomes},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "appointment_at": {"type": ["string", "null"], "format": "date-time",
                               "description": "RFC 3339 instant of the booked appointment."},
            "appointment_local": {"type": ["string", "null"], "maxLength": 100,
                                  "description": "The slot in the customer's words and zone, e.g. \"Tuesday 8 December at 10:00\"."},
            "vehicle": {"type": ["string", "null"], "maxLength": 100},
            "notes": {"type": ["string", "null"], "maxLength": 2000},
            "needs_attention": {"type": "boolean"}
        }
    })
}

/// Checks an LLM's answer against [`post_call_analysis_schema`] and reads it. The error names
/// the first field at fault.
pub fn validate_llm_analysis(value: &Value) -> Result<PostCallAnalysis, String> {
    let schema = post_call_analysis_schema();
    let object = value
        .as_object()
        .ok_or("the analysis must be a JSON object")?;
    let properties = schema["properties"]
        .as_object()
        .ok_or("the schema has properties")?;
    if let Some(unknown) = object.keys().find(|k| !properties.contains_key(*k)) {
        return Err(format!("`{unknown}` is not a field of the analysis"));
    }
    for (name, rule) in properties {
        let field = object
            .get(name)
            .ok_or_else(|| format!("`{name}` is required"))?;
        check_field(name, rule, field)?;
    }
    let analysis: PostCallAnalysis =
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    if analysis.appointment_at.is_some() && analysis.outcome != OutcomeClass::AppointmentBooked {
        return Err("`appointment_at` is set but `outcome` is not appointment_booked".into());
    }
    Ok(analysis)
}

fn check_field(name: &str, rule: &Value, field: &Value) -> Result<(), String> {
    let types: Vec<&str> = match &rule["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_of = json_type(field);
    let matches = types
        .iter()
        .any(|t| *t == type_of || (*t == "number" && type_of == "integer"));
    if !matches {
        return Err(format!(
            "`{name}` must be {}, not {type_of}",
            types.join(" or ")
        ));
    }
    if let Some(allowed) = rule["enum"].as_array()
        && !field.is_null()
        && !allowed.contains(field)
    {
        let allowed = Value::Array(allowed.clone());
        return Err(format!("`{name}` must be one of {allowed}"));
    }
    check_bounds(name, rule, field)
}

fn check_bounds(name: &str, rule: &Value, field: &Value) -> Result<(), String> {
    if let Some(n) = field.as_f64() {
        let below = rule["minimum"].as_f64().is_some_and(|min| n < min);
        let above = rule["maximum"].as_f64().is_some_and(|max| n > max);
        if below || above {
            return Err(format!("`{name}` is out of range: {n}"));
        }
    }
    if let Some(text) = field.as_str() {
        let len = text.chars().count() as u64;
        if rule["minLength"].as_u64().is_some_and(|min| len < min)
            || rule["maxLength"].as_u64().is_some_and(|max| len > max)
        {
            return Err(format!("`{name}` has the wrong length ({len} characters)"));
        }
        if rule["format"] == "date-time" && DateTime::parse_from_rfc3339(text).is_err() {
            return Err(format!("`{name}` is not an RFC 3339 date-time: `{text}`"));
        }
    }
    Ok(())
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
