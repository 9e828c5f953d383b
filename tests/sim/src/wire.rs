//! What the handlers share about HTTP: the request's time, its path segments and query as the
//! simulator reads them, and JSON answers with Amazon's headers and error bodies.
//!
//! It must not know any operation's rules.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::op::Op;
use crate::rate;

/// Times in answers and the log: whole seconds, UTC.
pub(crate) fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Amazon's error body.
pub(crate) fn errors(code: &str, message: &str) -> Value {
    json!({ "errors": [{ "code": code, "message": message }] })
}

/// The body of Amazon's 403 for a call the caller is not authorised for (a bad or expired
/// token, or a role the application lacks), with Amazon's `details` text (often empty).
pub(crate) fn unauthorized(details: &str) -> Value {
    json!({"errors": [{
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": details
    }]})
}

/// The body of a 429.
pub(crate) fn quota_exceeded() -> Value {
    errors(
        "QuotaExceeded",
        "You exceeded your quota for the requested resource.",
    )
}

/// An SP-API handler's answer: a status and a JSON body. The guard in `server` adds the
/// operation's content type and rate headers.
#[derive(Debug)]
pub(crate) struct Answer(pub StatusCode, pub Value);

impl Answer {
    pub(crate) fn ok(body: Value) -> Self {
        Self(StatusCode::OK, body)
    }

    pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Self {
        Self(status, errors(code, message))
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.0,
            [(CONTENT_TYPE, "application/json")],
            self.1.to_string(),
        )
            .into_response()
    }
}

/// `body` as operation `op` answers it, with Amazon's headers.
pub(crate) fn json_response(status: StatusCode, body: &Value, op: Op) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    amazon_headers(&mut resp, op);
    resp
}

/// The headers every SP-API JSON answer carries: the operation's content type, its rate, and a
/// request id.
pub(crate) fn amazon_headers(resp: &mut Response, op: Op) {
    let (rate, _) = rate::limits(op);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(op.content_type()));
    headers.insert(
        HeaderName::from_static("x-amzn-ratelimit-limit"),
        HeaderValue::from_str(&rate.to_string()).expect("a number is a header value"),
    );
    headers.insert(
        HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_static("sim-request"),
    );
}

/// The virtual time a request is served at, stamped once by the log layer so that the log line,
/// the guard and the handler agree on it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now(pub Timestamp);

impl<S: Send + Sync> FromRequestParts<S> for Now {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Now>().copied().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request was not stamped with its time: the log layer is missing",
        ))
    }
}

/// The route's `{…}` segments in order, exactly as sent (still percent-encoded): ids compare
/// byte for byte, and a handler decodes what it needs (the SKU). axum's `Path` would decode
/// them all, and refuse what is not UTF-8.
#[derive(Debug)]
pub(crate) struct Raw<const N: usize>(pub [String; N]);

impl<S: Send + Sync, const N: usize> FromRequestParts<S> for Raw<N> {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(|m| m.as_str())
            .unwrap_or("");
        let segments: Vec<String> = route
            .split('/')
            .zip(parts.uri.path().split('/'))
            .filter(|(r, _)| r.starts_with('{'))
            .map(|(_, s)| s.to_string())
            .collect();
        segments.try_into().map(Raw).map_err(|_| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the route has another number of parameters than the handler takes",
            )
        })
    }
}

/// The query as the simulator reads it: `+` and `%XX` decoded, leniently; the last of a
/// repeated key wins.
#[derive(Debug)]
pub(crate) struct Query(pub BTreeMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Query(
            parts
                .uri
                .query()
                .map(|q| url_pairs(q).into_iter().collect())
                .unwrap_or_default(),
        ))
    }
}

/// The query's parameter names in the order sent, repeats kept (`Query` keeps only the last of
/// a repeated key, so it cannot tell).
#[derive(Debug)]
pub(crate) struct QueryNames(pub Vec<String>);

impl QueryNames {
    /// A 400 InvalidInput for a parameter the operation does not take (`allowed` are its model
    /// parameters) or one sent twice: the models' arrays are comma lists in one parameter.
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), Answer> {
        for (i, name) in self.0.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                return Err(Answer::error(
                    StatusCode::BAD_REQUEST,
                    "InvalidInput",
                    &format!("Unknown query parameter: {name}."),
                ));
            }
            if self.0[..i].contains(name) {
                return Err(Answer::error(
                    StatusCode::BAD_REQUEST,
                    "InvalidInput",
                    &format!("Query parameter {name} is given more than once."),
                ));
            }
        }
        Ok(())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryNames {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryNames(
            parts
                .uri
                .query()
                .map(|q| url_pairs(q).into_iter().map(|(k, _)| k).collect())
                .unwrap_or_default(),
        ))
    }
}

/// The pairs of a query or form body.
pub(crate) fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `+` and `%XX`; a `%` not followed by two hex digits stays as it is.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_never_splits_a_character_and_takes_only_hex_escapes() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("%E3%82%AB"), "カ");
        assert_eq!(percent_decode("%カ"), "%カ");
        assert_eq!(percent_decode("%+1"), "% 1");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
