//! The error bodies QuickBooks Online really sends (reference § 2, § 6): the capitalised JSON
//! `Fault` envelope for validation errors, the lowercase envelope on 401/403, and XML for the
//! 429 throttle and for system faults, whatever the `Accept` header asked for.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::clock;

/// An error the emulator answers with.
#[derive(Clone, Debug)]
pub enum Fail {
    /// HTTP 400 `ValidationFault` with Intuit's code, message and detail.
    Validation {
        /// Intuit's error code (a string in the body).
        code: &'static str,
        /// `Message`.
        message: &'static str,
        /// `Detail`.
        detail: String,
        /// `element`.
        element: String,
    },
    /// HTTP 401 in the lowercase envelope (missing, unknown, expired or revoked bearer token).
    Unauthorized(&'static str),
    /// HTTP 403 in the lowercase envelope (token of another company).
    Forbidden,
    /// HTTP 429 with the XML 3001 body.
    Throttled {
        /// Seconds for a Retry-After header (Intuit sends none; tests may ask for one).
        retry_after: Option<u64>,
    },
    /// HTTP 500 `SystemFault` 10000 (XML, as in Intuit's samples).
    System,
    /// HTTP 503, an incident.
    Unavailable,
}

impl Fail {
    /// A 400 with `code`, `message` and `detail`.
    pub fn validation(
        code: &'static str,
        message: &'static str,
        detail: impl Into<String>,
    ) -> Fail {
        Fail::Validation {
            code,
            message,
            detail: detail.into(),
            element: String::new(),
        }
    }

    /// 610: a reference to something that does not exist (or is inactive).
    pub fn not_found(what: &str) -> Fail {
        Fail::validation(
            "610",
            "Object Not Found",
            format!("Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. ({what})"),
        )
    }

    /// 2020: a required field is missing.
    pub fn required(field: &str) -> Fail {
        Fail::Validation {
            code: "2020",
            message: "Required param missing, need to supply the required value for the API",
            detail: format!("Required parameter {field} is missing in the request"),
            element: field.to_string(),
        }
    }

    /// 6240: the name is taken.
    pub fn duplicate_name(name: &str) -> Fail {
        Fail::validation(
            "6240",
            "Duplicate Name Exists Error",
            format!("The name supplied already exists. : Another customer, vendor or employee is already using this name. Please use a different name. Name={name}"),
        )
    }

    /// 5010: the caller's SyncToken is not the current one.
    pub fn stale() -> Fail {
        Fail::validation(
            "5010",
            "Stale Object Error",
            "Stale Object Error : You and erp-bridge sandbox were working on this at the same time. erp-bridge sandbox finished before you did, so your work was not saved.",
        )
    }

    /// 4000: the query did not parse.
    pub fn query_parse(detail: impl Into<String>) -> Fail {
        Fail::validation(
            "4000",
            "Error parsing query",
            format!("QueryParserError: {}", detail.into()),
        )
    }

    /// 4001: the query parsed but asks for something unsupported.
    pub fn invalid_query(detail: impl Into<String>) -> Fail {
        Fail::validation("4001", "Invalid query", detail)
    }

    /// 6000: a business rule was broken.
    pub fn business(detail: impl Into<String>) -> Fail {
        Fail::validation(
            "6000",
            "A business validation error has occurred while processing your request",
            detail,
        )
    }

    /// The JSON `Fault` object (without `time`) for batch items; None for non-validation faults.
    pub fn batch_fault(&self) -> serde_json::Value {
        match self {
            Fail::Validation {
                code,
                message,
                detail,
                element,
            } => json!({
                "type": "ValidationFault",
                "Error": [{ "Message": message, "Detail": detail, "code": code, "element": element }]
            }),
            _ => json!({
                "type": "SystemFault",
                "Error": [{ "Message": "An application error has occurred while processing your request", "Detail": "System Failure Error", "code": "10000", "element": "" }]
            }),
        }
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        match self {
            Fail::Validation { .. } => {
                let body = json!({ "Fault": self.batch_fault(), "time": clock::intuit_time(clock::now()) });
                (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
            }
            Fail::Unauthorized(detail) => lowercase(
                StatusCode::UNAUTHORIZED,
                "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                Some(detail),
                "3200",
                "AUTHENTICATION",
            ),
            Fail::Forbidden => lowercase(
                StatusCode::FORBIDDEN,
                "message=AuthorizationFailed; errorCode=003100; statusCode=403",
                None,
                "3100",
                "SERVICE",
            ),
            Fail::Throttled { retry_after } => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
                     <IntuitResponse time=\"{}\" xmlns=\"http://schema.intuit.com/finance/v3\">\n  \
                     <Fault type=\"SERVICE\">\n    <Error code=\"3001\">\n      \
                     <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>\n      \
                     <Detail>The request limit was reached.  Try again later</Detail>\n    </Error>\n  \
                     </Fault>\n</IntuitResponse>\n",
                    clock::intuit_time(clock::now())
                );
                let mut resp = (StatusCode::TOO_MANY_REQUESTS, xml(), body).into_response();
                if let Some(secs) = retry_after {
                    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                        resp.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                }
                resp
            }
            Fail::System => {
                let body = format!(
                    "<IntuitResponse xmlns=\"http://schema.intuit.com/finance/v3\" time=\"{}\">\n\
                     \t<Fault type=\"SystemFault\">\n\t\t<Error code=\"10000\">\n\
                     \t\t\t<Message>An application error has occurred while processing your request</Message>\n\
                     \t\t\t<Detail>System Failure Error: injected by the erp-bridge sandbox</Detail>\n\
                     \t\t</Error>\n\t</Fault>\n</IntuitResponse>",
                    clock::intuit_time(clock::now())
                );
                (StatusCode::INTERNAL_SERVER_ERROR, xml(), body).into_response()
            }
            Fail::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: the erp-bridge sandbox injected an outage",
            )
                .into_response(),
        }
    }
}

fn xml() -> [(header::HeaderName, &'static str); 1] {
    [(header::CONTENT_TYPE, "application/xml")]
}

fn lowercase(
    status: StatusCode,
    message: &str,
    detail: Option<&str>,
    code: &str,
    kind: &str,
) -> Response {
    let body = json!({
        "warnings": null, "intuitObject": null,
        "fault": { "error": [{ "message": message, "detail": detail, "code": code, "element": null }], "type": kind },
        "report": null, "queryResponse": null, "batchItemResponse": [], "attachableResponse": [],
        "syncErrorResponse": null, "requestId": null, "time": clock::now().timestamp_millis(),
        "status": null, "cdcresponse": []
    });
    (status, axum::Json(body)).into_response()
}
