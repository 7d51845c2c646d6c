//! NetSuite's error answers (reference § 3, the error shape and codes; § 5, the 429): a problem
//! document with `o:errorDetails`, the generic 401 for every authentication failure, and the
//! OAuth 2.0 token endpoint's RFC 6749 errors.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

const RFC2616: &str = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html";
/// What every authentication failure says over the wire; the reason is in the audit trail.
pub const INVALID_LOGIN_DETAIL: &str = "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.";

/// A refusal of the REST API.
#[derive(Clone, Debug, PartialEq)]
pub enum Fail {
    /// 401 `INVALID_LOGIN`, the same for every cause.
    InvalidLogin,
    /// 400 `INVALID_CONTENT`: a field's value, at `path` (`item.items[0].item`).
    InvalidContent { detail: String, path: String },
    /// 400 `INVALID_REQUEST`: a request that cannot be understood.
    InvalidRequest(String),
    /// 400 `INVALID_PARAMETER`: a query parameter (`limit`, `offset`) or a SuiteQL query
    /// (`q`) that cannot be used, named in `o:errorQueryParam`.
    InvalidParameter {
        detail: String,
        param: Option<String>,
    },
    /// 404 `NONEXISTENT_ID`.
    NonexistentId,
    /// 429 `CONCURRENCY_LIMIT_EXCEEDED`.
    ConcurrencyLimit,
    /// 500 `UNEXPECTED_ERROR`.
    Unexpected,
    /// 400 `USER_ERROR`: a business rule (a record locked by another process, …).
    UserError(String),
}

impl Fail {
    fn status(&self) -> StatusCode {
        match self {
            Fail::InvalidLogin => StatusCode::UNAUTHORIZED,
            Fail::InvalidContent { .. }
            | Fail::InvalidRequest(_)
            | Fail::InvalidParameter { .. }
            | Fail::UserError(_) => StatusCode::BAD_REQUEST,
            Fail::NonexistentId => StatusCode::NOT_FOUND,
            Fail::ConcurrencyLimit => StatusCode::TOO_MANY_REQUESTS,
            Fail::Unexpected => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document, as NetSuite writes it.
    pub fn body(&self) -> Value {
        let status = self.status();
        let (detail, code, path) = match self {
            Fail::InvalidLogin => (INVALID_LOGIN_DETAIL.to_string(), "INVALID_LOGIN", None),
            Fail::InvalidContent { detail, path } => {
                (detail.clone(), "INVALID_CONTENT", Some(path.clone()))
            }
            Fail::InvalidRequest(d) => (d.clone(), "INVALID_REQUEST", None),
            Fail::InvalidParameter { detail, .. } => (detail.clone(), "INVALID_PARAMETER", None),
            Fail::NonexistentId => ("Record does not exist.".to_string(), "NONEXISTENT_ID", None),
            Fail::ConcurrencyLimit => (
                "Concurrent request limit exceeded. Request blocked.".to_string(),
                "CONCURRENCY_LIMIT_EXCEEDED",
                None,
            ),
            Fail::Unexpected => (
                format!("An unexpected error occurred. Error ID: {}", error_id()),
                "UNEXPECTED_ERROR",
                None,
            ),
            Fail::UserError(d) => (d.clone(), "USER_ERROR", None),
        };
        let mut item = json!({ "detail": detail, "o:errorCode": code });
        if let Some(p) = path {
            item["o:errorPath"] = json!(p);
        }
        if let Fail::InvalidParameter { param: Some(p), .. } = self {
            item["o:errorQueryParam"] = json!(p);
        }
        // The 429 says "Bad Request" and carries a top-level code too (reference § 5).
        let title = match self {
            Fail::ConcurrencyLimit => "Bad Request",
            _ => status.canonical_reason().unwrap_or("Error"),
        };
        // Oracle's samples name the section of a field-value refusal; the others the page.
        let kind = match self {
            Fail::InvalidContent { .. } => format!("{RFC2616}#sec10.4.1"),
            _ => RFC2616.to_string(),
        };
        let mut body = json!({
            "type": kind,
            "title": title,
            "status": status.as_u16(),
            "o:errorDetails": [item],
        });
        if *self == Fail::ConcurrencyLimit {
            body["o:errorCode"] = json!("USER_ERROR");
        }
        body
    }
}

/// An error id as NetSuite prints them: 20 lowercase letters.
fn error_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

impl From<sqlx::Error> for Fail {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "NetSuite sandbox storage failed");
        Fail::Unexpected
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), axum::Json(self.body())).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.oracle.resource+json; type=error"),
        );
        if self == Fail::InvalidLogin {
            // A bearer token's refusal also names itself in WWW-Authenticate (reference § 1b).
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer error=\"invalid_token\", error_description=\"Invalid login attempt.\"",
                ),
            );
        }
        resp
    }
}

/// An OAuth 2.0 token endpoint error (RFC 6749 § 5.2). NetSuite's exact bodies here are
/// UNCONFIRMED: the RFC's shape is the conservative choice, and the audit trail has the reason.
pub fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}
