//! `Query<T>`: the query string as `T`, or a 400 problem naming the parameter at fault.
//!
//! axum's own `Query` answers a bad parameter (`?emergency=maybe`, `?limit=ten`) with a
//! plain-text 400 that names nothing; every list in the API takes its filters through this one
//! instead, so a client gets the same RFC 7807 body as for a bad JSON field.

use crate::ApiError;
use axum::{extract::FromRequestParts, http::request::Parts};
use serde::de::DeserializeOwned;

/// The request's query string, deserialized.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// `query` as `T`; an error names the parameter (the path serde was at when it failed).
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = form_urlencoded::parse(query.as_bytes());
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs)).map_err(|err| {
        let field = err.path().to_string();
        let detail = err.into_inner().to_string();
        ApiError::InvalidParameter {
            field: if field == "." {
                "query".to_owned()
            } else {
                field
            },
            detail,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Filter {
        emergency: Option<bool>,
        limit: Option<u32>,
        q: Option<String>,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::InvalidParameter { field, .. } => field,
            other => panic!("not a parameter problem: {other:?}"),
        }
    }

    #[test]
    fn a_bad_parameter_is_named() {
        let ok: Filter = parse("emergency=true&q=a%20b").unwrap();
        assert_eq!(
            ok,
            Filter {
                emergency: Some(true),
                limit: None,
                q: Some("a b".into())
            }
        );
        assert_eq!(
            field_of(parse::<Filter>("emergency=maybe").unwrap_err()),
            "emergency"
        );
        assert_eq!(
            field_of(parse::<Filter>("q=x&limit=ten").unwrap_err()),
            "limit"
        );
    }
}
